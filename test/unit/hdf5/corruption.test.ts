// Damaged copies of real Keras .h5 files: truncation, wrong signature, addresses beyond EOF, cyclic
// B-trees and object headers, huge declared sizes, and random byte flips. Only ModelReadError may come
// out, and nothing may hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Dataset, Group, Hdf5File } from '../../../src/core/formats/hdf5/file';
import { MemoryFileSource } from '../../../src/core/formats/zip/zip';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { generated, hasSharedFixtures, sharedReal } from '../../helpers/paths';
import { copyInto, expectModelReadError, mutate, onlyModelReadError, rng, tempDir } from '../checkpoint/damage';

const RESNET = () => sharedReal('h5_tiny_resnet8_bn', 'pretrainedResnet.h5');
const skip = !hasSharedFixtures;
const FILE = 'pretrainedResnet.h5';

/** A damaged copy of pretrainedResnet.h5 in a temp dir. */
function damagedCopy(fn: (b: Uint8Array, file: string) => Uint8Array | void): { src: NodeFileSource; cleanup: () => void } {
  const { dir, cleanup } = tempDir('fi-h5-');
  const file = copyInto(RESNET(), dir);
  const b = new Uint8Array(readFileSync(file));
  const out = fn(b, file) ?? b;
  if (existsSync(file)) writeFileSync(file, out);
  return { src: new NodeFileSource(dir), cleanup };
}

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const find = (b: Uint8Array, sig: string, from = 0): number => Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(sig, from, 'latin1');

/** Messages of the first block of a version 1 object header at `addr` (file offsets; base address 0). */
function v1Messages(b: Uint8Array, addr: number): { type: number; size: number; data: number }[] {
  const v = view(b);
  assert.equal(b[addr], 1, 'a version 1 object header');
  const size = v.getUint32(addr + 8, true);
  const out = [];
  for (let p = addr + 16; p + 8 <= addr + 16 + size; ) {
    const type = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    out.push({ type, size: len, data: p + 8 });
    p += 8 + len;
  }
  return out;
}

/** Superblock v0 with 8-byte offsets: the root object header address sits at byte 64. */
const rootAddress = (b: Uint8Array): number => Number(view(b).getBigUint64(64, true));

async function walkAll(h: Hdf5File): Promise<number> {
  let n = 0;
  await h.root.walk(async (o) => {
    n++;
    await o.attrs();
    if (o instanceof Dataset) await o.read();
  });
  return n;
}

test('a truncated file is reported as truncated, with both sizes', { skip }, async () => {
  const { dir, cleanup } = tempDir('fi-h5-');
  try {
    const file = copyInto(RESNET(), dir);
    truncateSync(file, 600_000);
    await expectModelReadError(() => Hdf5File.open(new NodeFileSource(dir), FILE), { reason: 'truncated', file: FILE, message: /600000 bytes, but the superblock says it ends at 1116712/ });
  } finally {
    cleanup();
  }
});

test('a wrong signature, an empty file and a non-HDF5 file are rejected', { skip }, async () => {
  const wrong = damagedCopy((b) => void (b[1] = 0x58));
  const empty = damagedCopy(() => new Uint8Array(0));
  try {
    await expectModelReadError(() => Hdf5File.open(wrong.src, FILE), { reason: 'bad-signature', file: FILE, message: 'no HDF5 signature at offset 0, 512, 1024' });
    await expectModelReadError(() => Hdf5File.open(empty.src, FILE), { reason: 'bad-signature', message: 'file is 0 bytes' });
    await expectModelReadError(() => Hdf5File.open(new NodeFileSource(sharedReal('openmv_mobilenet_bn')), 'saved_model.pb'), { reason: 'bad-signature' });
    await expectModelReadError(() => Hdf5File.open(new NodeFileSource(sharedReal('openmv_mobilenet_bn')), 'missing.h5'), { reason: 'missing-file' });
  } finally {
    wrong.cleanup();
    empty.cleanup();
  }
});

test('a root object header address beyond the end of the file', { skip }, async () => {
  const { src, cleanup } = damagedCopy((b) => view(b).setBigUint64(64, 0x7fff_fff0n, true));
  try {
    await expectModelReadError(() => Hdf5File.open(src, FILE), { reason: 'out-of-bounds', file: FILE, message: /beyond the end of the 1116712-byte file/ });
  } finally {
    cleanup();
  }
});

test('a B-tree node that lists itself as its child is a cycle, not a hang', { skip }, async () => {
  const { src, cleanup } = damagedCopy((b) => {
    const tree = find(b, 'TREE');
    b[tree + 5] = 1; // level 1: children are B-tree nodes
    view(b).setBigUint64(tree + 8 + 16 + 8, BigInt(tree), true); // first child (after the first 8-byte key) = itself
  });
  try {
    const h = await Hdf5File.open(src, FILE);
    await expectModelReadError(() => walkAll(h), { reason: 'cycle', file: FILE, message: /is reached twice/ });
  } finally {
    cleanup();
  }
});

test('an object header continuation that points back into the header is a cycle', { skip }, async () => {
  const { src, cleanup } = damagedCopy((b) => {
    const root = rootAddress(b);
    const [first] = v1Messages(b, root);
    assert.ok(first && first.size >= 16);
    const v = view(b);
    v.setUint16(first.data - 8, 0x10, true); // type: continuation
    v.setBigUint64(first.data, BigInt(root + 16), true); // to the header's own first block
    v.setBigUint64(first.data + 8, BigInt(v.getUint32(root + 8, true)), true);
  });
  try {
    await expectModelReadError(() => Hdf5File.open(src, FILE), { reason: 'cycle', file: FILE, message: /referenced twice/ });
  } finally {
    cleanup();
  }
});

test('a hard link back to the root (a legal cycle) is walked once and terminates', { skip }, async () => {
  const { src, cleanup } = damagedCopy((b) => {
    const snod = find(b, 'SNOD', find(b, 'SNOD') + 1); // a group other than the root
    view(b).setBigUint64(snod + 8 + 8, BigInt(rootAddress(b)), true); // first entry's object header -> root
  });
  try {
    const h = await Hdf5File.open(src, FILE);
    const n = await walkAll(h);
    assert.ok(n > 10);
    let loops = 0;
    await h.root.walk(async (o) => {
      if (o instanceof Group) for (const c of (await o.children()).values()) if (c.address === h.root.address) loops++;
    });
    assert.equal(loops, 1, 'the damaged link points at the root');
  } finally {
    cleanup();
  }
});

test('huge declared sizes: object header, local heap, dataset extent', { skip }, async () => {
  const header = damagedCopy((b) => view(b).setUint32(rootAddress(b) + 8, 0xfffffff0, true));
  const heap = damagedCopy((b) => view(b).setBigUint64(find(b, 'HEAP') + 8, 1n << 40n, true));
  const probe = await Hdf5File.open(new NodeFileSource(path.dirname(RESNET())), FILE);
  const kernel = (await probe.get('/model_weights/conv2d/conv2d/kernel:0')) as Dataset;
  const extent = damagedCopy((b) => {
    const space = v1Messages(b, kernel.address).find((m) => m.type === 1)!;
    view(b).setBigUint64(space.data + 8, 1n << 40n, true); // first dimension
  });
  try {
    await expectModelReadError(() => Hdf5File.open(header.src, FILE), { reason: 'out-of-bounds', file: FILE, message: '4294967280 bytes' });
    const h1 = await Hdf5File.open(heap.src, FILE);
    await expectModelReadError(() => walkAll(h1), { reason: 'out-of-bounds', message: '1099511627776 bytes' });
    const h2 = await Hdf5File.open(extent.src, FILE);
    const big = (await h2.get('/model_weights/conv2d/conv2d/kernel:0')) as Dataset;
    assert.equal(big.shape[0], 2 ** 40);
    await expectModelReadError(() => big.read(), { reason: 'too-large', file: FILE, message: /exceed the limit/ });
  } finally {
    header.cleanup();
    heap.cleanup();
    extent.cleanup();
  }
});

/** Addresses of every object header: mutations near them hit metadata rather than weights. */
async function metadataOffsets(src: MemoryFileSource | NodeFileSource, file: string): Promise<number[]> {
  const h = await Hdf5File.open(src, file);
  const out = [0, h.root.address];
  await h.root.walk((o) => void out.push(o.address));
  return out;
}

async function fuzz(bytes: Uint8Array, file: string, iterations: number, seed: number): Promise<Map<string, number>> {
  const anchors = await metadataOffsets(new MemoryFileSource({ [file]: bytes }), file);
  const random = rng(seed);
  const reasons = new Map<string, number>();
  for (let i = 0; i < iterations; i++) {
    // Mostly near object headers (and their heaps / B-trees that follow), sometimes anywhere.
    const at = anchors[Math.floor(random() * anchors.length)]!;
    const bad = i % 4 === 3 ? mutate(bytes, random, 3) : mutate(bytes, random, 3, at, Math.min(bytes.length, at + 400));
    const src = new MemoryFileSource({ [file]: bad });
    const t0 = performance.now();
    const err = await onlyModelReadError(async () => {
      const h = await Hdf5File.open(src, file);
      await h.root.attrs();
      await h.root.walk(async (o) => {
        await onlyModelReadError(() => o.attrs(), `mutation ${i} attrs ${o.path}`);
        if (o instanceof Dataset) await onlyModelReadError(() => o.read(), `mutation ${i} read ${o.path}`);
        if (o instanceof Group) await o.links();
      });
    }, `${file} mutation ${i} (seed ${seed})`);
    assert.ok(performance.now() - t0 < 10_000, `mutation ${i} took too long`);
    if (err) {
      reasons.set(err.reason, (reasons.get(err.reason) ?? 0) + 1);
      assert.ok(err.file === file && err.message.startsWith(`${file}: `), err.message);
    }
  }
  return reasons;
}

test('fuzz: 400 random byte flips of a generated Keras .h5 yield only ModelReadError', { timeout: 300_000 }, async (t) => {
  const p = generated('k2_nested_frozen_base_h5', 'k2_nested_frozen_base.h5');
  if (!existsSync(p)) return t.skip('generated fixture not present');
  const reasons = await fuzz(new Uint8Array(readFileSync(p)), 'k2_nested_frozen_base.h5', 400, 1234);
  t.diagnostic(`reasons: ${JSON.stringify(Object.fromEntries(reasons))}`);
  assert.ok(reasons.size >= 4);
});

test('fuzz: 300 random byte flips of pretrainedResnet.h5 yield only ModelReadError', { skip, timeout: 300_000 }, async (t) => {
  const reasons = await fuzz(new Uint8Array(readFileSync(RESNET())), FILE, 300, 99);
  t.diagnostic(`reasons: ${JSON.stringify(Object.fromEntries(reasons))}`);
  assert.ok(reasons.size >= 4);
});
