// Readers see files only through FileSource, so the same reader serves the CLI (node fs), the tests and
// the extension (which may hand in a VS Code workspace.fs-backed source). Paths are '/'-separated and
// relative to the source's root.
import { promises as fsp, constants as fsc } from 'node:fs';
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

/** FileSource over the local file system rooted at `root` (a directory). */
export class NodeFileSource implements FileSource {
  readonly displayRoot: string;
  constructor(private readonly root: string) {
    this.displayRoot = root;
  }

  private abs(rel: string): string {
    return rel === '' || rel === '.' ? this.root : path.join(this.root, rel);
  }

  async stat(rel: string): Promise<FileStat | null> {
    try {
      const s = await fsp.stat(this.abs(rel));
      return { size: s.size, isDirectory: s.isDirectory() };
    } catch {
      return null;
    }
  }

  async read(rel: string): Promise<Uint8Array> {
    try {
      const buf = await fsp.readFile(this.abs(rel));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw new ModelReadError(rel, 'missing-file', `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }

  async readRange(rel: string, offset: number, length: number): Promise<Uint8Array> {
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await fsp.open(this.abs(rel), fsc.O_RDONLY);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? out : out.subarray(0, done);
    } catch (e) {
      throw new ModelReadError(rel, 'missing-file', `cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    } finally {
      await fh?.close();
    }
  }

  async list(rel: string): Promise<string[]> {
    try {
      return await fsp.readdir(this.abs(rel));
    } catch {
      return [];
    }
  }
}

/** Joins '/'-separated relative paths. */
export function joinRel(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}
