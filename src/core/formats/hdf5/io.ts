// Random access to one HDF5 file through FileSource.readRange, with a small page cache: metadata reads
// are many and tiny (object headers, heaps, B-tree nodes), so they are served from 64 KiB pages; large
// reads (dataset data) bypass the cache. Every read is checked against the file size first.
import type { FileSource } from '../../io/file-source';
import { ModelReadError } from '../../io/errors';
import { hex } from './bytes';

const PAGE_SIZE = 64 * 1024;
const MAX_PAGES = 256;
/**
 * Files up to this size are read whole on the first access: h5py interleaves metadata with data, so
 * walking the structure touches most pages of a small file anyway, and one read beats dozens.
 */
const WHOLE_FILE_MAX = 16 * 1024 * 1024;

export class Hdf5Io {
  private readonly pages = new Map<number, Uint8Array>();
  private whole: Promise<Uint8Array> | null = null;

  constructor(
    readonly src: FileSource,
    /** Path relative to the source root. */
    readonly rel: string,
    readonly size: number,
    /** File name used in errors. */
    readonly file: string = rel,
  ) {}

  /** Bytes [pos, pos+len) of the file (absolute position). Throws ModelReadError when beyond EOF. */
  async read(pos: number, len: number, what: string): Promise<Uint8Array> {
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos > this.size || len > this.size - pos) {
      throw new ModelReadError(
        this.file,
        'out-of-bounds',
        `${what}: ${len} bytes at ${hex(pos)} lie beyond the end of the ${this.size}-byte file`,
      );
    }
    if (len === 0) return new Uint8Array(0);
    if (this.size <= WHOLE_FILE_MAX) {
      this.whole ??= this.direct(0, this.size, 'file');
      return (await this.whole).subarray(pos, pos + len);
    }
    const first = Math.floor(pos / PAGE_SIZE);
    const last = Math.floor((pos + len - 1) / PAGE_SIZE);
    if (last - first >= 4) return this.direct(pos, len, what);
    if (first === last) {
      const page = await this.page(first, what);
      const off = pos - first * PAGE_SIZE;
      if (off + len > page.length) throw this.short(pos, len, what);
      return page.subarray(off, off + len);
    }
    const out = new Uint8Array(len);
    let done = 0;
    for (let p = first; p <= last; p++) {
      const page = await this.page(p, what);
      const from = p === first ? pos - first * PAGE_SIZE : 0;
      const n = Math.min(page.length - from, len - done);
      if (n <= 0) throw this.short(pos, len, what);
      out.set(page.subarray(from, from + n), done);
      done += n;
    }
    if (done !== len) throw this.short(pos, len, what);
    return out;
  }

  /** Reads up to `len` bytes at `pos`, fewer at end of file (for structures whose size is only an upper bound). */
  async readUpTo(pos: number, len: number, what: string): Promise<Uint8Array> {
    if (pos < 0 || pos >= this.size) return this.read(pos, 1, what);
    return this.read(pos, Math.min(len, this.size - pos), what);
  }

  private async direct(pos: number, len: number, what: string): Promise<Uint8Array> {
    const got = await this.src.readRange(this.rel, pos, len);
    if (got.length !== len) throw this.short(pos, len, what);
    return got;
  }

  private async page(index: number, what: string): Promise<Uint8Array> {
    const hit = this.pages.get(index);
    if (hit) return hit;
    const start = index * PAGE_SIZE;
    const want = Math.min(PAGE_SIZE, this.size - start);
    const got = await this.src.readRange(this.rel, start, want);
    if (got.length !== want) throw this.short(start, want, what);
    if (this.pages.size >= MAX_PAGES) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
    this.pages.set(index, got);
    return got;
  }

  private short(pos: number, len: number, what: string): ModelReadError {
    return new ModelReadError(this.file, 'truncated', `${what}: could not read ${len} bytes at ${hex(pos)} (file changed or truncated)`);
  }
}
