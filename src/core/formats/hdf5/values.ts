// Turns raw HDF5 element bytes into JavaScript values: attribute values (any supported type, with
// variable-length data fetched from the global heap) and dataset tensors (typed arrays).
import { ModelReadError } from '../../io/errors';
import type { TensorData } from '../../model/ir';
import { utf8 } from './bytes';
import type { Hdf5Context } from './context';
import { readGlobalHeapObject } from './heaps';
import { dtypeName, isBoolEnum, readIntLE, type Datatype } from './messages';

/** A decoded attribute value. Arrays of rank >= 1 are flattened in C order. */
export type Hdf5Value = string | number | bigint | boolean | null | Uint8Array | Hdf5Value[] | { [name: string]: Hdf5Value };

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x03ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decodes `count` elements of `type` from `data` (a flat, C-ordered buffer). */
export async function decodeElements(ctx: Hdf5Context, type: Datatype, data: Uint8Array, count: number, what: string): Promise<Hdf5Value[]> {
  const need = count * type.size;
  if (!Number.isSafeInteger(need) || need > data.length) {
    throw new ModelReadError(ctx.file, 'truncated', `${what}: ${count} elements of ${type.size} bytes need ${need} bytes but ${data.length} are stored`);
  }
  const out: Hdf5Value[] = [];
  if (!usesHeap(type)) {
    // No variable-length parts: decode without a promise per element.
    for (let i = 0; i < count; i++) out.push(decodeFixed(ctx, type, data.subarray(i * type.size, (i + 1) * type.size), what, 0));
    return out;
  }
  for (let i = 0; i < count; i++) out.push(await decodeOne(ctx, type, data.subarray(i * type.size, (i + 1) * type.size), what, 0));
  return out;
}

function usesHeap(t: Datatype): boolean {
  switch (t.kind) {
    case 'vlen-string':
    case 'vlen-sequence':
      return true;
    case 'array':
      return usesHeap(t.base);
    case 'compound':
      return t.members.some((m) => usesHeap(m.type));
    default:
      return false;
  }
}

/** Synchronous decoding of a type with no variable-length parts. */
function decodeFixed(ctx: Hdf5Context, t: Datatype, b: Uint8Array, what: string, depth: number): Hdf5Value {
  if (depth > 16) throw new ModelReadError(ctx.file, 'too-deep', `${what}: value nesting deeper than 16`);
  switch (t.kind) {
    case 'int':
      return decodeInt(b, t.signed, t.bigEndian);
    case 'float':
      return decodeFloat(ctx, b, t, what);
    case 'string':
      return fixedString(b, t.padding);
    case 'enum':
      return decodeEnum(t, b);
    case 'array': {
      const n = arrayCount(ctx, t, b, what);
      const items: Hdf5Value[] = [];
      for (let i = 0; i < n; i++) items.push(decodeFixed(ctx, t.base, b.subarray(i * t.base.size, (i + 1) * t.base.size), what, depth + 1));
      return items;
    }
    case 'compound': {
      const obj: { [name: string]: Hdf5Value } = {};
      for (const m of t.members) obj[m.name] = decodeFixed(ctx, m.type, memberBytes(ctx, m, b, what), what, depth + 1);
      return obj;
    }
    case 'other':
      return b.slice();
    case 'vlen-string':
    case 'vlen-sequence':
      throw new ModelReadError(ctx.file, 'bad-datatype', `${what}: variable-length value in a fixed-size context`);
  }
}

function decodeEnum(t: Extract<Datatype, { kind: 'enum' }>, b: Uint8Array): Hdf5Value {
  const v = readIntLE(b.subarray(0, t.base.size), t.base.kind === 'int' && t.base.signed, t.base.kind === 'int' && t.base.bigEndian);
  if (isBoolEnum(t)) return v !== 0;
  const i = t.values.indexOf(v);
  return i >= 0 ? t.names[i]! : v;
}

function arrayCount(ctx: Hdf5Context, t: Extract<Datatype, { kind: 'array' }>, b: Uint8Array, what: string): number {
  let n = 1;
  for (const d of t.dims) n *= d;
  if (n * t.base.size > b.length) throw new ModelReadError(ctx.file, 'bad-datatype', `${what}: array datatype of ${n} elements does not fit its ${b.length}-byte element`);
  return n;
}

function memberBytes(ctx: Hdf5Context, m: { name: string; offset: number; type: Datatype }, b: Uint8Array, what: string): Uint8Array {
  if (m.offset + m.type.size > b.length) throw new ModelReadError(ctx.file, 'bad-datatype', `${what}: compound member "${m.name}" lies outside its element`);
  return b.subarray(m.offset, m.offset + m.type.size);
}

async function decodeOne(ctx: Hdf5Context, t: Datatype, b: Uint8Array, what: string, depth: number): Promise<Hdf5Value> {
  if (depth > 16) throw new ModelReadError(ctx.file, 'too-deep', `${what}: value nesting deeper than 16`);
  switch (t.kind) {
    case 'int':
      return decodeInt(b, t.signed, t.bigEndian);
    case 'float':
      return decodeFloat(ctx, b, t, what);
    case 'string':
      return fixedString(b, t.padding);
    case 'vlen-string':
    case 'vlen-sequence': {
      const bytes = await vlenBytes(ctx, b, what);
      if (t.kind === 'vlen-string') return utf8(bytes.data.subarray(0, Math.min(bytes.length, bytes.data.length)));
      const base = t.base;
      const need = bytes.length * base.size;
      if (need > bytes.data.length) throw new ModelReadError(ctx.file, 'truncated', `${what}: variable-length sequence of ${bytes.length} elements overruns its heap object`);
      const items: Hdf5Value[] = [];
      for (let i = 0; i < bytes.length; i++) items.push(await decodeOne(ctx, base, bytes.data.subarray(i * base.size, (i + 1) * base.size), what, depth + 1));
      return items;
    }
    case 'enum':
      return decodeEnum(t, b);
    case 'array': {
      const n = arrayCount(ctx, t, b, what);
      const items: Hdf5Value[] = [];
      for (let i = 0; i < n; i++) items.push(await decodeOne(ctx, t.base, b.subarray(i * t.base.size, (i + 1) * t.base.size), what, depth + 1));
      return items;
    }
    case 'compound': {
      const obj: { [name: string]: Hdf5Value } = {};
      for (const m of t.members) obj[m.name] = await decodeOne(ctx, m.type, memberBytes(ctx, m, b, what), what, depth + 1);
      return obj;
    }
    case 'other':
      return b.slice();
  }
}

function decodeInt(b: Uint8Array, signed: boolean, bigEndian: boolean): number | bigint {
  if (b.length <= 6) return readIntLE(b, signed, bigEndian);
  let v = 0n;
  for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(bigEndian ? b[i]! : b[b.length - 1 - i]!);
  if (signed && v >= 1n << BigInt(8 * b.length - 1)) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function decodeFloat(ctx: Hdf5Context, b: Uint8Array, t: Extract<Datatype, { kind: 'float' }>, what: string): number {
  if (!t.ieee) throw new ModelReadError(ctx.file, 'unsupported', `${what}: non-IEEE ${t.size * 8}-bit floating-point values are not supported`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = !t.bigEndian;
  if (t.size === 2) return halfToFloat(dv.getUint16(0, le));
  if (t.size === 4) return dv.getFloat32(0, le);
  return dv.getFloat64(0, le);
}

function fixedString(b: Uint8Array, padding: number): string {
  let end = b.length;
  if (padding === 0 || padding === 1) {
    const z = b.indexOf(0);
    if (z >= 0) end = z;
  } else if (padding === 2) {
    while (end > 0 && b[end - 1] === 0x20) end--;
  }
  return utf8(b.subarray(0, end));
}

/** A variable-length element: 4-byte length, then a global heap ID (collection address, object index). */
async function vlenBytes(ctx: Hdf5Context, b: Uint8Array, what: string): Promise<{ length: number; data: Uint8Array }> {
  const c = ctx.cursor(b, `${what} (variable-length element)`);
  const length = c.u32();
  const addr = c.addr(ctx.offsetSize);
  const index = c.u32();
  if (length === 0 || addr === 0 || addr === -1) return { length: 0, data: new Uint8Array(0) };
  const data = await readGlobalHeapObject(ctx, addr, index);
  return { length, data };
}

/** Numeric / string dataset bytes -> TensorData. */
export async function toTensor(ctx: Hdf5Context, type: Datatype, shape: readonly number[], raw: Uint8Array, what: string): Promise<TensorData> {
  let count = 1;
  for (const d of shape) count *= d;
  const dtype = dtypeName(type);
  if (type.kind === 'string' || type.kind === 'vlen-string') {
    const values = await decodeElements(ctx, type, raw, count, what);
    return { dtype, shape, data: values as string[] };
  }
  if (type.kind === 'enum' && isBoolEnum(type)) {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = raw[i * type.size] ? 1 : 0;
    return { dtype: 'bool', shape, data: out };
  }
  if (type.kind !== 'int' && type.kind !== 'float') {
    throw new ModelReadError(ctx.file, 'unsupported', `${what}: reading datasets of type ${dtype} is not supported`);
  }
  const size = type.size;
  if (count * size > raw.length) throw new ModelReadError(ctx.file, 'truncated', `${what}: ${count} elements need ${count * size} bytes but ${raw.length} were read`);
  // Copy into a fresh, aligned buffer in little-endian order.
  const bytes = raw.slice(0, count * size);
  if (type.bigEndian && size > 1) {
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  const buf = bytes.buffer;
  if (type.kind === 'float') {
    if (!type.ieee) throw new ModelReadError(ctx.file, 'unsupported', `${what}: non-IEEE floating-point data is not supported`);
    if (size === 4) return { dtype, shape, data: new Float32Array(buf) };
    if (size === 8) return { dtype, shape, data: new Float64Array(buf) };
    const half = new Uint16Array(buf);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i]!);
    return { dtype, shape, data: out };
  }
  switch (`${type.signed ? 'i' : 'u'}${size}`) {
    case 'i1':
      return { dtype, shape, data: new Int8Array(buf) };
    case 'u1':
      return { dtype, shape, data: new Uint8Array(buf) };
    case 'i2':
      return { dtype, shape, data: new Int16Array(buf) };
    case 'u2':
      return { dtype, shape, data: new Uint16Array(buf) };
    case 'i4':
      return { dtype, shape, data: new Int32Array(buf) };
    case 'u4':
      return { dtype, shape, data: Float64Array.from(new Uint32Array(buf)) };
    case 'i8':
      return { dtype, shape, data: new BigInt64Array(buf) };
    case 'u8':
      return { dtype, shape, data: Float64Array.from(new BigUint64Array(buf), (v) => Number(v)) };
    default:
      throw new ModelReadError(ctx.file, 'unsupported', `${what}: ${size}-byte integers are not supported`);
  }
}
