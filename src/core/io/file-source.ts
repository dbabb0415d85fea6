// Readers see files only through FileSource, so the same reader serves the CLI (node fs), the tests and
// the extension (which may hand in a VS Code workspace.fs-backed source). Paths are '/'-separated and
// relative to the source's root.
import fs from 'node:fs';
import path from 'node:path';
import { ModelReadError } from './errors';

export interface FileStat {
  readonly size: number;
  readonly isDirectory: boolean;
}

export interface FileSource {
  /** Human-readable location of the root, used in error messages. */
  readonly displayRoot: string;
  stat(rel: string): Promise<FileStat | null>;
  /** Whole file. Throws ModelReadError if missing. */
  read(rel: string): Promise<Uint8Array>;
  /** Bytes [offset, offset+length). Returns fewer bytes only at end of file. */
  readRange(rel: string, offset: number, length: number): Promise<Uint8Array>;
  /** Names (not paths) in a directory; [] if it does not exist. */
  list(rel: string): Promise<string[]>;
}

/**
 * FileSource over the local file system rooted at `root` (a directory).
 *
 * Readers issue many small reads (HDF5 object headers, checkpoint blocks); an open/read/close through
 * the libuv thread pool per read costs more than the parsing. So each file is opened once and read with
 * positioned synchronous reads on the cached descriptor, and `dispose()` closes them all. Reads are small
 * and local; whole-file reads are bounded by the structure files' sizes.
 */
export class NodeFileSource implements FileSource {
  readonly displayRoot: string;
  private readonly fds = new Map<string, number>();

  constructor(private readonly root: string) {
    this.displayRoot = root;
  }

  private abs(rel: string): string {
    return rel === '' || rel === '.' ? this.root : path.join(this.root, rel);
  }

  private fd(rel: string): number {
    let fd = this.fds.get(rel);
    if (fd === undefined) {
      try {
        fd = fs.openSync(this.abs(rel), 'r');
      } catch (e) {
        throw new ModelReadError(rel, 'missing-file', `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
      }
      this.fds.set(rel, fd);
    }
    return fd;
  }

  async stat(rel: string): Promise<FileStat | null> {
    try {
      const s = fs.statSync(this.abs(rel));
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch {
      return null;
    }
  }

  async read(rel: string): Promise<Uint8Array> {
    try {
      const buf = fs.readFileSync(this.abs(rel));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw new ModelReadError(rel, 'missing-file', `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }

  async readRange(rel: string, offset: number, length: number): Promise<Uint8Array> {
    const fd = this.fd(rel);
    const out = new Uint8Array(length);
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw new ModelReadError(rel, 'io-error', `cannot read ${length} bytes at offset ${offset} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
    return done === length ? out : out.subarray(0, done);
  }

  async list(rel: string): Promise<string[]> {
    try {
      return fs.readdirSync(this.abs(rel));
    } catch {
      return [];
    }
  }

  /** Closes every descriptor this source opened. The source stays usable (files reopen on demand). */
  dispose(): void {
    for (const fd of this.fds.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed: nothing to release
      }
    }
    this.fds.clear();
  }
}

/** Joins '/'-separated relative paths. */
export function joinRel(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}
