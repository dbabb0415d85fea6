// The LevelDB-style sorted string table TensorFlow uses for `*.index` files (tensorflow/core/lib/io:
// table_format.txt, format.h, block.cc). Layout:
//   [data block 1 + trailer] ... [data block N + trailer] [metaindex block + trailer] [index block + trailer] [footer]
// footer (48 bytes): metaindex handle, index handle (each two varint64: offset, size), zero padding to
//   40 bytes, then the magic 0xdb4775248b80fb57 as a little-endian uint64.
// trailer (5 bytes): compression type (0 none, 1 snappy) and the masked CRC-32C of contents + type byte.
// block: entries {varint32 shared, varint32 non_shared, varint32 value_length, key delta, value}, then
//   uint32 restart offsets and a uint32 restart count. The index block maps a separator key to the
//   handle of each data block.
import type { FileSource } from '../../io/file-source';
import { LIMITS, ModelReadError } from '../../io/errors';
import { crc32c, unmaskCrc } from './crc32c';
import { snappyDecompress } from './snappy';

export const TABLE_MAGIC_LO = 0x8b80fb57;
export const TABLE_MAGIC_HI = 0xdb477524;
export const FOOTER_SIZE = 48;
const BLOCK_TRAILER_SIZE = 5;
/** Index files up to this size are read in one call; larger ones block by block. */
const WHOLE_FILE_THRESHOLD = 64 * 1024 * 1024;

export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

export interface TableEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface TableOptions {
  /** Most entries accepted before giving up (default LIMITS.maxCheckpointEntries). */
  readonly maxEntries?: number;
}

/** True when `tail` (the last 8+ bytes of a file) ends with the table magic. */
export function hasTableMagic(tail: Uint8Array): boolean {
  if (tail.length < 8) return false;
  const at = tail.length - 8;
  return readU32(tail, at) === TABLE_MAGIC_LO && readU32(tail, at + 4) === TABLE_MAGIC_HI;
}

/** A bounds-checked cursor over one block's bytes; every overrun is a ModelReadError for `file`. */
class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    readonly what: string,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ModelReadError(this.file, 'truncated', `${this.what}: varint runs past the end at byte ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > Number.MAX_SAFE_INTEGER) throw new ModelReadError(this.file, 'bad-varint', `${this.what}: varint ${result} is too large`);
        return result;
      }
      shift += 7;
    }
    throw new ModelReadError(this.file, 'bad-varint', `${this.what}: varint longer than 10 bytes at byte ${this.pos}`);
  }

  bytes(n: number): Uint8Array {
    if (n > this.end - this.pos) {
      throw new ModelReadError(this.file, 'truncated', `${this.what}: ${n} bytes declared at byte ${this.pos} but only ${this.end - this.pos} remain`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
}

export class SsTable {
  private constructor(
    private readonly src: FileSource,
    /** Name used in errors (the path relative to the source root). */
    readonly file: string,
    readonly fileSize: number,
    readonly indexHandle: BlockHandle,
    readonly metaindexHandle: BlockHandle,
    private readonly whole: Uint8Array | null,
    private readonly maxEntries: number,
  ) {}

  /** Opens the table at `rel`: reads and checks the footer. Throws ModelReadError. */
  static async open(src: FileSource, rel: string, options: TableOptions = {}): Promise<SsTable> {
    const st = await src.stat(rel);
    if (!st || st.isDirectory) throw new ModelReadError(rel, 'missing-file', 'file not found');
    const size = st.size;
    if (size < FOOTER_SIZE) throw new ModelReadError(rel, 'truncated', `file is ${size} bytes, shorter than the ${FOOTER_SIZE}-byte table footer`);
    let whole: Uint8Array | null = null;
    let footer: Uint8Array;
    if (size <= WHOLE_FILE_THRESHOLD) {
      whole = await src.read(rel);
      if (whole.length !== size) throw new ModelReadError(rel, 'truncated', `read ${whole.length} bytes of a ${size}-byte file`);
      footer = whole.subarray(size - FOOTER_SIZE);
    } else {
      footer = await src.readRange(rel, size - FOOTER_SIZE, FOOTER_SIZE);
      if (footer.length !== FOOTER_SIZE) throw new ModelReadError(rel, 'truncated', 'table footer is truncated');
    }
    if (!hasTableMagic(footer)) {
      const lo = readU32(footer, 40).toString(16).padStart(8, '0');
      const hi = readU32(footer, 44).toString(16).padStart(8, '0');
      throw new ModelReadError(rel, 'bad-magic', `not a TensorFlow table: footer magic is 0x${hi}${lo}, expected 0xdb4775248b80fb57`);
    }
    const c = new Cursor(footer, rel, 'table footer', 0, 40);
    const metaindexHandle = { offset: c.varint(), size: c.varint() };
    const indexHandle = { offset: c.varint(), size: c.varint() };
    const table = new SsTable(src, rel, size, indexHandle, metaindexHandle, whole, options.maxEntries ?? LIMITS.maxCheckpointEntries);
    table.checkHandle(indexHandle, 'index block');
    table.checkHandle(metaindexHandle, 'metaindex block');
    return table;
  }

  /** Handles of the data blocks, from the index block. */
  async dataBlockHandles(): Promise<BlockHandle[]> {
    const index = await this.readBlock(this.indexHandle, 'index block');
    const handles: BlockHandle[] = [];
    for (const e of parseBlock(index, this.file, 'index block')) {
      const c = new Cursor(e.value, this.file, 'index block entry');
      const h = { offset: c.varint(), size: c.varint() };
      this.checkHandle(h, `data block ${handles.length}`);
      handles.push(h);
    }
    return handles;
  }

  /** Every key/value pair in key order. */
  async entries(): Promise<TableEntry[]> {
    const out: TableEntry[] = [];
    const handles = await this.dataBlockHandles();
    for (let i = 0; i < handles.length; i++) {
      const block = await this.readBlock(handles[i]!, `data block ${i}`);
      for (const e of parseBlock(block, this.file, `data block ${i}`)) {
        if (out.length >= this.maxEntries) {
          throw new ModelReadError(this.file, 'too-many-entries', `more than ${this.maxEntries} entries`);
        }
        out.push(e);
      }
    }
    return out;
  }

  private checkHandle(h: BlockHandle, what: string): void {
    const limit = this.fileSize - FOOTER_SIZE;
    if (h.offset > limit || h.size > limit - h.offset || h.size + BLOCK_TRAILER_SIZE > limit - h.offset) {
      throw new ModelReadError(
        this.file,
        'bad-block-handle',
        `${what} at offset ${h.offset} with size ${h.size} does not fit in the ${this.fileSize}-byte file`,
      );
    }
  }

  /** Reads a block, verifies its CRC and decompresses it. */
  private async readBlock(h: BlockHandle, what: string): Promise<Uint8Array> {
    const n = h.size + BLOCK_TRAILER_SIZE;
    let raw: Uint8Array;
    if (this.whole) raw = this.whole.subarray(h.offset, h.offset + n);
    else raw = await this.src.readRange(this.file, h.offset, n);
    if (raw.length !== n) throw new ModelReadError(this.file, 'truncated', `${what} is truncated`);
    const type = raw[h.size]!;
    const stored = unmaskCrc(readU32(raw, h.size + 1));
    const actual = crc32c(raw, 0, h.size + 1);
    if (stored !== actual) {
      throw new ModelReadError(
        this.file,
        'crc-mismatch',
        `${what} at offset ${h.offset}: checksum mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')})`,
      );
    }
    const contents = raw.subarray(0, h.size);
    if (type === 0) return contents;
    if (type === 1) return snappyDecompress(contents, this.file);
    throw new ModelReadError(this.file, 'bad-compression', `${what} at offset ${h.offset}: unsupported block compression ${type}`);
  }
}

/** Decodes all entries of one (uncompressed) block. */
export function parseBlock(block: Uint8Array, file: string, what: string): TableEntry[] {
  if (block.length < 4) throw new ModelReadError(file, 'truncated', `${what}: ${block.length} bytes is too short for a block`);
  const numRestarts = readU32(block, block.length - 4);
  const maxRestarts = Math.floor((block.length - 4) / 4);
  if (numRestarts > maxRestarts) {
    throw new ModelReadError(file, 'bad-block', `${what}: ${numRestarts} restart points do not fit in ${block.length} bytes`);
  }
  const dataEnd = block.length - 4 - 4 * numRestarts;
  const c = new Cursor(block, file, what, 0, dataEnd);
  const out: TableEntry[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  while (c.pos < dataEnd) {
    const shared = c.varint();
    const nonShared = c.varint();
    const valueLength = c.varint();
    if (shared > prev.length) {
      throw new ModelReadError(file, 'bad-block', `${what}: entry at byte ${c.pos} shares ${shared} key bytes but the previous key has ${prev.length}`);
    }
    const delta = c.bytes(nonShared);
    const value = c.bytes(valueLength);
    const key = new Uint8Array(shared + nonShared);
    key.set(prev.subarray(0, shared), 0);
    key.set(delta, shared);
    out.push({ key, value });
    prev = key;
  }
  return out;
}
