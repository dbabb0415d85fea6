// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as used by zip. Node's zlib.crc32 (Node >= 20.15)
// is used when present; otherwise a table-driven fallback.
import * as zlib from 'node:zlib';

const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | null = null;

function buildTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

/** Continues a CRC-32 over `data` (start with 0). */
export function crc32Update(crc: number, data: Uint8Array): number {
  if (native) return native(data, crc) >>> 0;
  return crc32Fallback(crc, data);
}

export function crc32(data: Uint8Array): number {
  return crc32Update(0, data);
}

/** The table-driven implementation (exported for tests, which compare it with the native one). */
export function crc32Fallback(crc: number, data: Uint8Array): number {
  const t = (table ??= buildTable());
  let c = ~crc;
  for (let i = 0; i < data.length; i++) c = (c >>> 8) ^ t[(c ^ data[i]!) & 0xff]!;
  return ~c >>> 0;
}
