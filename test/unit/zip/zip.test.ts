// The zip reader on real Keras 3 `.keras` archives: entries, CRC-checked reads, model.weights.h5 read
// in place through a FileSource view, and damaged copies (only ModelReadError may come out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Dataset, Hdf5File } from '../../../src/core/formats/hdf5/file';
import { crc32, crc32Fallback } from '../../../src/core/formats/zip/crc32';
import { MemoryFileSource, ZipArchive } from '../../../src/core/formats/zip/zip';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { repoRoot } from '../../helpers/paths';
import { generatedFixtureNames, readExpected, type ExpectedKey } from '../checkpoint/fixtures';
import { copyInto, expectModelReadError, mutate, onlyModelReadError, rng, tempDir } from '../checkpoint/damage';

interface KerasFixture {
  readonly name: string;
  readonly dir: string;
  readonly file: string;
  readonly keys: readonly ExpectedKey[];
}

function kerasFixtures(): KerasFixture[] {
  const out: KerasFixture[] = [];
  for (const name of generatedFixtureNames()) {
    const exp = readExpected(name);
    const a = exp?.artifacts?.find((x) => x.format === 'keras3-keras') ?? (exp?.format === 'keras3-keras' ? { path: exp.path, checkpointKeys: exp.checkpointKeys } : undefined);
    if (!a || !a.path.endsWith('.keras') || !existsSync(path.join(repoRoot, a.path))) continue;
    const abs = path.join(repoRoot, a.path);
    out.push({ name, dir: path.dirname(abs), file: path.basename(abs), keys: a.checkpointKeys ?? exp?.checkpointKeys ?? [] });
  }
  return out;
}

const fixtures = kerasFixtures();
const skip = fixtures.length === 0;

test('crc32: the native and the table implementations agree with the standard check value', () => {
  const ascii = new TextEncoder().encode('123456789');
  assert.equal(crc32(ascii), 0xcbf43926);
  assert.equal(crc32Fallback(0, ascii), 0xcbf43926);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
  assert.equal(crc32(data), crc32Fallback(0, data));
});

test('.keras archives: entries, CRC-checked JSON, and model.weights.h5 read in place match expected.json', { skip }, async (t) => {
  for (const f of fixtures) {
    const t0 = performance.now();
    const zip = await ZipArchive.open(new NodeFileSource(f.dir), f.file);
    const names = zip.entries().map((e) => e.name).sort();
    assert.deepEqual(names, ['config.json', 'metadata.json', 'model.weights.h5'], f.name);
    const weights = zip.entry('model.weights.h5')!;
    assert.equal(weights.method, 0, 'Keras stores model.weights.h5 uncompressed');
    const h = await Hdf5File.open(zip.fileSource(), 'model.weights.h5', { displayName: `${f.file}/model.weights.h5` });
    const datasets = await h.datasets();
    const elapsed = performance.now() - t0;
    const mine = datasets.map((d) => ({ key: d.path.slice(1), shape: [...d.shape], dtype: d.dtype })).sort((a, b) => (a.key < b.key ? -1 : 1));
    const theirs = f.keys.map((k) => ({ key: k.key, shape: [...k.shape], dtype: k.dtype })).sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.deepEqual(mine, theirs, f.name);
    for (const d of datasets) await d.read();
    const config = JSON.parse(new TextDecoder().decode(await zip.read('config.json'))) as { class_name: string };
    assert.ok(['Functional', 'Sequential'].includes(config.class_name));
    const meta = JSON.parse(new TextDecoder().decode(await zip.read('metadata.json'))) as { keras_version: string };
    assert.match(meta.keras_version, /^3\./);
    t.diagnostic(`${f.name}: open zip + HDF5 structure (${datasets.length} datasets) ${elapsed.toFixed(1)} ms`);
  }
});

test('the archive FileSource: stat, list, read, readRange; the same HDF5 from memory', { skip }, async () => {
  const f = fixtures[0]!;
  const zip = await ZipArchive.open(new NodeFileSource(f.dir), f.file);
  const fs = zip.fileSource();
  assert.deepEqual((await fs.list('')).sort(), ['config.json', 'metadata.json', 'model.weights.h5']);
  assert.deepEqual(await fs.stat(''), { size: 0, isDirectory: true });
  assert.equal(await fs.stat('nope'), null);
  const size = zip.entry('model.weights.h5')!.uncompressedSize;
  assert.deepEqual(await fs.stat('model.weights.h5'), { size, isDirectory: false });
  const whole = await fs.read('model.weights.h5');
  assert.equal(whole.length, size);
  assert.deepEqual(await fs.readRange('model.weights.h5', 100, 50), whole.subarray(100, 150));
  assert.equal((await fs.readRange('model.weights.h5', size - 10, 100)).length, 10, 'short read at end of entry');
  const fromMemory = await Hdf5File.open(new MemoryFileSource({ 'w.h5': whole }), 'w.h5');
  const fromZip = await Hdf5File.open(fs, 'model.weights.h5');
  assert.deepEqual((await fromMemory.datasets()).map((d) => d.path), (await fromZip.datasets()).map((d) => d.path));
  const a = (await fromMemory.datasets())[0] as Dataset;
  const b = (await fromZip.datasets())[0] as Dataset;
  assert.deepEqual(Array.from((await a.read()).data as Float32Array), Array.from((await b.read()).data as Float32Array));
  await expectModelReadError(() => zip.read('nope'), { reason: 'missing-entry', file: f.file });
});

/** A damaged copy of the first .keras fixture. */
function damagedCopy(fn: (b: Uint8Array) => Uint8Array | void): { src: NodeFileSource; file: string; cleanup: () => void } {
  const f = fixtures[0]!;
  const { dir, cleanup } = tempDir('fi-zip-');
  const file = copyInto(path.join(f.dir, f.file), dir);
  const b = new Uint8Array(readFileSync(file));
  writeFileSync(file, fn(b) ?? b);
  return { src: new NodeFileSource(dir), file: f.file, cleanup };
}

/** Offset of the central directory entry of `name` (archives without a comment). */
function centralEntry(b: Uint8Array, name: string): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = b.length - 22;
  assert.equal(v.getUint32(eocd, true), 0x06054b50);
  let p = v.getUint32(eocd + 16, true);
  for (;;) {
    assert.equal(v.getUint32(p, true), 0x02014b50);
    const n = v.getUint16(p + 28, true);
    if (new TextDecoder().decode(b.subarray(p + 46, p + 46 + n)) === name) return p;
    p += 46 + n + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
}

test('damaged archives: CRC, truncation, unknown method, limits, bad offsets', { skip }, async () => {
  const probe = await ZipArchive.open(new NodeFileSource(fixtures[0]!.dir), fixtures[0]!.file);
  const configData = await probe.dataOffset('config.json');
  const cases: { damage: (b: Uint8Array) => Uint8Array | void; run: (z: () => Promise<ZipArchive>) => Promise<unknown>; reason: string; message: RegExp | string }[] = [
    { damage: (b) => void (b[configData + 10] = b[configData + 10]! ^ 1), run: async (z) => (await z()).read('config.json'), reason: 'crc-mismatch', message: /entry "config.json": CRC-32 mismatch/ },
    { damage: (b) => b.subarray(0, b.length - 30), run: (z) => z(), reason: 'bad-zip', message: 'end of central directory record not found' },
    { damage: (b) => void new DataView(b.buffer).setUint16(centralEntry(b, 'config.json') + 10, 12, true), run: async (z) => (await z()).read('config.json'), reason: 'unsupported', message: 'compression method 12' },
    { damage: (b) => void new DataView(b.buffer).setUint32(centralEntry(b, 'metadata.json') + 42, 0x7fffff00, true), run: (z) => z(), reason: 'bad-zip', message: /local header offset \d+ lies beyond/ },
    { damage: (b) => void new DataView(b.buffer).setUint32(b.length - 22 + 16, 0x7fffff00, true), run: (z) => z(), reason: 'bad-zip', message: /central directory .* lies beyond/ },
    { damage: (b) => void new DataView(b.buffer).setUint16(b.length - 22 + 10, 60000, true), run: (z) => z(), reason: 'bad-zip', message: 'cannot hold 60000 entries' },
  ];
  for (const c of cases) {
    const d = damagedCopy(c.damage);
    try {
      await expectModelReadError(() => c.run(() => ZipArchive.open(d.src, d.file)), { reason: c.reason, file: d.file, message: c.message });
    } finally {
      d.cleanup();
    }
  }
  // A stored entry relabelled as deflate: inflating stored bytes fails or mismatches the CRC.
  const relabel = damagedCopy((b) => void new DataView(b.buffer).setUint16(centralEntry(b, 'config.json') + 10, 8, true));
  try {
    const z = await ZipArchive.open(relabel.src, relabel.file);
    const err = await expectModelReadError(() => z.read('config.json'), { file: relabel.file });
    assert.ok(['bad-deflate', 'bad-zip', 'crc-mismatch'].includes(err.reason), err.message);
    await expectModelReadError(async () => (await ZipArchive.open(relabel.src, relabel.file, { maxInflatedBytes: 100 })).read('config.json'), { reason: 'too-large', message: /over the limit of 100/ });
  } finally {
    relabel.cleanup();
  }
  await expectModelReadError(() => ZipArchive.open(new NodeFileSource(fixtures[0]!.dir), fixtures[0]!.file, { maxEntries: 2 }), { reason: 'too-many-entries', message: '3 entries exceed the limit of 2' });
});

test('fuzz: 400 random byte flips of a real .keras yield only ModelReadError', { skip, timeout: 300_000 }, async (t) => {
  const f = fixtures[0]!;
  const bytes = new Uint8Array(readFileSync(path.join(f.dir, f.file)));
  const zip = await ZipArchive.open(new NodeFileSource(f.dir), f.file);
  const h5Start = await zip.dataOffset('model.weights.h5');
  const random = rng(2024);
  const reasons = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    // A quarter each: the directory and end records, the local headers + JSON, the HDF5 metadata, anywhere.
    const region = i % 4;
    const [from, to] = region === 0 ? [Math.max(0, bytes.length - 300), bytes.length] : region === 1 ? [0, h5Start] : region === 2 ? [h5Start, h5Start + 4000] : [0, bytes.length];
    const src = new MemoryFileSource({ [f.file]: mutate(bytes, random, 3, from, to) });
    const err = await onlyModelReadError(async () => {
      const z = await ZipArchive.open(src, f.file);
      for (const e of z.entries()) await onlyModelReadError(() => z.read(e.name), `mutation ${i} read ${e.name}`);
      const h = await Hdf5File.open(z.fileSource(), 'model.weights.h5');
      await h.root.walk(async (o) => {
        await onlyModelReadError(() => o.attrs(), `mutation ${i} attrs`);
        if (o instanceof Dataset) await onlyModelReadError(() => o.read(), `mutation ${i} read ${o.path}`);
      });
    }, `mutation ${i}`);
    if (err) reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
  }
  t.diagnostic(`reasons: ${JSON.stringify(Object.fromEntries(reasons))}`);
  assert.ok(reasons.size >= 3);
});
