// CRC-32C (with TensorFlow's masking) and raw Snappy, checked on published test vectors and on the
// blocks of real TensorFlow index files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { crc32c, crc32cExtend, maskCrc, unmaskCrc } from '../../../src/core/formats/checkpoint/crc32c';
import { snappyDecompress, snappyUncompressedLength } from '../../../src/core/formats/checkpoint/snappy';
import { parseBlock, readU32, SsTable } from '../../../src/core/formats/checkpoint/table';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { hasSharedFixtures, sharedReal } from '../../helpers/paths';
import { sharedBundles, generatedBundles } from './fixtures';
import { expectModelReadError } from './damage';

test('crc32c matches the RFC 3720 (iSCSI) check values', () => {
  const ascii = new TextEncoder().encode('123456789');
  assert.equal(crc32c(ascii), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('crc32c: extending in pieces equals one pass, for every split of an odd-length buffer', () => {
  const data = Uint8Array.from({ length: 77 }, (_, i) => (i * 37 + 11) & 0xff);
  const whole = crc32c(data);
  for (let split = 0; split <= data.length; split++) {
    assert.equal(crc32cExtend(crc32cExtend(0, data, 0, split), data, split), whole, `split at ${split}`);
  }
});

test('mask/unmask are inverse and follow ((crc >>> 15) | (crc << 17)) + 0xa282ead8', () => {
  for (const v of [0, 1, 0x80000000, 0xffffffff, 0xe3069283, 0x12345678]) {
    const m = maskCrc(v);
    assert.equal(m, ((((v >>> 15) | (v << 17)) >>> 0) + 0xa282ead8) >>> 0);
    assert.equal(unmaskCrc(m), v);
  }
});

test('every block trailer of every real index carries the masked CRC-32C of contents + type', { skip: !hasSharedFixtures && generatedBundles().length === 0 }, async () => {
  let blocks = 0;
  for (const f of [...sharedBundles(), ...generatedBundles()]) {
    const src = new NodeFileSource(f.root);
    const rel = `${f.prefix}.index`;
    const bytes = await src.read(rel);
    const table = await SsTable.open(src, rel);
    for (const h of [...(await table.dataBlockHandles()), table.indexHandle, table.metaindexHandle]) {
      const stored = readU32(bytes, h.offset + h.size + 1);
      assert.equal(maskCrc(crc32c(bytes, h.offset, h.offset + h.size + 1)), stored, `${f.name} block at ${h.offset}`);
      blocks++;
    }
  }
  assert.ok(blocks > 10);
});

/** The snappy-compressed data block of TF Serving's half_plus_two index (written by TensorFlow 1.14). */
async function halfPlusTwoSnappyBlock(): Promise<{ bytes: Uint8Array; offset: number; size: number }> {
  const root = sharedReal('serving_half_plus_two_cpu');
  const src = new NodeFileSource(root);
  const table = await SsTable.open(src, 'variables/variables.index');
  const [h] = await table.dataBlockHandles();
  const bytes = new Uint8Array(readFileSync(sharedReal('serving_half_plus_two_cpu', 'variables', 'variables.index')));
  assert.equal(bytes[h!.offset + h!.size], 1, 'the data block is snappy-compressed');
  return { bytes, offset: h!.offset, size: h!.size };
}

test('snappy: the compressed block of half_plus_two decodes to a well-formed table block', { skip: !hasSharedFixtures }, async () => {
  const { bytes, offset, size } = await halfPlusTwoSnappyBlock();
  const packed = bytes.subarray(offset, offset + size);
  const { length } = snappyUncompressedLength(packed, 'x');
  const block = snappyDecompress(packed, 'variables/variables.index');
  assert.equal(block.length, length);
  assert.ok(block.length > packed.length, 'it really was compressed');
  const keys = parseBlock(block, 'variables/variables.index', 'data block').map((e) => new TextDecoder().decode(e.key));
  assert.deepEqual(keys, ['', 'a', 'a2', 'b', 'c', 'c2']);
});

test('snappy: corrupted lengths and offsets are ModelReadErrors, never out-of-range reads', { skip: !hasSharedFixtures }, async () => {
  const { bytes, offset, size } = await halfPlusTwoSnappyBlock();
  const packed = bytes.slice(offset, offset + size);
  const file = 'variables/variables.index';
  // Declared length larger than anything the stream can produce.
  const bigLen = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, ...packed.subarray(1)]);
  await expectModelReadError(async () => snappyDecompress(bigLen, file), { reason: 'bad-snappy', file });
  // Preamble cut short.
  await expectModelReadError(async () => snappyDecompress(Uint8Array.from([0x80, 0x80]), file), { reason: 'bad-snappy' });
  // Truncated stream: output shorter than declared.
  await expectModelReadError(async () => snappyDecompress(packed.subarray(0, packed.length - 3), file), { reason: 'bad-snappy' });
  // Every single-byte change of the stream either decodes (to other bytes) or fails with bad-snappy.
  const start = snappyUncompressedLength(packed, file).start;
  for (let i = start; i < packed.length; i++) {
    for (const v of [0x00, 0xff, packed[i]! ^ 0x40, packed[i]! ^ 0x03]) {
      const bad = packed.slice();
      bad[i] = v;
      try {
        snappyDecompress(bad, file);
      } catch (e) {
        assert.equal((e as { reason?: string }).reason, 'bad-snappy', `byte ${i} = ${v}: ${(e as Error).message}`);
      }
    }
  }
  // A copy before any output is an invalid offset.
  await expectModelReadError(async () => snappyDecompress(Uint8Array.from([0x04, 0x01, 0x01]), file), { message: /copy offset 1 is invalid/ });
});
