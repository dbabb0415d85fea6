// The tfjs engine's image decoders and resize against what real TensorFlow 2.15 made of the same files:
// test/fixtures/generated/images (written by python/fixtures/gen_images.py) holds an image folder in every
// supported format/variant and expected.npz with tf.io.decode_image(channels=C) for C = 3, 1, 4 and
// runner.load_images' own arrays. No Python is needed here: the expected values are committed.
//
// Tolerances: PNG, BMP and GIF must be exact (decoded bytes equal; resized |diff| <= 1e-3). JPEG: libjpeg-turbo
// in TensorFlow runs SIMD versions of the fast IDCT, which may round a sample differently from the portable
// algorithm, so a JPEG sample may differ by up to JPEG_TOLERANCE levels. Measured on these fixtures: 0 (every
// JPEG variant decodes bit-identical to TensorFlow's), reported by the test as a diagnostic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generated } from '../../helpers/paths';
import { loadUserData, parseNpy, readZip, type DataArray } from '../../../src/core/finetune/data';
import { decodeImage, listImages, loadImageFolder, resizeBilinear } from '../../../src/core/finetune/images';
import { isFreezeInspectorError } from '../../../src/core/io/errors';

const JPEG_TOLERANCE = 2; // 8-bit levels
const root = generated('images');
const folder = path.join(root, 'folder');
const present = existsSync(path.join(root, 'expected.npz'));
const skip = !present && 'test/fixtures/generated/images absent';

interface Meta {
  size: [number, number];
  classes: string[];
  files: { file: string; shape3?: number[]; shape1?: number[]; shape4?: number[] }[];
  errors: Record<string, string>;
  folderError1: string | null;
}

let meta: Meta;
let arrays: Map<string, DataArray>;
function load(): void {
  if (meta) return;
  meta = JSON.parse(readFileSync(path.join(root, 'decode.json'), 'utf8')) as Meta;
  const zip = readZip(new Uint8Array(readFileSync(path.join(root, 'expected.npz'))), 'expected.npz');
  arrays = new Map([...zip].map(([k, v]) => [k.replace(/\.npy$/, ''), parseNpy(v, k)]));
}

const isJpegName = (f: string): boolean => /\.jpe?g$/i.test(f);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('every fixture decodes as tf.io.decode_image does, for C = 3, 1 and 4 (or is refused where TensorFlow refuses)', { skip }, (t) => {
  load();
  let jpegMax = 0, exactCount = 0, refused = 0;
  meta.files.forEach((f, i) => {
    const bytes = new Uint8Array(readFileSync(path.join(folder, f.file)));
    for (const c of [3, 1, 4]) {
      const ref = arrays.get(`f${i}_c${c}_raw`);
      if (!ref) {
        assert.ok(meta.errors[`${f.file}|${c}`], `${f.file} C=${c}: TensorFlow neither decoded nor refused it`);
        assert.throws(() => decodeImage(bytes, f.file, c), (e: unknown) => isFreezeInspectorError(e) && e.file === f.file && /channels/.test(e.detail), `${f.file} C=${c}: TensorFlow refuses (${meta.errors[`${f.file}|${c}`]})`);
        refused++;
        continue;
      }
      const mine = decodeImage(bytes, f.file, c);
      assert.deepEqual([mine.height, mine.width, mine.channels], ref.shape, `${f.file} C=${c}: shape`);
      const d = maxDiff(mine.data, ref.data);
      if (isJpegName(f.file)) {
        jpegMax = Math.max(jpegMax, d);
        assert.ok(d <= JPEG_TOLERANCE, `${f.file} C=${c}: max |diff| ${d} > ${JPEG_TOLERANCE}`);
      } else {
        assert.equal(d, 0, `${f.file} C=${c}: max |diff| ${d}`);
        exactCount++;
      }
    }
  });
  t.diagnostic(`max JPEG |diff| vs TensorFlow: ${jpegMax} levels; ${exactCount} PNG/BMP/GIF decodes exact; ${refused} refusals as TensorFlow`);
  assert.ok(exactCount >= 50 && refused >= 10);
});

test('our bilinear resize of TensorFlow\'s own decoded pixels equals tf.image.resize (half-pixel centers)', { skip }, () => {
  load();
  const [h, w] = meta.size;
  const x3 = arrays.get('x3')!;
  let m = 0;
  meta.files.forEach((_f, i) => {
    const raw = arrays.get(`f${i}_c3_raw`)!;
    const [ih, iw] = raw.shape as [number, number];
    const mine = resizeBilinear(raw.data, ih, iw, 3, h, w);
    m = Math.max(m, maxDiff(mine, x3.data.subarray(i * h * w * 3, (i + 1) * h * w * 3)));
  });
  assert.ok(m <= 1e-3, `resize max |diff| ${m}`);
  assert.equal(m, 0, 'float32 steps in TensorFlow\'s order: bit-identical');
});

test('resize: identity at the same size, and constant images stay constant', () => {
  const src = Float32Array.from({ length: 5 * 4 * 2 }, (_, i) => (i * 37) % 256);
  assert.deepEqual(Array.from(resizeBilinear(src, 5, 4, 2, 5, 4)), Array.from(src));
  const flat = new Float32Array(7 * 3).fill(42);
  assert.ok(resizeBilinear(flat, 7, 3, 1, 2, 11).every((v) => v === 42));
});

test('the folder, C=3: same files in the same order, same arrays and one-hot labels as runner.load_images', { skip }, async (t) => {
  load();
  const [h, w] = meta.size;
  const files = await listImages(folder);
  assert.deepEqual(files.map((f) => path.relative(folder, f).split(path.sep).join('/')), meta.files.map((f) => f.file));
  const d = await loadImageFolder(folder, [h, w, 3], [2]);
  assert.deepEqual(d.classes, meta.classes);
  assert.deepEqual(d.x.shape, [meta.files.length, h, w, 3]);
  const x3 = arrays.get('x3')!;
  const s = h * w * 3;
  let jpegMax = 0;
  meta.files.forEach((f, i) => {
    const diff = maxDiff(d.x.data.subarray(i * s, (i + 1) * s), x3.data.subarray(i * s, (i + 1) * s));
    if (isJpegName(f.file)) jpegMax = Math.max(jpegMax, diff);
    assert.ok(diff <= (isJpegName(f.file) ? JPEG_TOLERANCE : 1e-3), `${f.file}: max |diff| ${diff}`);
  });
  t.diagnostic(`resized JPEG max |diff| vs TensorFlow: ${jpegMax}`);
  assert.deepEqual(Array.from(d.y!.data), Array.from(arrays.get('y3_2')!.data), 'labels (stray.png outside the class folders: a row of zeros)');
  // loadUserData's 'images' kind is the same loader
  const u = await loadUserData('images', folder, [h, w, 3], [2]);
  assert.deepEqual(Array.from(u.x.data), Array.from(d.x.data));
  // labels only when the sub-folder count equals the output size
  assert.equal((await loadUserData('images', folder, [h, w, 3], [4])).y, null);
});

test('C=1: gray conversion as TensorFlow (PNG: libpng rgb_to_gray; JPEG: the Y plane); BMP/GIF refused as TensorFlow refuses', { skip }, async () => {
  load();
  const [h, w] = meta.size;
  const cat = path.join(folder, 'cat');
  const d = await loadImageFolder(cat, [h, w, 1], [5]);
  assert.equal(d.y, null, 'no class sub-folders: synthetic targets');
  assert.ok(maxDiff(d.x.data, arrays.get('x1')!.data) <= 1e-3);
  assert.ok(meta.folderError1 && /channels/.test(meta.folderError1));
  await assert.rejects(loadImageFolder(folder, [h, w, 1], [2]), (e: unknown) => isFreezeInspectorError(e) && e.reason === 'data' && /bmp24\.bmp$/.test(e.file) && /3 or 4 channels/.test(e.detail));
});

test('formats are recognised by their bytes, not their extension; folder-level problems are refused with a message', { skip }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-img-'));
  try {
    mkdirSync(path.join(dir, 'a'));
    copyFileSync(path.join(folder, 'cat/png_rgb.png'), path.join(dir, 'a/actually-png.JPG'));
    copyFileSync(path.join(folder, 'dog/jpeg_gray.jpg'), path.join(dir, 'a/actually-jpeg.gif'));
    const d = await loadImageFolder(dir, [6, 5, 3], [1]);
    assert.equal(d.x.shape[0], 2);
    assert.deepEqual(Array.from(d.y!.data), [1, 1]);
    const png = decodeImage(new Uint8Array(readFileSync(path.join(folder, 'cat/png_rgb.png'))), 'x', 3);
    assert.deepEqual(Array.from(d.x.data.subarray(6 * 5 * 3, 2 * 6 * 5 * 3)), Array.from(resizeBilinear(png.data, png.height, png.width, 3, 6, 5)));
    await assert.rejects(loadImageFolder(dir, [6, 5], [1]), /needs a model input of shape \(H, W, C\), not \(6, 5\)/);
    await assert.rejects(loadImageFolder(path.join(dir, 'nope'), [6, 5, 3], [1]), /not a folder/);
    await assert.rejects(loadImageFolder(dir, [6, 5, 2], [1]), /1, 3 or 4 channels/);
    mkdirSync(path.join(dir, 'empty'));
    await assert.rejects(loadImageFolder(path.join(dir, 'empty'), [6, 5, 3], [1]), /no images \(\.png, \.jpg, \.jpeg, \.bmp, \.gif\)/);
    copyFileSync(path.join(root, 'decode.json'), path.join(dir, 'a/notes.png'));
    await assert.rejects(loadImageFolder(dir, [6, 5, 3], [1]), (e: unknown) => isFreezeInspectorError(e) && e.file.endsWith('notes.png') && /unknown image format/.test(e.detail));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
