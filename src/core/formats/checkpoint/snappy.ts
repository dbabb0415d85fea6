// Raw Snappy block decompression (google/snappy format_description.txt): a varint preamble with the
// uncompressed length, then literal and copy elements. Every length and offset is checked against the
// bytes actually present before it is used, so a corrupted stream ends in a ModelReadError, never in an
// out-of-range read or an oversized allocation.
import { ModelReadError } from '../../io/errors';

export interface SnappyOptions {
  /** Largest uncompressed length accepted (default 256 MiB). */
  readonly maxOutputBytes?: number;
}

const DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024;

/** Reads the preamble: the uncompressed length and where the elements start. */
export function snappyUncompressedLength(input: Uint8Array, file: string): { length: number; start: number } {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= input.length) throw bad(file, 'the uncompressed-length preamble is truncated');
    const b = input[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) {
      if (result > 0xffffffff) throw bad(file, `uncompressed length ${result} exceeds 2^32-1`);
      return { length: result, start: i + 1 };
    }
    shift += 7;
  }
  throw bad(file, 'the uncompressed-length preamble is longer than 5 bytes');
}

/** Decompresses one raw Snappy block. `file` names the file in errors. */
export function snappyDecompress(input: Uint8Array, file: string, options: SnappyOptions = {}): Uint8Array {
  const { length: outLen, start } = snappyUncompressedLength(input, file);
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  if (outLen > max) throw bad(file, `declared uncompressed length ${outLen} exceeds the limit of ${max} bytes`);
  // Each input byte yields at most 64 output bytes (a 3-byte copy of length 64), so a declared length
  // beyond that is a lie we can reject before allocating.
  if (outLen > (input.length - start) * 64) {
    throw bad(file, `declared uncompressed length ${outLen} cannot come from ${input.length - start} compressed bytes`);
  }
  const out = new Uint8Array(outLen);
  let ip = start;
  let op = 0;
  const inLen = input.length;
  while (ip < inLen) {
    const tag = input[ip++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const nBytes = len - 59;
        if (ip + nBytes > inLen) throw bad(file, `literal length field at byte ${ip - 1} is truncated`);
        len = 0;
        for (let k = 0; k < nBytes; k++) len += input[ip + k]! * 2 ** (8 * k);
        ip += nBytes;
      }
      len += 1;
      if (len > inLen - ip) throw bad(file, `literal of ${len} bytes at byte ${ip} runs past the end of the input (${inLen - ip} left)`);
      if (len > outLen - op) throw bad(file, `literal of ${len} bytes overflows the declared output length ${outLen}`);
      out.set(input.subarray(ip, ip + len), op);
      ip += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (ip >= inLen) throw bad(file, `copy element at byte ${ip - 1} is truncated`);
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (kind === 2) {
      if (ip + 2 > inLen) throw bad(file, `copy element at byte ${ip - 1} is truncated`);
      len = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > inLen) throw bad(file, `copy element at byte ${ip - 1} is truncated`);
      len = (tag >>> 2) + 1;
      offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op) throw bad(file, `copy offset ${offset} is invalid at output position ${op}`);
    if (len > outLen - op) throw bad(file, `copy of ${len} bytes overflows the declared output length ${outLen}`);
    let from = op - offset;
    if (offset >= len) {
      out.copyWithin(op, from, from + len);
      op += len;
    } else {
      // Overlapping copy (run-length style): bytes written in this copy feed the rest of it.
      for (let k = 0; k < len; k++) out[op++] = out[from++]!;
    }
  }
  if (op !== outLen) throw bad(file, `stream produced ${op} bytes but declared ${outLen}`);
  return out;
}

function bad(file: string, what: string): ModelReadError {
  return new ModelReadError(file, 'bad-snappy', `corrupted snappy block: ${what}`);
}
