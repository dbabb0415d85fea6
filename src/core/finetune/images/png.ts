// PNG decoder (PNG specification, ISO/IEC 15948): every colour type and bit depth (1-16), PLTE + tRNS, Adam7
// interlace, all five filter types, chunk CRCs. The output is what tf.io.decode_image(channels=C) returns,
// i.e. what TensorFlow's libpng set-up makes of the file:
//   - palette -> RGB; gray below 8 bits scaled to 0-255 (1 bit: 0/255, 2 bits: x85, 4 bits: x17);
//   - 16-bit samples keep their high byte (libpng strip_16, not rounding);
//   - C=1 from colour: libpng rgb_to_gray with coefficients 0.299/0.587 (integers 9797, 19234, 3737 over 2^15),
//     truncated at 8 bits and rounded at 16 bits (before the high byte is kept), no gamma;
//   - C=1/3: alpha (alpha channel or tRNS) is dropped, never composited; C=4: alpha from the channel or tRNS,
//     else TensorFlow's filler (1 << bit depth) - 1.
// A chunk with a bad CRC is an error when critical (IHDR, PLTE, IDAT, IEND) and skipped when ancillary, as libpng.
import { constants as zc, inflateSync } from 'node:zlib';
import { checkDimensions, imageFail, type DecodedImage } from './common';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ADAM7: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];
const SAMPLES_PER_PIXEL: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, readonly number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

let crcTable: Uint32Array | null = null;
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

export function decodePng(bytes: Uint8Array, file: string, channels: number): DecodedImage {
  const fail = (detail: string): never => imageFail(file, `PNG: ${detail}`);
  if (!isPng(bytes)) fail('bad signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let sawIend = false;
  let p = 8;
  while (p < bytes.length) {
    if (p + 12 > bytes.length) fail(`truncated: chunk header at byte ${p} runs past the end of the file`);
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4]!, bytes[p + 5]!, bytes[p + 6]!, bytes[p + 7]!);
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`bad chunk type ${JSON.stringify(type)} at byte ${p}`);
    if (len > 0x7fffffff) fail(`chunk ${type} at byte ${p}: length ${len} is too large`);
    if (p + 12 + len > bytes.length) fail(`truncated: chunk ${type} at byte ${p} needs ${len} bytes, the file ends first`);
    const data = bytes.subarray(p + 8, p + 8 + len);
    const critical = (bytes[p + 4]! & 0x20) === 0;
    const crcOk = crc32(bytes, p + 4, p + 8 + len) === view.getUint32(p + 8 + len);
    if (!crcOk && critical) fail(`CRC mismatch in chunk ${type} at byte ${p}`);
    p += 12 + len;
    if (p === 20 && type !== 'IHDR') fail(`the first chunk is ${type}, not IHDR`);
    if (!crcOk) continue; // ancillary chunk with a bad CRC: skipped, as libpng does
    if (type === 'IHDR') {
      if (p !== 33 || len !== 13) fail('IHDR must be the first chunk and 13 bytes long');
      width = view.getUint32(16);
      height = view.getUint32(20);
      depth = data[8]!;
      colorType = data[9]!;
      interlace = data[12]!;
      if (!(colorType in SAMPLES_PER_PIXEL)) fail(`colour type ${colorType} does not exist`);
      if (!DEPTHS[colorType]!.includes(depth)) fail(`bit depth ${depth} is not allowed with colour type ${colorType}`);
      if (data[10] !== 0 || data[11] !== 0) fail(`compression method ${data[10]} / filter method ${data[11]} is not 0`);
      if (interlace > 1) fail(`interlace method ${interlace} does not exist`);
      if (width > 0x7fffffff || height > 0x7fffffff) fail(`size ${width} x ${height} is out of range`);
      checkDimensions(file, 'PNG', width, height);
    } else if (type === 'PLTE') {
      if (len % 3 !== 0 || len === 0 || len > 768) fail(`PLTE of ${len} bytes (must be 3 to 768, a multiple of 3)`);
      palette = data;
    } else if (type === 'tRNS') {
      trns = data;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      sawIend = true;
      break;
    } else if (critical) {
      fail(`unknown critical chunk ${type}`);
    }
  }
  if (colorType < 0) fail('no IHDR chunk');
  if (!sawIend) fail('truncated: no IEND chunk');
  if (idat.length === 0) fail('no image data (IDAT)');
  if (colorType === 3 && !palette) fail('colour type 3 (palette) without a PLTE chunk');
  if (palette && colorType === 3 && palette.length / 3 > 1 << depth) fail(`PLTE has ${palette.length / 3} entries, more than ${1 << depth} for bit depth ${depth}`);

  const spp = SAMPLES_PER_PIXEL[colorType]!;
  const bitsPP = spp * depth;
  const bpp = Math.max(1, bitsPP >> 3);
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1] as const];
  let expected = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw > 0 && ph > 0) expected += ph * (1 + Math.ceil((pw * bitsPP) / 8));
  }
  const compressed = idat.length === 1 ? idat[0]! : Buffer.concat(idat);
  let raw: Uint8Array;
  try {
    raw = inflateSync(compressed, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: expected + (1 << 20) });
  } catch (e) {
    return fail(`corrupt image data (IDAT): ${(e as Error).message}`);
  }
  if (raw.length < expected) fail(`image data ends early: ${raw.length} of ${expected} bytes after decompression`);

  // Samples at their native depth, de-interlaced.
  const samples = depth === 16 ? new Uint16Array(width * height * spp) : new Uint8Array(width * height * spp);
  let q = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * bitsPP) / 8);
    let prev: Uint8Array = new Uint8Array(rowBytes);
    for (let r = 0; r < ph; r++) {
      const ft = raw[q]!;
      const row = raw.subarray(q + 1, q + 1 + rowBytes);
      q += 1 + rowBytes;
      unfilter(ft, row, prev, bpp, fail);
      const y = y0 + r * dy;
      for (let i = 0; i < pw; i++) {
        const o = (y * width + x0 + i * dx) * spp;
        for (let s = 0; s < spp; s++) {
          const k = i * spp + s;
          let v: number;
          if (depth === 8) v = row[k]!;
          else if (depth === 16) v = (row[2 * k]! << 8) | row[2 * k + 1]!;
          else {
            const bit = k * depth;
            v = (row[bit >> 3]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          }
          samples[o + s] = v;
        }
      }
      prev = row;
    }
  }
  return toChannels(file, samples, width, height, colorType, depth, palette, trns, channels);
}

function unfilter(ft: number, row: Uint8Array, prev: Uint8Array, bpp: number, fail: (d: string) => never): void {
  const n = row.length;
  switch (ft) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i]! + row[i - bpp]!) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + prev[i]!) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) row[i] = (row[i]! + (((i >= bpp ? row[i - bpp]! : 0) + prev[i]!) >> 1)) & 0xff;
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp]! : 0;
        const b = prev[i]!;
        const c = i >= bpp ? prev[i - bpp]! : 0;
        const pp = a + b - c;
        const pa = Math.abs(pp - a), pb = Math.abs(pp - b), pc = Math.abs(pp - c);
        row[i] = (row[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    default:
      fail(`bad filter type ${ft}`);
  }
}

function toChannels(file: string, s: Uint8Array | Uint16Array, width: number, height: number, colorType: number, depth: number, palette: Uint8Array | null, trns: Uint8Array | null, channels: number): DecodedImage {
  if (channels !== 1 && channels !== 3 && channels !== 4) imageFail(file, `PNG: ${channels} channels requested (1, 3 or 4)`);
  const n = width * height;
  const out = new Uint8Array(n * channels);
  const spp = SAMPLES_PER_PIXEL[colorType]!;
  const wide = depth === 16;
  const to8 = (v: number): number => (wide ? v >> 8 : depth < 8 ? (v * 255) / ((1 << depth) - 1) : v);
  // Alpha where the file has none: tRNS present -> opaque (255 / 65535); else TensorFlow's filler, which is
  // (1 << bit depth) - 1 of the ORIGINAL depth (a 1-bit gray file gets alpha 1, a 4-bit palette file 15).
  const maxv = trns ? (wide ? 65535 : 255) : (wide ? 65535 : (1 << depth) - 1);
  // tRNS colour key (gray / RGB) at the native depth; palette alpha by index.
  let keyGray = -1, keyR = -1, keyG = -1, keyB = -1;
  const keyMask = wide ? 0xffff : (1 << depth) - 1; // libpng compares the key at the image's depth
  if (trns && colorType === 0 && trns.length >= 2) keyGray = ((trns[0]! << 8) | trns[1]!) & keyMask;
  if (trns && colorType === 2 && trns.length >= 6) {
    keyR = ((trns[0]! << 8) | trns[1]!) & keyMask;
    keyG = ((trns[2]! << 8) | trns[3]!) & keyMask;
    keyB = ((trns[4]! << 8) | trns[5]!) & keyMask;
  }
  const entries = palette ? palette.length / 3 : 0;
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number, a: number, gray: boolean;
    const o = i * spp;
    switch (colorType) {
      case 0:
        r = g = b = s[o]!;
        a = s[o] === keyGray ? 0 : maxv;
        gray = true;
        break;
      case 4:
        r = g = b = s[o]!;
        a = s[o + 1]!;
        gray = true;
        break;
      case 2:
        r = s[o]!;
        g = s[o + 1]!;
        b = s[o + 2]!;
        a = r === keyR && g === keyG && b === keyB ? 0 : maxv;
        gray = false;
        break;
      case 6:
        r = s[o]!;
        g = s[o + 1]!;
        b = s[o + 2]!;
        a = s[o + 3]!;
        gray = false;
        break;
      default: {
        const idx = s[o]!;
        if (idx < entries) {
          r = palette![3 * idx]!;
          g = palette![3 * idx + 1]!;
          b = palette![3 * idx + 2]!;
        } else {
          r = g = b = 0; // libpng's palette is zero-filled past its entries
        }
        a = trns ? (idx < trns.length ? trns[idx]! : 255) : maxv;
        gray = false;
      }
    }
    const d = i * channels;
    if (channels === 1) {
      // libpng rgb_to_gray (r == g == b gives r exactly either way)
      if (gray) out[d] = to8(r);
      else if (wide) out[d] = ((9797 * r + 19234 * g + 3737 * b + 16384) >> 15) >> 8;
      else out[d] = (9797 * r + 19234 * g + 3737 * b) >> 15;
    } else {
      const isPal = colorType === 3;
      out[d] = isPal ? r : to8(r);
      out[d + 1] = isPal ? g : to8(g);
      out[d + 2] = isPal ? b : to8(b);
      if (channels === 4) out[d + 3] = isPal ? a : wide ? a >> 8 : a;
    }
  }
  return { width, height, channels, data: out };
}
