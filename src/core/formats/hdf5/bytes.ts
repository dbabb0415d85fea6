// A bounds-checked little-endian cursor for HDF5 structures. Offsets and lengths have per-file sizes
// (superblock "Size of Offsets" / "Size of Lengths"); every overrun becomes a ModelReadError that names
// the file and the structure being read.
import { ModelReadError } from '../../io/errors';

export const UNDEFINED_ADDRESS = -1;

export class ByteCursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    /** What is being decoded, for error messages ("object header at 0x60"). */
    readonly what: string,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || n > this.end - this.pos) {
      throw new ModelReadError(this.file, 'truncated', `${this.what}: needs ${n} more bytes at offset ${this.pos} but only ${this.end - this.pos} remain`);
    }
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const v = b[this.pos]! | (b[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  /** Unsigned little-endian integer of `n` bytes (1..8). */
  uint(n: number): number {
    const p = this.pos;
    const v = this.rawUint(n);
    if (v > Number.MAX_SAFE_INTEGER) {
      throw new ModelReadError(this.file, 'bad-value', `${this.what}: ${n}-byte value at offset ${p} is too large (${v})`);
    }
    return v;
  }

  /** An address (or a length that may be "undefined"): all bits set means UNDEFINED_ADDRESS (-1). */
  addr(n: number): number {
    const p = this.pos;
    this.need(n);
    let allOnes = true;
    for (let i = 0; i < n; i++) if (this.buf[p + i] !== 0xff) allOnes = false;
    if (allOnes) {
      this.pos += n;
      return UNDEFINED_ADDRESS;
    }
    return this.uint(n);
  }

  private rawUint(n: number): number {
    this.need(n);
    const b = this.buf;
    const p = this.pos;
    this.pos += n;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[p + i]!;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  signature(expected: string): void {
    this.need(4);
    const got = String.fromCharCode(this.buf[this.pos]!, this.buf[this.pos + 1]!, this.buf[this.pos + 2]!, this.buf[this.pos + 3]!);
    if (got !== expected) {
      throw new ModelReadError(this.file, 'bad-signature', `${this.what}: expected signature "${expected}" but found ${JSON.stringify(got)}`);
    }
    this.pos += 4;
  }

  /** Advances to the next multiple of `n` relative to `base`. */
  align(n: number, base = 0): void {
    const rel = this.pos - base;
    const pad = (n - (rel % n)) % n;
    this.skip(Math.min(pad, this.remaining));
  }
}

/** Reads a NUL-terminated string from `buf[start, end)`; unterminated strings end at `end`. */
export function cString(buf: Uint8Array, start: number, end = buf.length): string {
  let e = start;
  while (e < end && buf[e] !== 0) e++;
  return utf8(buf.subarray(start, e));
}

const decoder = new TextDecoder('utf-8');
export function utf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Number of bytes needed to store `v` (at least 1). */
export function bytesNeeded(v: number): number {
  let n = 1;
  while (v >= 256 ** n && n < 8) n++;
  return n;
}

export function hex(addr: number): string {
  return '0x' + addr.toString(16);
}
