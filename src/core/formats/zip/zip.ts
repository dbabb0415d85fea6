// A minimal, lazy zip reader for `.keras` archives (PKWARE APPNOTE: end of central directory, ZIP64
// end of central directory, central directory, local headers; methods 0 stored and 8 deflate).
// Only the central directory is read on open; entry data is read on demand through readRange.
// Throws only ModelReadError (file = the archive's display name).
import { inflateRawSync } from 'node:zlib';
import type { FileSource, FileStat } from '../../io/file-source';
import { ModelReadError } from '../../io/errors';
import { crc32 } from './crc32';

export interface ZipEntry {
  /** Path inside the archive, '/'-separated; directories end with '/'. */
  readonly name: string;
  /** 0 stored, 8 deflate (others are listed but cannot be read). */
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly crc32: number;
  /** Offset of the local file header in the archive. */
  readonly localHeaderOffset: number;
  readonly isDirectory: boolean;
  readonly encrypted: boolean;
}

export interface ZipOpenOptions {
  /** Name used in errors (default: `rel`). */
  readonly displayName?: string;
  /** Most entries accepted (default 100 000). */
  readonly maxEntries?: number;
  /** Largest entry inflated into memory, in bytes (default 1 GiB). */
  readonly maxInflatedBytes?: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export const ZIP_LOCAL_SIGNATURE = [0x50, 0x4b, 0x03, 0x04] as const;

export class ZipArchive {
  private readonly byName = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<string, Promise<number>>();
  private readonly inflatedCache = new Map<string, Promise<Uint8Array>>();

  private constructor(
    private readonly src: FileSource,
    /** Path of the archive in `src`. */
    readonly rel: string,
    /** Name used in errors. */
    readonly file: string,
    readonly size: number,
    private readonly list: readonly ZipEntry[],
    private readonly maxInflatedBytes: number,
  ) {
    for (const e of list) this.byName.set(e.name, e);
  }

  static async open(src: FileSource, rel: string, options: ZipOpenOptions = {}): Promise<ZipArchive> {
    const file = options.displayName ?? rel;
    const maxEntries = options.maxEntries ?? 100_000;
    const st = await src.stat(rel);
    if (!st || st.isDirectory) throw new ModelReadError(file, 'missing-file', 'file not found');
    const size = st.size;
    if (size < EOCD_SIZE) throw new ModelReadError(file, 'bad-zip', `file is ${size} bytes, too short for a zip archive`);
    const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tail = await readExact(src, rel, file, size - tailLen, tailLen, 'end of central directory');
    const tv = view(tail);
    let eocd = -1;
    for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) {
      // A comment whose length does not reach the end exactly still identifies the record; accept the last signature.
      for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
        if (tv.getUint32(i, true) === SIG_EOCD) {
          eocd = i;
          break;
        }
      }
    }
    if (eocd < 0) throw new ModelReadError(file, 'bad-zip', 'not a zip archive: end of central directory record not found');
    const diskNo = tv.getUint16(eocd + 4, true);
    const cdDisk = tv.getUint16(eocd + 6, true);
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    if (diskNo !== 0 && diskNo !== 0xffff) throw new ModelReadError(file, 'unsupported', `multi-disk zip archives are not supported (disk ${diskNo})`);
    if (cdDisk !== 0 && cdDisk !== 0xffff) throw new ModelReadError(file, 'unsupported', `multi-disk zip archives are not supported (central directory on disk ${cdDisk})`);
    const eocdAbs = size - tailLen + eocd;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocdAbs < 20) throw new ModelReadError(file, 'bad-zip', 'ZIP64 locator is missing');
      const loc = await readExact(src, rel, file, eocdAbs - 20, 20, 'ZIP64 end of central directory locator');
      const lv = view(loc);
      if (lv.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw new ModelReadError(file, 'bad-zip', 'ZIP64 end of central directory locator not found');
      const z64Offset = u64(lv, 8, file, 'ZIP64 end of central directory offset');
      if (z64Offset + 56 > size) throw new ModelReadError(file, 'bad-zip', `ZIP64 end of central directory at ${z64Offset} lies beyond the ${size}-byte file`);
      const rec = await readExact(src, rel, file, z64Offset, 56, 'ZIP64 end of central directory');
      const rv = view(rec);
      if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new ModelReadError(file, 'bad-zip', `no ZIP64 end of central directory record at ${z64Offset}`);
      count = u64(rv, 32, file, 'ZIP64 entry count');
      cdSize = u64(rv, 40, file, 'ZIP64 central directory size');
      cdOffset = u64(rv, 48, file, 'ZIP64 central directory offset');
    }
    if (count > maxEntries) throw new ModelReadError(file, 'too-many-entries', `${count} entries exceed the limit of ${maxEntries}`);
    if (cdOffset > size || cdSize > size - cdOffset) {
      throw new ModelReadError(file, 'bad-zip', `central directory [${cdOffset}, ${cdOffset + cdSize}) lies beyond the ${size}-byte file`);
    }
    if (cdSize < count * 46) throw new ModelReadError(file, 'bad-zip', `central directory of ${cdSize} bytes cannot hold ${count} entries`);
    const cd = await readExact(src, rel, file, cdOffset, cdSize, 'central directory');
    const entries = parseCentralDirectory(cd, count, file, size);
    return new ZipArchive(src, rel, file, size, entries, options.maxInflatedBytes ?? 1024 * 1024 * 1024);
  }

  entries(): readonly ZipEntry[] {
    return this.list;
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /** Absolute offset of an entry's data (after its local header). */
  dataOffset(name: string): Promise<number> {
    let p = this.dataOffsets.get(name);
    if (!p) {
      p = this.loadDataOffset(this.require(name));
      this.dataOffsets.set(name, p);
    }
    return p;
  }

  /** The whole uncompressed entry, CRC-32 verified. */
  async read(name: string): Promise<Uint8Array> {
    const e = this.require(name);
    this.checkReadable(e);
    if (e.method === 0) {
      const data = await readExact(this.src, this.rel, this.file, await this.dataOffset(name), e.compressedSize, `entry "${name}"`);
      this.checkCrc(e, data);
      return data;
    }
    if (e.uncompressedSize > this.maxInflatedBytes) {
      throw new ModelReadError(this.file, 'too-large', `entry "${name}" inflates to ${e.uncompressedSize} bytes, over the limit of ${this.maxInflatedBytes}`);
    }
    const packed = await readExact(this.src, this.rel, this.file, await this.dataOffset(name), e.compressedSize, `entry "${name}"`);
    let out: Uint8Array;
    try {
      const b = inflateRawSync(packed, { maxOutputLength: Math.max(e.uncompressedSize, 1) });
      out = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (err) {
      throw new ModelReadError(this.file, 'bad-deflate', `entry "${name}": deflate data is corrupted (${(err as Error).message})`, { cause: err });
    }
    if (out.length !== e.uncompressedSize) {
      throw new ModelReadError(this.file, 'bad-zip', `entry "${name}" inflates to ${out.length} bytes but the directory says ${e.uncompressedSize}`);
    }
    this.checkCrc(e, out);
    return out;
  }

  /**
   * A FileSource whose files are this archive's entries (directories derived from the names). Stored
   * entries are served by range reads straight from the archive (not CRC-checked unless read whole);
   * deflated entries are inflated into memory once, on first access, and CRC-checked.
   */
  fileSource(): FileSource {
    return new ZipFileSource(this);
  }

  /** @internal range read inside a stored entry, or inside the inflated copy of a deflated one. */
  async readEntryRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const e = this.require(name);
    this.checkReadable(e);
    const from = Math.max(0, Math.min(offset, e.uncompressedSize));
    const n = Math.max(0, Math.min(length, e.uncompressedSize - from));
    if (e.method === 0) {
      if (n === 0) return new Uint8Array(0);
      return readExact(this.src, this.rel, this.file, (await this.dataOffset(name)) + from, n, `entry "${name}"`);
    }
    const whole = await this.inflated(name);
    return whole.subarray(from, from + n);
  }

  private inflated(name: string): Promise<Uint8Array> {
    let p = this.inflatedCache.get(name);
    if (!p) {
      p = this.read(name);
      this.inflatedCache.set(name, p);
      p.catch(() => this.inflatedCache.delete(name));
    }
    return p;
  }

  private require(name: string): ZipEntry {
    const e = this.byName.get(name);
    if (!e) throw new ModelReadError(this.file, 'missing-entry', `no entry "${name}" in the archive`);
    return e;
  }

  private checkReadable(e: ZipEntry): void {
    if (e.encrypted) throw new ModelReadError(this.file, 'unsupported', `entry "${e.name}" is encrypted`);
    if (e.method !== 0 && e.method !== 8) throw new ModelReadError(this.file, 'unsupported', `entry "${e.name}" uses compression method ${e.method} (only stored and deflate are supported)`);
    if (e.method === 0 && e.compressedSize !== e.uncompressedSize) {
      throw new ModelReadError(this.file, 'bad-zip', `stored entry "${e.name}" has compressed size ${e.compressedSize} but uncompressed size ${e.uncompressedSize}`);
    }
  }

  private checkCrc(e: ZipEntry, data: Uint8Array): void {
    const actual = crc32(data);
    if (actual !== e.crc32) {
      throw new ModelReadError(this.file, 'crc-mismatch', `entry "${e.name}": CRC-32 mismatch (stored 0x${hex8(e.crc32)}, computed 0x${hex8(actual)})`);
    }
  }

  private async loadDataOffset(e: ZipEntry): Promise<number> {
    const head = await readExact(this.src, this.rel, this.file, e.localHeaderOffset, 30, `local header of "${e.name}"`);
    const hv = view(head);
    if (hv.getUint32(0, true) !== SIG_LOCAL) {
      throw new ModelReadError(this.file, 'bad-zip', `entry "${e.name}": no local file header at offset ${e.localHeaderOffset}`);
    }
    const nameLen = hv.getUint16(26, true);
    const extraLen = hv.getUint16(28, true);
    const start = e.localHeaderOffset + 30 + nameLen + extraLen;
    if (start > this.size || e.compressedSize > this.size - start) {
      throw new ModelReadError(this.file, 'bad-zip', `entry "${e.name}": ${e.compressedSize} bytes at offset ${start} lie beyond the ${this.size}-byte archive`);
    }
    return start;
  }
}

function parseCentralDirectory(cd: Uint8Array, count: number, file: string, archiveSize: number): ZipEntry[] {
  const v = view(cd);
  const dec = new TextDecoder('utf-8');
  const out: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length) throw new ModelReadError(file, 'bad-zip', `central directory ends after ${i} of ${count} entries`);
    if (v.getUint32(p, true) !== SIG_CENTRAL) throw new ModelReadError(file, 'bad-zip', `central directory entry ${i} has a bad signature at offset ${p}`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let csize = v.getUint32(p + 20, true);
    let usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let offset = v.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ModelReadError(file, 'bad-zip', `central directory entry ${i} runs past the directory`);
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: the 8-byte values replace those stored as 0xffffffff, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (x + 4 + len > xEnd) break;
      if (id === 0x0001) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len) throw new ModelReadError(file, 'bad-zip', `entry "${name}": ZIP64 extra field is too short`);
          const val = u64(v, q, file, `entry "${name}" ZIP64 field`);
          q += 8;
          return val;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (offset === 0xffffffff) offset = take();
      }
      x += 4 + len;
    }
    if (offset + 30 > archiveSize) throw new ModelReadError(file, 'bad-zip', `entry "${name}": local header offset ${offset} lies beyond the ${archiveSize}-byte archive`);
    if (csize > archiveSize) throw new ModelReadError(file, 'bad-zip', `entry "${name}": compressed size ${csize} exceeds the ${archiveSize}-byte archive`);
    out.push({
      name,
      method,
      compressedSize: csize,
      uncompressedSize: usize,
      crc32: crc,
      localHeaderOffset: offset,
      isDirectory: name.endsWith('/'),
      encrypted: (flags & 1) !== 0,
    });
    p = end;
  }
  return out;
}

/** FileSource over the entries of an archive: see ZipArchive.fileSource(). */
class ZipFileSource implements FileSource {
  readonly displayRoot: string;
  private readonly dirs = new Map<string, Set<string>>();

  constructor(private readonly zip: ZipArchive) {
    this.displayRoot = zip.file;
    this.dirs.set('', new Set());
    for (const e of zip.entries()) {
      const parts = e.name.split('/').filter((s) => s !== '');
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!this.dirs.has(dir)) this.dirs.set(dir, new Set());
        this.dirs.get(dir)!.add(parts[i]!);
        if (i < parts.length - 1 || e.isDirectory) {
          const sub = parts.slice(0, i + 1).join('/');
          if (!this.dirs.has(sub)) this.dirs.set(sub, new Set());
        }
      }
    }
  }

  private norm(rel: string): string {
    return rel.split('/').filter((s) => s !== '' && s !== '.').join('/');
  }

  async stat(rel: string): Promise<FileStat | null> {
    const r = this.norm(rel);
    const e = this.zip.entry(r);
    if (e && !e.isDirectory) return { size: e.uncompressedSize, isDirectory: false };
    if (this.dirs.has(r)) return { size: 0, isDirectory: true };
    return null;
  }

  async read(rel: string): Promise<Uint8Array> {
    return this.zip.read(this.norm(rel));
  }

  async readRange(rel: string, offset: number, length: number): Promise<Uint8Array> {
    return this.zip.readEntryRange(this.norm(rel), offset, length);
  }

  async list(rel: string): Promise<string[]> {
    return [...(this.dirs.get(this.norm(rel)) ?? [])];
  }
}

/** A FileSource over in-memory files (e.g. an entry inflated from an archive). */
export class MemoryFileSource implements FileSource {
  private readonly files: Map<string, Uint8Array>;
  constructor(
    files: Record<string, Uint8Array> | Map<string, Uint8Array>,
    readonly displayRoot = '<memory>',
  ) {
    this.files = files instanceof Map ? new Map(files) : new Map(Object.entries(files));
  }

  async stat(rel: string): Promise<FileStat | null> {
    const f = this.files.get(rel);
    if (f) return { size: f.length, isDirectory: false };
    if (rel === '' || [...this.files.keys()].some((k) => k.startsWith(`${rel}/`))) return { size: 0, isDirectory: true };
    return null;
  }

  async read(rel: string): Promise<Uint8Array> {
    const f = this.files.get(rel);
    if (!f) throw new ModelReadError(rel, 'missing-file', 'file not found');
    return f;
  }

  async readRange(rel: string, offset: number, length: number): Promise<Uint8Array> {
    const f = await this.read(rel);
    const from = Math.max(0, Math.min(offset, f.length));
    return f.subarray(from, Math.min(f.length, from + Math.max(0, length)));
  }

  async list(rel: string): Promise<string[]> {
    const prefix = rel === '' ? '' : `${rel}/`;
    const names = new Set<string>();
    for (const k of this.files.keys()) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]!);
    return [...names];
  }
}

async function readExact(src: FileSource, rel: string, file: string, offset: number, length: number, what: string): Promise<Uint8Array> {
  const b = await src.readRange(rel, offset, length);
  if (b.length !== length) throw new ModelReadError(file, 'truncated', `${what}: expected ${length} bytes at offset ${offset}, got ${b.length}`);
  return b;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, at: number, file: string, what: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  const n = hi * 0x100000000 + lo;
  if (!Number.isSafeInteger(n)) throw new ModelReadError(file, 'bad-zip', `${what} ${n} is too large`);
  return n;
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}
