// Damaged copies of real checkpoints: every failure is a ModelReadError naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CheckpointReader } from '../../../src/core/formats/checkpoint/checkpoint';
import { crc32c, maskCrc } from '../../../src/core/formats/checkpoint/crc32c';
import { SsTable } from '../../../src/core/formats/checkpoint/table';
import { MemoryFileSource } from '../../../src/core/formats/zip/zip';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { hasSharedFixtures, sharedReal } from '../../helpers/paths';
import { copyInto, expectModelReadError, mutate, onlyModelReadError, rng, tempDir } from './damage';

const INDEX = 'variables/variables.index';
const DATA = 'variables/variables.data-00000-of-00001';
const skip = !hasSharedFixtures;

/** Copies a shared model to a temp dir, lets `damage` edit it, and returns a source over the copy. */
async function damaged(model: string, damage: (dir: string) => void | Promise<void>): Promise<{ src: NodeFileSource; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const copy = copyInto(sharedReal(model), dir);
  await damage(copy);
  return { src: new NodeFileSource(copy), cleanup };
}

function edit(file: string, fn: (b: Uint8Array) => Uint8Array | void): void {
  const b = new Uint8Array(readFileSync(file));
  const out = fn(b) ?? b;
  writeFileSync(file, out);
}

test('a flipped byte inside a block is a crc-mismatch naming variables/variables.index', { skip }, async () => {
  const { src, cleanup } = await damaged('openmv_mobilenet_bn', (d) => edit(path.join(d, INDEX), (b) => void (b[100] = b[100]! ^ 0x10)));
  try {
    const err = await expectModelReadError(() => CheckpointReader.open(src, 'variables/variables'), { reason: 'crc-mismatch', file: INDEX });
    assert.match(err.message, /checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
  } finally {
    cleanup();
  }
});

test('wrong magic, truncated index and a too-short file', { skip }, async () => {
  const wrongMagic = await damaged('openmv_mobilenet_bn', (d) => edit(path.join(d, INDEX), (b) => void (b[b.length - 1] = 0)));
  const truncated = await damaged('openmv_mobilenet_bn', (d) => truncateSync(path.join(d, INDEX), 15000));
  const tiny = await damaged('openmv_mobilenet_bn', (d) => truncateSync(path.join(d, INDEX), 20));
  try {
    await expectModelReadError(() => CheckpointReader.open(wrongMagic.src, 'variables/variables'), { reason: 'bad-magic', file: INDEX, message: /footer magic is 0x00/ });
    // Cutting the file moves the footer: what remains at the end is not a footer.
    await expectModelReadError(() => CheckpointReader.open(truncated.src, 'variables/variables'), { reason: 'bad-magic', file: INDEX });
    await expectModelReadError(() => CheckpointReader.open(tiny.src, 'variables/variables'), { reason: 'truncated', file: INDEX, message: '20 bytes' });
  } finally {
    wrongMagic.cleanup();
    truncated.cleanup();
    tiny.cleanup();
  }
});

test('a huge declared block size (footer handle) is rejected before any allocation', { skip }, async () => {
  const { src, cleanup } = await damaged('openmv_mobilenet_bn', (d) =>
    edit(path.join(d, INDEX), (b) => {
      // Rewrite the footer: metaindex handle unchanged, index handle = (offset, 2^40) as varints.
      const footer = b.length - 48;
      const out = b.slice();
      let p = footer;
      const skipVarint = (): void => {
        while (out[p]! & 0x80) p++;
        p++;
      };
      skipVarint();
      skipVarint();
      skipVarint(); // index offset
      const big = [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]; // 2^40
      out.set(big, p);
      out.fill(0, p + big.length, b.length - 8);
      return out;
    }),
  );
  try {
    await expectModelReadError(() => CheckpointReader.open(src, 'variables/variables'), { reason: 'bad-block-handle', file: INDEX, message: /size 1099511627776 does not fit/ });
  } finally {
    cleanup();
  }
});

/** Rewrites the data block of half_plus_two (snappy) with `fn` applied to its bytes, fixing the CRC so the damage reaches the decoder. */
async function rewriteSnappyBlock(fn: (block: Uint8Array, typeAt: number) => void): Promise<{ src: NodeFileSource; cleanup: () => void }> {
  const table = await SsTable.open(new NodeFileSource(sharedReal('serving_half_plus_two_cpu')), INDEX);
  const [h] = await table.dataBlockHandles();
  return damaged('serving_half_plus_two_cpu', (d) =>
    edit(path.join(d, INDEX), (b) => {
      fn(b.subarray(h!.offset, h!.offset + h!.size + 1), h!.size);
      const crc = maskCrc(crc32c(b, h!.offset, h!.offset + h!.size + 1));
      new DataView(b.buffer, b.byteOffset).setUint32(h!.offset + h!.size + 1, crc, true);
    }),
  );
}

test('a bad snappy stream (with a valid CRC) is a bad-snappy error', { skip }, async () => {
  // Byte 1 is the first literal tag: make it claim 60+ bytes of literal.
  const { src, cleanup } = await rewriteSnappyBlock((blk) => void (blk[1] = 0xfc));
  try {
    await expectModelReadError(() => CheckpointReader.open(src, 'variables/variables'), { reason: 'bad-snappy', file: INDEX, message: /corrupted snappy block/ });
  } finally {
    cleanup();
  }
});

test('an unknown block compression type is quoted', { skip }, async () => {
  const { src, cleanup } = await rewriteSnappyBlock((blk, typeAt) => void (blk[typeAt] = 7));
  try {
    await expectModelReadError(() => CheckpointReader.open(src, 'variables/variables'), { reason: 'bad-compression', file: INDEX, message: 'unsupported block compression 7' });
  } finally {
    cleanup();
  }
});

test('a truncated data shard: entries beyond its end are out-of-bounds errors naming the data file', { skip }, async () => {
  const { src, cleanup } = await damaged('openmv_mobilenet_bn', (d) => truncateSync(path.join(d, DATA), 1000));
  try {
    const ck = await CheckpointReader.open(src, 'variables/variables');
    const far = ck.entries().find((e) => e.offset + e.size > 1000)!;
    await expectModelReadError(() => ck.readRaw(far.key), { reason: 'out-of-bounds', file: DATA, message: /but the file has 1000 bytes/ });
  } finally {
    cleanup();
  }
});

test('a flipped byte in the data shard is a crc-mismatch on that tensor only', { skip }, async () => {
  const probe = await CheckpointReader.open(new NodeFileSource(sharedReal('openmv_mobilenet_bn')), 'variables/variables');
  const victim = probe.entries().find((e) => e.dtype === 'float32' && e.size > 64)!;
  const other = probe.entries().find((e) => e.dtype === 'float32' && e.key !== victim.key && (e.offset >= victim.offset + victim.size || e.offset + e.size <= victim.offset))!;
  const { src, cleanup } = await damaged('openmv_mobilenet_bn', (d) => edit(path.join(d, DATA), (b) => void (b[victim.offset + 7] = b[victim.offset + 7]! ^ 0x01)));
  try {
    const ck = await CheckpointReader.open(src, 'variables/variables');
    await expectModelReadError(() => ck.readTensor(victim.key), { reason: 'crc-mismatch', file: DATA });
    await ck.readTensor(other.key);
  } finally {
    cleanup();
  }
});

test('a damaged string tensor (object graph) fails its length checksum', { skip }, async () => {
  const probe = await CheckpointReader.open(new NodeFileSource(sharedReal('openmv_mobilenet_bn')), 'variables/variables');
  const og = probe.entry('_CHECKPOINTABLE_OBJECT_GRAPH')!;
  const { src, cleanup } = await damaged('openmv_mobilenet_bn', (d) => edit(path.join(d, DATA), (b) => void (b[og.offset] = b[og.offset]! ^ 0x01)));
  try {
    const ck = await CheckpointReader.open(src, 'variables/variables');
    await expectModelReadError(() => ck.readObjectGraphBytes(), { reason: 'crc-mismatch', file: DATA });
  } finally {
    cleanup();
  }
});

test('fuzz: 600 random byte flips of real index files yield only ModelReadError (or a readable table)', { skip, timeout: 120_000 }, async (t) => {
  const models = ['openmv_mobilenet_bn', 'kws_dscnn_bn_tf24', 'serving_half_plus_two_cpu', 'vespa_modelv1'];
  let errors = 0;
  let opened = 0;
  const reasons = new Map<string, number>();
  for (const model of models) {
    const index = new Uint8Array(readFileSync(sharedReal(model, 'variables', 'variables.index')));
    const data = new Uint8Array(readFileSync(sharedReal(model, 'variables', 'variables.data-00000-of-00001')));
    const random = rng(0x5eed + model.length);
    for (let i = 0; i < 150; i++) {
      // Half the mutations hit the footer and the index block, where one byte changes the most.
      const from = i % 2 === 0 ? Math.max(0, index.length - 200) : 0;
      const bad = mutate(index, random, 4, from);
      const src = new MemoryFileSource({ [`variables/variables.index`]: bad, [DATA]: data });
      const err = await onlyModelReadError(async () => {
        const ck = await CheckpointReader.open(src, 'variables/variables');
        opened++;
        for (const e of ck.entries()) {
          await onlyModelReadError(() => ck.readTensor(e.key), `${model} mutation ${i} readTensor ${e.key}`);
        }
      }, `${model} mutation ${i}`);
      if (err) {
        errors++;
        reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
        assert.ok(err.message.length > err.file.length + 2);
      }
    }
  }
  t.diagnostic(`${errors} ModelReadErrors, ${opened} mutated indexes still opened; reasons: ${JSON.stringify(Object.fromEntries(reasons))}`);
  assert.ok(errors > 300);
});

test('fuzz: 600 flips inside blocks with CRCs repaired (reaching the block, snappy and protobuf decoders)', { skip, timeout: 120_000 }, async (t) => {
  const models = ['openmv_mobilenet_bn', 'serving_half_plus_two_cpu', 'rust_regression_tf25_module'];
  const reasons = new Map<string, number>();
  let opened = 0;
  for (const model of models) {
    const index = new Uint8Array(readFileSync(sharedReal(model, 'variables', 'variables.index')));
    const data = new Uint8Array(readFileSync(sharedReal(model, 'variables', 'variables.data-00000-of-00001')));
    const table = await SsTable.open(new NodeFileSource(sharedReal(model)), INDEX);
    const blocks = [...(await table.dataBlockHandles()), table.indexHandle];
    const random = rng(7 + model.length);
    for (let i = 0; i < 200; i++) {
      const h = blocks[Math.floor(random() * blocks.length)]!;
      const bad = mutate(index, random, 3, h.offset, h.offset + h.size);
      new DataView(bad.buffer).setUint32(h.offset + h.size + 1, maskCrc(crc32c(bad, h.offset, h.offset + h.size + 1)), true);
      const src = new MemoryFileSource({ [INDEX]: bad, [DATA]: data });
      const err = await onlyModelReadError(async () => {
        const ck = await CheckpointReader.open(src, 'variables/variables');
        opened++;
        for (const e of ck.entries()) await onlyModelReadError(() => ck.readTensor(e.key), `${model} mutation ${i} readTensor`);
      }, `${model} repaired-CRC mutation ${i}`);
      if (err) reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
    }
  }
  t.diagnostic(`${opened} still opened; reasons: ${JSON.stringify(Object.fromEntries(reasons))}`);
  assert.ok(reasons.size >= 3, 'the damage reached several decoders');
});

test('fuzz: 300 random byte flips of a real data shard yield only ModelReadError', { skip, timeout: 120_000 }, async () => {
  const index = new Uint8Array(readFileSync(sharedReal('kws_dscnn_bn_tf24', 'variables', 'variables.index')));
  const data = new Uint8Array(readFileSync(sharedReal('kws_dscnn_bn_tf24', 'variables', 'variables.data-00000-of-00001')));
  const random = rng(42);
  let crcErrors = 0;
  for (let i = 0; i < 300; i++) {
    const src = new MemoryFileSource({ 'variables/variables.index': index, [DATA]: mutate(data, random, 2) });
    const ck = await CheckpointReader.open(src, 'variables/variables');
    for (const e of ck.entries()) {
      const err = await onlyModelReadError(() => ck.readTensor(e.key), `data mutation ${i} ${e.key}`);
      if (err) {
        assert.equal(err.reason, 'crc-mismatch');
        crcErrors++;
      }
    }
  }
  assert.ok(crcErrors >= 250, `${crcErrors} CRC mismatches detected`);
});
