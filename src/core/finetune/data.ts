// User data for a verification run: `.npy` (inputs), `.npz` (arrays `x` and optionally `y`), or CSV (one sample
// a row: the input values, then optionally the target values). Decoded to float32 here, for the tfjs engine;
// python/engine/runner.py reads the same files with numpy, with the same rules.
// Image folders (kind 'images') are decoded here too, by our own PNG/JPEG/BMP/GIF decoders and a bilinear resize
// that reproduce TensorFlow's decode_image + image.resize (./images/index.ts), with the meaning of runner.py's
// load_images: files found recursively and sorted, resized to the model's (H, W, C), 0-255, one-hot labels from
// the sub-folder names when their number equals the output size.
import { promises as fsp } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { FinetuneError } from '../io/errors';
import { loadImageFolder } from './images';

export interface DataArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface UserData {
  readonly x: DataArray;
  /** Targets, when the file has them (else the engine draws seeded synthetic targets). */
  readonly y: DataArray | null;
}

const MAX_BYTES = 1 << 30;

function fail(file: string, detail: string): never {
  throw new FinetuneError(file, 'data', detail);
}

/** Decodes a .npy file (format versions 1-3, C order, little-endian or byte-sized numeric dtypes). */
export function parseNpy(bytes: Uint8Array, file: string): DataArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) fail(file, 'not a .npy file (bad magic)');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > bytes.length) fail(file, `header length ${headerLen} runs past the end of the file`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) fail(file, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') fail(file, 'Fortran-ordered arrays are not supported (save with np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(file, `bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  const readers: Record<string, [number, (o: number) => number]> = {
    '<f4': [4, (o) => view.getFloat32(o, true)],
    '<f8': [8, (o) => view.getFloat64(o, true)],
    '<f2': [2, (o) => halfToFloat(view.getUint16(o, true))],
    '<i4': [4, (o) => view.getInt32(o, true)],
    '<i8': [8, (o) => Number(view.getBigInt64(o, true))],
    '<i2': [2, (o) => view.getInt16(o, true)],
    '|u1': [1, (o) => view.getUint8(o)],
    '|i1': [1, (o) => view.getInt8(o)],
    '|b1': [1, (o) => view.getUint8(o)],
    '<u2': [2, (o) => view.getUint16(o, true)],
  };
  const r = readers[descr];
  if (!r) fail(file, `dtype ${descr} is not supported (use float32, float64, an integer type or bool)`);
  const [size, read] = r;
  if (offset + count * size > bytes.length) fail(file, `shape (${shape.join(', ')}) needs ${count * size} bytes of ${descr}, the file has ${bytes.length - offset}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = read(offset + i * size);
  return { shape, data };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The member files of a zip archive (stored or deflated; no zip64), by name. */
export function readZip(bytes: Uint8Array, file: string): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail(file, 'not a zip archive (.npz): no end-of-central-directory record');
  const entries = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let n = 0; n < entries; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== 0x02014b50) fail(file, `corrupt central directory entry ${n}`);
    const method = view.getUint16(p + 10, true);
    const compSize = view.getUint32(p + 20, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (compSize === 0xffffffff || local === 0xffffffff) fail(file, `${name}: zip64 archives are not supported`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) fail(file, `${name}: corrupt local header`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compSize > bytes.length) fail(file, `${name}: ${compSize} bytes run past the end of the archive`);
    const raw = bytes.subarray(start, start + compSize);
    if (method === 0) out.set(name, raw);
    else if (method === 8) out.set(name, new Uint8Array(inflateRawSync(raw, { maxOutputLength: MAX_BYTES })));
    else fail(file, `${name}: compression method ${method} is not supported`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** CSV: an optional header row, then one sample a row. */
export function parseCsv(text: string, file: string, inputSize: number, outputSize: number): UserData {
  const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const values: number[][] = [];
  rows.forEach((line, i) => {
    const cells = line.split(/[,;\t]/).map((c) => c.trim());
    const nums = cells.map(Number);
    if (nums.some((v) => Number.isNaN(v))) {
      if (i === 0) return; // header
      fail(file, `line ${i + 1}: not a number in ${JSON.stringify(line.slice(0, 80))}`);
    }
    values.push(nums);
  });
  if (values.length === 0) fail(file, 'no data rows');
  const width = values[0]!.length;
  if (values.some((r) => r.length !== width)) fail(file, 'rows have different numbers of columns');
  const withTargets = width === inputSize + outputSize;
  if (width !== inputSize && !withTargets) fail(file, `rows have ${width} columns; the model needs ${inputSize} input values per sample (plus ${outputSize} target values, optionally)`);
  const n = values.length;
  const x = new Float32Array(n * inputSize);
  const y = withTargets ? new Float32Array(n * outputSize) : null;
  values.forEach((r, i) => {
    for (let j = 0; j < inputSize; j++) x[i * inputSize + j] = r[j]!;
    if (y) for (let j = 0; j < outputSize; j++) y[i * outputSize + j] = r[inputSize + j]!;
  });
  return { x: { shape: [n, inputSize], data: x }, y: y ? { shape: [n, outputSize], data: y } : null };
}

/** Reads user data for a model with the given per-sample input/output shapes (batch dimension excluded). */
export async function loadUserData(kind: 'images' | 'npy' | 'csv', file: string, inputShape: readonly number[], outputShape: readonly number[]): Promise<UserData> {
  if (kind === 'images') {
    const { x, y } = await loadImageFolder(file, inputShape, outputShape);
    return { x, y };
  }
  let bytes: Uint8Array;
  try {
    const stat = await fsp.stat(file);
    if (stat.size > MAX_BYTES) fail(file, `${stat.size} bytes is more than the ${MAX_BYTES}-byte limit for verification data`);
    bytes = new Uint8Array(await fsp.readFile(file));
  } catch (e) {
    if (e instanceof FinetuneError) throw e;
    fail(file, `cannot be read: ${(e as Error).message}`);
  }
  const inSize = inputShape.reduce((a, b) => a * b, 1);
  const outSize = outputShape.reduce((a, b) => a * b, 1);
  let data: UserData;
  if (kind === 'csv') {
    data = parseCsv(new TextDecoder().decode(bytes), file, inSize, outSize);
  } else if (/\.npz$/i.test(file)) {
    const members = readZip(bytes, file);
    const x = members.get('x.npy') ?? [...members.values()][0];
    if (!x) fail(file, 'the archive holds no arrays');
    const y = members.get('y.npy') ?? (members.has('x.npy') ? undefined : [...members.values()][1]);
    data = { x: parseNpy(x, `${file}:x.npy`), y: y ? parseNpy(y, `${file}:y.npy`) : null };
  } else {
    data = { x: parseNpy(bytes, file), y: null };
  }
  const n = data.x.shape[0] ?? 0;
  if (n === 0) fail(file, 'holds no samples');
  if (data.x.data.length !== n * inSize) fail(file, `inputs of shape (${data.x.shape.join(', ')}) do not fit the model's input (N, ${inputShape.join(', ')})`);
  if (data.y && data.y.data.length !== (data.y.shape[0] ?? 0) * outSize) fail(file, `targets of shape (${data.y.shape.join(', ')}) do not fit the model's output (N, ${outputShape.join(', ')})`);
  if (data.y && data.y.shape[0] !== n) fail(file, `${n} inputs but ${data.y.shape[0]} targets`);
  return data;
}

/** Batch `index` of size `batch`, cycling through the samples. */
export function takeBatch(a: DataArray, batch: number, index: number, sampleSize: number): Float32Array {
  const n = a.shape[0]!;
  const out = new Float32Array(batch * sampleSize);
  for (let i = 0; i < batch; i++) {
    const s = (index * batch + i) % n;
    out.set(a.data.subarray(s * sampleSize, (s + 1) * sampleSize), i * sampleSize);
  }
  return out;
}
