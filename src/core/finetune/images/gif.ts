// GIF decoder (GIF87a/GIF89a specification): colour tables, LZW with variable code width, interlace,
// graphic control extension (transparent index). Like tf.io.decode_image(expand_animations=False):
//   - the FIRST frame only; every frame is still read and LZW-decoded, so that a file TensorFlow's giflib
//     (DGifSlurp) refuses is refused here too;
//   - the image is as wide as the widest frame and as high as the highest (of all frames, not the logical
//     screen); the first frame is drawn at its left/top offset into that canvas, clipped, the rest black;
//   - a transparent pixel of the first frame is black; an index past the colour table is an error;
//   - RGB only: C=1 and C=4 are refused ("channels must be 0 or 3 for GIF").
import { checkDimensions, imageFail, type DecodedImage } from './common';

export function isGif(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x38;
}

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  table: Uint8Array | null;
  transparent: number;
  indices: Uint8Array;
}

export function decodeGif(bytes: Uint8Array, file: string, channels: number): DecodedImage {
  const fail = (detail: string): never => imageFail(file, `GIF: ${detail}`);
  if (!isGif(bytes) || bytes.length < 6 || (bytes[4] !== 0x37 && bytes[4] !== 0x39) || bytes[5] !== 0x61) fail('bad signature (not GIF87a/GIF89a)');
  if (channels !== 3) fail(`TensorFlow decodes GIF with 3 channels only, the model wants ${channels}`);
  let p = 6;
  const need = (n: number, what: string): void => {
    if (p + n > bytes.length) fail(`truncated in ${what} at byte ${p}`);
  };
  need(7, 'the logical screen descriptor');
  const flags = bytes[10]!;
  p = 13;
  let globalTable: Uint8Array | null = null;
  if (flags & 0x80) {
    const size = 3 * (2 << (flags & 7));
    need(size, 'the global colour table');
    globalTable = bytes.subarray(p, p + size);
    p += size;
  }
  let transparent = -1;
  const frames: Frame[] = [];
  const subBlocks = (what: string): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    for (;;) {
      need(1, what);
      const n = bytes[p++]!;
      if (n === 0) return parts;
      need(n, what);
      parts.push(bytes.subarray(p, p + n));
      p += n;
    }
  };
  for (;;) {
    need(1, 'the block list (no trailer)');
    const kind = bytes[p++]!;
    if (kind === 0x3b) break;
    if (kind === 0x21) {
      need(1, 'an extension');
      const label = bytes[p++]!;
      const blocks = subBlocks('an extension');
      if (label === 0xf9 && blocks[0] && blocks[0].length >= 4) transparent = blocks[0][0]! & 1 ? blocks[0][3]! : -1;
      continue;
    }
    if (kind !== 0x2c) fail(`unknown block 0x${kind.toString(16).padStart(2, '0')} at byte ${p - 1}`);
    need(9, 'an image descriptor');
    const left = bytes[p]! | (bytes[p + 1]! << 8);
    const top = bytes[p + 2]! | (bytes[p + 3]! << 8);
    const width = bytes[p + 4]! | (bytes[p + 5]! << 8);
    const height = bytes[p + 6]! | (bytes[p + 7]! << 8);
    const iflags = bytes[p + 8]!;
    p += 9;
    let table: Uint8Array | null = null;
    if (iflags & 0x80) {
      const size = 3 * (2 << (iflags & 7));
      need(size, 'a local colour table');
      table = bytes.subarray(p, p + size);
      p += size;
    }
    checkDimensions(file, `GIF frame ${frames.length + 1}`, width, height);
    need(1, 'the LZW minimum code size');
    const minCode = bytes[p++]!;
    if (minCode < 1 || minCode > 8) fail(`frame ${frames.length + 1}: LZW minimum code size ${minCode} (must be 1-8)`);
    const data = subBlocks(`frame ${frames.length + 1}'s image data`);
    let indices = lzwDecode(data, minCode, width * height, (d) => fail(`frame ${frames.length + 1}: ${d}`));
    if (iflags & 0x40) indices = deinterlace(indices, width, height);
    frames.push({ left, top, width, height, table: table ?? globalTable, transparent, indices });
    transparent = -1;
  }
  const first = frames[0];
  if (!first) return fail('the file holds no image');
  if (!first.table) fail('frame 1 has no colour table (neither local nor global)');
  // TensorFlow's canvas: the largest frame width and height over ALL frames (not the logical screen)
  const width = Math.max(...frames.map((f) => f.width));
  const height = Math.max(...frames.map((f) => f.height));
  const table = first.table;
  const colors = table!.length / 3;
  const out = new Uint8Array(width * height * 3); // black where the frame does not reach
  for (let y = first.top; y < Math.min(first.top + first.height, height); y++) {
    for (let x = first.left; x < Math.min(first.left + first.width, width); x++) {
      const idx = first.indices[(y - first.top) * first.width + (x - first.left)]!;
      if (idx === first.transparent) continue;
      if (idx >= colors) fail(`colour index ${idx} is outside the ${colors}-entry colour table`);
      const d = (y * width + x) * 3;
      out[d] = table![3 * idx]!;
      out[d + 1] = table![3 * idx + 1]!;
      out[d + 2] = table![3 * idx + 2]!;
    }
  }
  return { width, height, channels: 3, data: out };
}

function deinterlace(src: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(src.length);
  let r = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]] as const) {
    for (let y = start; y < height; y += step) {
      out.set(src.subarray(r * width, (r + 1) * width), y * width);
      r++;
    }
  }
  return out;
}

/** GIF LZW: codes packed LSB first, width growing to 12 bits, clear and end-of-information codes. */
function lzwDecode(blocks: Uint8Array[], minCode: number, count: number, fail: (d: string) => never): Uint8Array {
  const out = new Uint8Array(count);
  const clear = 1 << minCode;
  const eoi = clear + 1;
  const prefix = new Int16Array(4096).fill(-1);
  const suffix = new Uint8Array(4096);
  const firstChar = new Uint8Array(4096);
  const lengths = new Uint16Array(4096);
  for (let i = 0; i < clear; i++) {
    suffix[i] = firstChar[i] = i;
    lengths[i] = 1;
  }
  let size = minCode + 1;
  let next = eoi + 1;
  let prev = -1;
  let pos = 0;
  let bits = 0, nbits = 0;
  let b = 0, bi = 0;
  const emit = (code: number): void => {
    const len = lengths[code]!;
    let c = code;
    for (let i = len - 1; i >= 0; i--) {
      if (pos + i < count) out[pos + i] = suffix[c]!;
      c = prefix[c]!;
    }
    pos += len;
  };
  while (pos < count) {
    while (nbits < size) {
      while (b < blocks.length && bi >= blocks[b]!.length) {
        b++;
        bi = 0;
      }
      if (b >= blocks.length) return fail(`image data ends after ${pos} of ${count} pixels`);
      bits |= blocks[b]![bi++]! << nbits;
      nbits += 8;
    }
    const code = bits & ((1 << size) - 1);
    bits >>>= size;
    nbits -= size;
    if (code === clear) {
      size = minCode + 1;
      next = eoi + 1;
      prev = -1;
      continue;
    }
    if (code === eoi) return fail(`image data ends after ${pos} of ${count} pixels`);
    if (prev < 0) {
      if (code >= clear) fail(`LZW code ${code} before any string`);
      emit(code);
      prev = code;
      continue;
    }
    let first: number;
    if (code < next) {
      emit(code);
      first = firstChar[code]!;
    } else if (code === next && next < 4096) {
      // KwKwK: the previous string plus its own first character
      first = firstChar[prev]!;
      emit(prev);
      if (pos < count) out[pos] = first;
      pos++;
    } else {
      return fail(`bad LZW code ${code} (the table has ${next} entries)`);
    }
    if (next < 4096) {
      prefix[next] = prev;
      suffix[next] = first;
      firstChar[next] = firstChar[prev]!;
      lengths[next] = lengths[prev]! + 1;
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    prev = code;
  }
  return out; // every pixel is there: whatever follows (normally the end code) is not needed
}
