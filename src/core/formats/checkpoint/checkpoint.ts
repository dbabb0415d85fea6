// TensorFlow tensor bundles (V2 checkpoints): `<prefix>.index` is a table mapping each tensor key to a
// BundleEntryProto (dtype, shape, shard, offset, size, masked CRC-32C); the empty key holds the
// BundleHeaderProto. Values live in `<prefix>.data-0000i-of-0000N` and are read lazily, one slice at a
// time (tensorflow/core/util/tensor_bundle/tensor_bundle.cc).
//
// open() reads only the index (plus a stat of each data shard); readRaw/readTensor read the data shard.
// Throws only ModelReadError. A missing data shard does not fail open(): see missingShards().
import type { FileSource } from '../../io/file-source';
import { ModelReadError } from '../../io/errors';
import type { DType, TensorData } from '../../model/ir';
import { dtypeByteSize, dtypeName } from '../proto/dtype';
import { decodeBundleEntryProto, decodeBundleHeaderProto, type BundleEntryProto } from '../proto/gen/tensorflow_tensor_bundle';
import { decodeMessage } from '../proto/wire';
import { crc32c, crc32cExtend, unmaskCrc } from './crc32c';
import { hasTableMagic, SsTable } from './table';

export interface CheckpointEntry {
  readonly key: string;
  /** TensorFlow dtype name: 'float32', 'int64', 'string', ... */
  readonly dtype: DType;
  /** Dimensions; -1 for a dimension the file leaves unknown. */
  readonly shape: readonly number[];
  readonly shardId: number;
  readonly offset: number;
  readonly size: number;
  /** The masked CRC-32C stored in the index. */
  readonly crc32c: number;
  /** Partitioned variables: the full-tensor entry lists its slices and holds no data itself. */
  readonly slices: number;
  /** The extents of each slice ([start, length] per dimension; length -1 = the whole dimension). */
  readonly sliceExtents: readonly (readonly (readonly [number, number])[])[];
  /** For the entry of one slice (a binary key), the name of the full tensor; null otherwise. */
  readonly sliceOf: string | null;
}

export interface CheckpointHeader {
  readonly numShards: number;
  readonly endianness: 'little' | 'big';
  readonly version: { readonly producer: number; readonly minConsumer: number; readonly badConsumers: readonly number[] };
}

export interface CheckpointOpenOptions {
  /** Most index entries accepted (default LIMITS.maxCheckpointEntries). */
  readonly maxEntries?: number;
}

/** Key of the serialized TrackableObjectGraph in TF2 checkpoints. */
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
/** Suffix shared by optimizer slot variable keys. */
export const OPTIMIZER_SLOT_MARKER = '.OPTIMIZER_SLOT';

const MAX_SHARDS = 100_000;
const MAX_STRING_ELEMENTS = 10_000_000;

export class CheckpointReader {
  private readonly byKey = new Map<string, CheckpointEntry>();

  private constructor(
    private readonly src: FileSource,
    /** The prefix, e.g. 'variables/variables'. */
    readonly prefix: string,
    readonly header: CheckpointHeader,
    entries: readonly CheckpointEntry[],
    private readonly shardSizes: readonly (number | null)[],
  ) {
    for (const e of entries) this.byKey.set(e.key, e);
  }

  /** The index file name, `<prefix>.index`. */
  get indexFile(): string {
    return `${this.prefix}.index`;
  }

  /** Cheap check of the table magic in the last 8 bytes of `bytes` (the whole index or its tail). */
  static async sniff(bytes: Uint8Array): Promise<boolean> {
    return hasTableMagic(bytes);
  }

  /** Reads the last 48 bytes of `rel` and checks the table magic. Never throws. */
  static async sniffFile(src: FileSource, rel: string): Promise<boolean> {
    try {
      const st = await src.stat(rel);
      if (!st || st.isDirectory || st.size < 48) return false;
      return hasTableMagic(await src.readRange(rel, st.size - 48, 48));
    } catch {
      return false;
    }
  }

  static async open(src: FileSource, prefix: string, options: CheckpointOpenOptions = {}): Promise<CheckpointReader> {
    const indexFile = `${prefix}.index`;
    const table = await SsTable.open(src, indexFile, { maxEntries: options.maxEntries });
    const rows = await table.entries();
    let header: CheckpointHeader | null = null;
    const entries: CheckpointEntry[] = [];
    const keyDecoder = new TextDecoder('utf-8', { fatal: true });
    for (const row of rows) {
      if (row.key.length === 0) {
        const h = decodeMessage(row.value, indexFile, decodeBundleHeaderProto);
        header = {
          numShards: h.numShards,
          endianness: h.endianness === 1 ? 'big' : 'little',
          version: { producer: h.version?.producer ?? 0, minConsumer: h.version?.minConsumer ?? 0, badConsumers: h.version?.badConsumers ?? [] },
        };
        continue;
      }
      let key: string;
      let sliceOf: string | null = null;
      if (row.key[0] === 0) {
        // A slice of a partitioned variable: the key is TF's ordered-code encoding of name + extents.
        key = latin1(row.key);
        sliceOf = decodeSliceKeyName(row.key);
      } else {
        try {
          key = keyDecoder.decode(row.key);
        } catch {
          key = latin1(row.key);
        }
      }
      const e = decodeMessage(row.value, indexFile, (r, end) => decodeBundleEntryProto(r, end));
      entries.push(toEntry(key, e, sliceOf));
    }
    if (!header) throw new ModelReadError(indexFile, 'bad-header', 'the checkpoint header entry (empty key) is missing');
    if (header.numShards < 0 || header.numShards > MAX_SHARDS) {
      throw new ModelReadError(indexFile, 'bad-header', `implausible number of data shards ${header.numShards}`);
    }
    if (header.version.minConsumer > 1) {
      throw new ModelReadError(indexFile, 'unsupported', `checkpoint format version needs a reader of version >= ${header.version.minConsumer}`);
    }
    for (const e of entries) {
      if (e.slices === 0 && e.size > 0 && (e.shardId < 0 || e.shardId >= header.numShards)) {
        throw new ModelReadError(indexFile, 'bad-entry', `entry "${printable(e.key)}" names data shard ${e.shardId} but the checkpoint has ${header.numShards}`);
      }
    }
    const shardSizes = await Promise.all(
      Array.from({ length: header.numShards }, async (_, i) => {
        const st = await src.stat(dataFileName(prefix, i, header.numShards));
        return st && !st.isDirectory ? st.size : null;
      }),
    );
    return new CheckpointReader(src, prefix, header, entries, shardSizes);
  }

  /** All tensor keys in index order (the header's empty key excluded). */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  entry(key: string): CheckpointEntry | undefined {
    return this.byKey.get(key);
  }

  entries(): CheckpointEntry[] {
    return [...this.byKey.values()];
  }

  /** Path of data shard `i`. */
  dataFile(shardId: number): string {
    return dataFileName(this.prefix, shardId, this.header.numShards);
  }

  /** Data shard files that do not exist (relative paths). */
  missingShards(): string[] {
    const out: string[] = [];
    this.shardSizes.forEach((s, i) => {
      if (s === null) out.push(this.dataFile(i));
    });
    return out;
  }

  /** The stored bytes of `key`, after checking bounds and the CRC-32C. */
  async readRaw(key: string): Promise<Uint8Array> {
    const e = this.requireEntry(key);
    if (e.slices > 0) {
      throw new ModelReadError(this.indexFile, 'partitioned', `"${printable(key)}" is a partitioned variable stored in ${e.slices} slices; read the slice entries instead`);
    }
    if (e.size === 0) return new Uint8Array(0);
    const file = this.dataFile(e.shardId);
    const shardSize = this.shardSizes[e.shardId];
    if (shardSize === undefined || shardSize === null) throw new ModelReadError(file, 'missing-file', `data shard for "${printable(key)}" is missing`);
    if (e.offset < 0 || e.size < 0 || e.offset > shardSize || e.size > shardSize - e.offset) {
      throw new ModelReadError(file, 'out-of-bounds', `"${printable(key)}" declares bytes [${e.offset}, ${e.offset + e.size}) but the file has ${shardSize} bytes`);
    }
    const bytes = await this.src.readRange(file, e.offset, e.size);
    if (bytes.length !== e.size) throw new ModelReadError(file, 'truncated', `"${printable(key)}": read ${bytes.length} of ${e.size} bytes (file changed?)`);
    const expected = unmaskCrc(e.crc32c);
    let actual: number;
    if (e.dtype === 'string') actual = stringTensorCrc(bytes, elementCount(e, file), file, key, this.header.endianness === 'big');
    else if (e.dtype === 'variant') actual = variantTensorCrc(bytes, elementCount(e, file), file, key);
    else actual = crc32c(bytes);
    if (actual !== expected) {
      throw new ModelReadError(file, 'crc-mismatch', `"${printable(key)}": checksum mismatch (stored 0x${hex8(expected)}, computed 0x${hex8(actual)})`);
    }
    return bytes;
  }

  /** Decoded values of `key` (numeric, bool and string dtypes). */
  async readTensor(key: string): Promise<TensorData> {
    const e = this.requireEntry(key);
    const file = this.dataFile(e.shardId);
    const n = elementCount(e, file);
    const raw = await this.readRaw(key);
    if (e.dtype === 'string') {
      const dec = new TextDecoder('utf-8');
      return { dtype: e.dtype, shape: e.shape, data: decodeStrings(raw, n, file, key).map((b) => dec.decode(b)) };
    }
    const width = dtypeByteSize(e.dtype);
    if (width === null || e.dtype === 'variant' || e.dtype === 'resource') {
      throw new ModelReadError(this.indexFile, 'unsupported', `"${printable(key)}": reading ${e.dtype} tensors is not supported`);
    }
    if (raw.length !== n * width) {
      throw new ModelReadError(file, 'bad-entry', `"${printable(key)}": ${raw.length} bytes stored for ${n} ${e.dtype} elements (${n * width} expected)`);
    }
    const data = toTypedArray(raw, e.dtype, n, width, this.header.endianness === 'big');
    if (!data) throw new ModelReadError(this.indexFile, 'unsupported', `"${printable(key)}": reading ${e.dtype} tensors is not supported`);
    return { dtype: e.dtype, shape: e.shape, data };
  }

  /** The serialized TrackableObjectGraph (TF2 checkpoints), or null when the checkpoint has none. */
  async readObjectGraphBytes(): Promise<Uint8Array | null> {
    const e = this.byKey.get(OBJECT_GRAPH_KEY);
    if (!e) return null;
    if (e.dtype !== 'string') throw new ModelReadError(this.indexFile, 'bad-entry', `${OBJECT_GRAPH_KEY} has dtype ${e.dtype}, expected string`);
    const file = this.dataFile(e.shardId);
    const raw = await this.readRaw(OBJECT_GRAPH_KEY);
    const items = decodeStrings(raw, elementCount(e, file), file, OBJECT_GRAPH_KEY);
    if (items.length !== 1) throw new ModelReadError(file, 'bad-entry', `${OBJECT_GRAPH_KEY} holds ${items.length} strings, expected 1`);
    return items[0]!;
  }

  private requireEntry(key: string): CheckpointEntry {
    const e = this.byKey.get(key);
    if (!e) throw new ModelReadError(this.indexFile, 'missing-key', `no tensor "${printable(key)}" in the checkpoint`);
    return e;
  }
}

export function dataFileName(prefix: string, shard: number, numShards: number): string {
  return `${prefix}.data-${String(shard).padStart(5, '0')}-of-${String(numShards).padStart(5, '0')}`;
}

function toEntry(key: string, e: BundleEntryProto, sliceOf: string | null): CheckpointEntry {
  const shape = e.shape?.unknownRank ? [] : (e.shape?.dim ?? []).map((d) => d.size);
  return {
    key,
    dtype: dtypeName(e.dtype),
    shape,
    shardId: e.shardId,
    offset: e.offset,
    size: e.size,
    crc32c: e.crc32c >>> 0,
    slices: e.slices.length,
    sliceExtents: e.slices.map((sl) => sl.extent.map((x) => [x.start, x.length ?? -1] as const)),
    sliceOf,
  };
}

function elementCount(e: CheckpointEntry, file: string): number {
  let n = 1;
  for (const d of e.shape) {
    if (d < 0) throw new ModelReadError(file, 'bad-entry', `"${printable(e.key)}" has an unknown dimension in shape [${e.shape.join(', ')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new ModelReadError(file, 'bad-entry', `"${printable(e.key)}" has ${n} elements`);
  return n;
}

/** Reads one varint64 from `b` at `pos`; returns [value, next]. */
function varint(b: Uint8Array, pos: number, end: number, file: string, key: string): [number, number] {
  let v = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ModelReadError(file, 'truncated', `"${printable(key)}": string length varint runs past the entry`);
    const byte = b[pos++]!;
    v += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (!Number.isSafeInteger(v)) throw new ModelReadError(file, 'bad-entry', `"${printable(key)}": string length ${v} is too large`);
      return [v, pos];
    }
  }
  throw new ModelReadError(file, 'bad-entry', `"${printable(key)}": string length varint longer than 10 bytes`);
}

/** DT_STRING layout: [varint64 len]*n, [4-byte masked CRC of the lengths], then the bytes. */
function decodeStrings(b: Uint8Array, n: number, file: string, key: string): Uint8Array[] {
  if (n > MAX_STRING_ELEMENTS) throw new ModelReadError(file, 'too-large', `"${printable(key)}" declares ${n} strings`);
  if (b.length === 0) return Array.from({ length: n }, () => new Uint8Array(0));
  const lens: number[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const [len, next] = varint(b, pos, b.length, file, key);
    lens.push(len);
    pos = next;
  }
  pos += 4;
  const out: Uint8Array[] = [];
  for (const len of lens) {
    if (pos > b.length || len > b.length - pos) throw new ModelReadError(file, 'truncated', `"${printable(key)}": string of ${len} bytes runs past the entry`);
    out.push(b.subarray(pos, pos + len));
    pos += len;
  }
  return out;
}

/**
 * The bundle CRC of a string tensor: over the lengths (as uint32, or uint64 when larger, in the writer's
 * byte order), the stored length checksum, then the bytes.
 */
function stringTensorCrc(b: Uint8Array, n: number, file: string, key: string, bigEndian: boolean): number {
  if (n > MAX_STRING_ELEMENTS) throw new ModelReadError(file, 'too-large', `"${printable(key)}" declares ${n} strings`);
  let crc = 0;
  let pos = 0;
  const lens: number[] = [];
  const scratch = new Uint8Array(8);
  const dv = new DataView(scratch.buffer);
  for (let i = 0; i < n; i++) {
    const [len, next] = varint(b, pos, b.length, file, key);
    lens.push(len);
    pos = next;
    if (len <= 0xffffffff) {
      dv.setUint32(0, len, !bigEndian);
      crc = crc32cExtend(crc, scratch, 0, 4);
    } else {
      dv.setBigUint64(0, BigInt(len), !bigEndian);
      crc = crc32cExtend(crc, scratch, 0, 8);
    }
  }
  if (pos + 4 > b.length) throw new ModelReadError(file, 'truncated', `"${printable(key)}": the length checksum is missing`);
  const storedLenCrc = new DataView(b.buffer, b.byteOffset + pos, 4).getUint32(0, !bigEndian);
  if (unmaskCrc(storedLenCrc) !== crc) {
    throw new ModelReadError(file, 'crc-mismatch', `"${printable(key)}": string length checksum mismatch (stored 0x${hex8(unmaskCrc(storedLenCrc))}, computed 0x${hex8(crc)})`);
  }
  crc = crc32cExtend(crc, b, pos, pos + 4);
  pos += 4;
  let total = 0;
  for (const len of lens) total += len;
  if (total > b.length - pos) throw new ModelReadError(file, 'truncated', `"${printable(key)}": ${total} string bytes declared but ${b.length - pos} stored`);
  return crc32cExtend(crc, b, pos, pos + total);
}

/** DT_VARIANT layout: per element [varint64 len][bytes][4-byte masked running CRC]. */
function variantTensorCrc(b: Uint8Array, n: number, file: string, key: string): number {
  let crc = 0;
  let pos = 0;
  const scratch = new Uint8Array(8);
  const dv = new DataView(scratch.buffer);
  for (let i = 0; i < n; i++) {
    const [len, next] = varint(b, pos, b.length, file, key);
    pos = next;
    dv.setBigUint64(0, BigInt(len), true);
    crc = crc32cExtend(crc, scratch, 0, 8);
    if (len > b.length - pos) throw new ModelReadError(file, 'truncated', `"${printable(key)}": variant element of ${len} bytes runs past the entry`);
    crc = crc32cExtend(crc, b, pos, pos + len);
    pos += len;
    if (pos + 4 > b.length) throw new ModelReadError(file, 'truncated', `"${printable(key)}": variant element checksum is missing`);
    const stored = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
    if (unmaskCrc(stored) !== crc) throw new ModelReadError(file, 'crc-mismatch', `"${printable(key)}": checksum after variant element ${i} does not match`);
    crc = crc32cExtend(crc, b, pos, pos + 4);
    pos += 4;
  }
  return crc;
}

function toTypedArray(raw: Uint8Array, dtype: DType, n: number, width: number, bigEndian: boolean): TensorData['data'] | null {
  // A fresh, aligned copy, converted to little-endian order.
  const bytes = raw.slice();
  if (bigEndian && width > 1) {
    const part = dtype === 'complex64' ? 4 : dtype === 'complex128' ? 8 : width;
    for (let i = 0; i < bytes.length; i += part) bytes.subarray(i, i + part).reverse();
  }
  const buf = bytes.buffer;
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return new Float32Array(buf);
    case 'float64':
    case 'complex128':
      return new Float64Array(buf);
    case 'float16': {
      const h = new Uint16Array(buf);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]!);
      return out;
    }
    case 'bfloat16': {
      const h = new Uint16Array(buf);
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = h[i]! << 16;
      return out;
    }
    case 'int32':
    case 'qint32':
      return new Int32Array(buf);
    case 'uint32':
      return Float64Array.from(new Uint32Array(buf));
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint64':
      return Float64Array.from(new BigUint64Array(buf), (v) => Number(v));
    case 'int16':
    case 'qint16':
      return new Int16Array(buf);
    case 'uint16':
    case 'quint16':
      return new Uint16Array(buf);
    case 'int8':
    case 'qint8':
      return new Int8Array(buf);
    case 'uint8':
    case 'quint8':
    case 'bool':
      return new Uint8Array(buf);
    default:
      return null;
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x03ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The tensor name inside a slice key: ordered-code "increasing number 0" (one 0x00 byte), then the name
 * with 0x00 escaped as 0x00 0xff and 0xff as 0xff 0x00, terminated by 0x00 0x01.
 */
function decodeSliceKeyName(key: Uint8Array): string | null {
  const out: number[] = [];
  for (let i = 1; i < key.length; i++) {
    const b = key[i]!;
    if (b === 0x00) {
      const next = key[i + 1];
      if (next === 0x01) return new TextDecoder('utf-8').decode(new Uint8Array(out));
      if (next === 0xff) {
        out.push(0x00);
        i++;
        continue;
      }
      return null;
    }
    if (b === 0xff) {
      if (key[i + 1] !== 0x00) return null;
      out.push(0xff);
      i++;
      continue;
    }
    out.push(b);
  }
  return null;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** Keys in messages: binary slice keys shown with escapes. */
function printable(key: string): string {
  // eslint-disable-next-line no-control-regex
  return key.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}
