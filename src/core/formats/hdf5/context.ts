// Per-file state shared by the HDF5 decoders: sizes from the superblock, the base address, the I/O
// layer and caches of heaps already read.
import { ModelReadError } from '../../io/errors';
import { ByteCursor, hex, UNDEFINED_ADDRESS } from './bytes';
import type { Hdf5Io } from './io';
import { lookup3 } from './lookup3';
import type { Sizes } from './messages';

export interface Hdf5Limits {
  /** Largest dataset or attribute value decoded, in bytes (default 1 GiB). */
  readonly maxDataBytes: number;
  /** Most messages accepted in one object header (continuations included). */
  readonly maxMessages: number;
  /** Most B-tree / heap blocks visited for one structure. */
  readonly maxNodes: number;
}

export const DEFAULT_HDF5_LIMITS: Hdf5Limits = {
  maxDataBytes: 1024 * 1024 * 1024,
  maxMessages: 1_000_000,
  maxNodes: 1_000_000,
};

export class Hdf5Context implements Sizes {
  readonly globalHeaps = new Map<number, Promise<Map<number, Uint8Array>>>();

  constructor(
    readonly io: Hdf5Io,
    /** Name used in errors. */
    readonly file: string,
    readonly offsetSize: number,
    readonly lengthSize: number,
    /** Absolute position that relative addresses start from. */
    readonly base: number,
    readonly groupLeafK: number,
    readonly limits: Hdf5Limits,
  ) {}

  /** Reads `len` bytes at relative address `addr`. */
  async read(addr: number, len: number, what: string): Promise<Uint8Array> {
    if (addr === UNDEFINED_ADDRESS) throw new ModelReadError(this.file, 'bad-address', `${what}: address is undefined`);
    return this.io.read(this.base + addr, len, `${what} at ${hex(addr)}`);
  }

  /** Reads up to `len` bytes at `addr` (fewer at end of file). */
  async readUpTo(addr: number, len: number, what: string): Promise<Uint8Array> {
    if (addr === UNDEFINED_ADDRESS) throw new ModelReadError(this.file, 'bad-address', `${what}: address is undefined`);
    return this.io.readUpTo(this.base + addr, len, `${what} at ${hex(addr)}`);
  }

  cursor(buf: Uint8Array, what: string, start = 0, end = buf.length): ByteCursor {
    return new ByteCursor(buf, this.file, what, start, end);
  }

  /** Verifies a lookup3 checksum stored little-endian right after `buf[start, end)`. */
  verifyChecksum(buf: Uint8Array, start: number, end: number, what: string): void {
    if (end + 4 > buf.length) throw new ModelReadError(this.file, 'truncated', `${what}: checksum is missing`);
    const stored = (buf[end]! | (buf[end + 1]! << 8) | (buf[end + 2]! << 16) | (buf[end + 3]! << 24)) >>> 0;
    const actual = lookup3(buf, start, end);
    if (stored !== actual) {
      throw new ModelReadError(
        this.file,
        'checksum-mismatch',
        `${what}: checksum mismatch (stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')})`,
      );
    }
  }
}
