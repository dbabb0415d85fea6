// JPEG decoder (ITU-T T.81): Huffman-coded baseline/extended sequential (SOF0/SOF1) and progressive (SOF2)
// 8-bit files, 1 component (gray) or 3 (YCbCr, or RGB per the Adobe marker / component ids), any integer
// sampling factors (4:4:4, 4:2:2, 4:2:0, 4:4:0, ...), restart intervals. It reproduces the choices TensorFlow
// makes when tf.io.decode_image decodes a JPEG with its libjpeg-turbo:
//   - the "fast integer" IDCT (libjpeg's JDCT_IFAST: the AAN algorithm, 8 fractional bits, truncating
//     shifts) — TensorFlow's default dct_method for decode_image;
//   - "fancy" chroma upsampling (triangle filter: 3/4 nearer + 1/4 farther sample, libjpeg's rounding),
//     with edge rows/columns repeated;
//   - YCbCr -> RGB with libjpeg's fixed-point tables (16 fractional bits); C=1 from YCbCr is the Y plane;
//     C=1 from RGB uses 0.299/0.587/0.114; C=3 from gray repeats the gray value.
// libjpeg-turbo in TensorFlow uses SIMD versions of the IDCT, which may round a sample differently from the
// portable algorithm here: tests allow a small tolerance for JPEG (see test/unit/finetune/images.test.ts).
// Refused: arithmetic coding, lossless and hierarchical files, 12-bit samples, CMYK/YCCK (4 components),
// a DNL height, a scan that runs out of data or holds a code its Huffman table does not have (libjpeg would
// warn and fill in zeros), and a file without an EOI marker.
import { checkDimensions, imageFail, type DecodedImage } from './common';

const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

// AAN scale factors for the fast IDCT's dequantization: round(2^14 * s[row] * s[col]),
// s[0] = 1, s[k] = cos(k*pi/16) * sqrt(2).
const AAN_SCALES = (() => {
  const s = [1, ...Array.from({ length: 7 }, (_, k) => Math.cos(((k + 1) * Math.PI) / 16) * Math.SQRT2)];
  const t = new Int32Array(64);
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) t[r * 8 + c] = Math.round(16384 * s[r]! * s[c]!);
  return t;
})();

// Post-IDCT range limit: libjpeg indexes a table with (x & 1023); the result is clamp(x + 128) for |x| < 512.
const RANGE = (() => {
  const t = new Uint8Array(1024);
  for (let i = 0; i < 1024; i++) {
    const x = i < 512 ? i : i - 1024;
    t[i] = Math.max(0, Math.min(255, x + 128));
  }
  return t;
})();

interface Huffman {
  maxcode: Int32Array; // by length 1..16 (index 17: sentinel)
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

interface Frame {
  progressive: boolean;
  width: number;
  height: number;
  comps: Component[];
  hmax: number;
  vmax: number;
  mcusX: number;
  mcusY: number;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  quant: Int32Array | null; // latched at the component's first scan (as libjpeg)
  bw: number; // blocks per line actually covered by the image (non-interleaved scans)
  bh: number;
  bwAlloc: number; // blocks per line including MCU padding
  bhAlloc: number;
  coefs: Int16Array;
  dcPred: number;
  dcTable: Huffman | null;
  acTable: Huffman | null;
}

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export function decodeJpeg(bytes: Uint8Array, file: string, channels: number): DecodedImage {
  const fail = (detail: string): never => imageFail(file, `JPEG: ${detail}`);
  if (!isJpeg(bytes)) fail('bad signature (no SOI marker)');
  if (channels !== 1 && channels !== 3) fail(`TensorFlow decodes JPEG with 1 or 3 channels, the model wants ${channels}`);
  const n = bytes.length;
  const u16 = (o: number): number => (bytes[o]! << 8) | bytes[o + 1]!;
  const quant: (Int32Array | null)[] = [null, null, null, null];
  const dcTables: (Huffman | null)[] = [null, null, null, null];
  const acTables: (Huffman | null)[] = [null, null, null, null];
  let frame: Frame | null = null;
  let restartInterval = 0;
  let adobe = -1;
  let jfif = false;
  let sawEoi = false;
  let p = 2;
  let scanNo = 0;

  const segment = (what: string): [number, number] => {
    if (p + 2 > n) fail(`truncated in ${what} at byte ${p}`);
    const len = u16(p);
    if (len < 2 || p + len > n) fail(`truncated: ${what} at byte ${p - 2} declares ${len} bytes, the file ends first`);
    const r: [number, number] = [p + 2, p + len];
    p += len;
    return r;
  };

  while (!sawEoi) {
    // next marker: extraneous bytes are skipped (libjpeg warns), fill bytes 0xFF are skipped
    while (p < n && bytes[p] !== 0xff) p++;
    while (p < n && bytes[p] === 0xff) p++;
    if (p >= n) fail('truncated: no EOI marker');
    const m = bytes[p++]!;
    if (m === 0xd9) {
      sawEoi = true;
    } else if (m === 0xc0 || m === 0xc1 || m === 0xc2) {
      const [s, e] = segment('the frame header');
      if (frame) fail('more than one frame header (SOF)');
      if (e - s < 6) fail('frame header too short');
      const precision = bytes[s]!;
      const height = u16(s + 1);
      const width = u16(s + 3);
      const nc = bytes[s + 5]!;
      if (precision !== 8) fail(`${precision}-bit samples are not supported (8-bit only, as TensorFlow)`);
      if (height === 0) fail('the height is defined by a DNL marker, which is not supported');
      checkDimensions(file, 'JPEG', width, height);
      if (nc !== 1 && nc !== 3) fail(`${nc} components (${nc === 4 ? 'CMYK/YCCK' : 'unsupported'}): only gray (1) and YCbCr/RGB (3) are supported`);
      if (e - s < 6 + 3 * nc) fail('frame header too short for its components');
      const comps: Component[] = [];
      for (let i = 0; i < nc; i++) {
        const o = s + 6 + 3 * i;
        const h = bytes[o + 1]! >> 4, v = bytes[o + 1]! & 15, tq = bytes[o + 2]!;
        if (h < 1 || h > 4 || v < 1 || v > 4) fail(`component ${bytes[o]}: sampling factors ${h}x${v} out of range`);
        if (tq > 3) fail(`component ${bytes[o]}: quantization table ${tq} out of range`);
        comps.push({ id: bytes[o]!, h, v, tq, quant: null, bw: 0, bh: 0, bwAlloc: 0, bhAlloc: 0, coefs: new Int16Array(0), dcPred: 0, dcTable: null, acTable: null });
      }
      const hmax = Math.max(...comps.map((c) => c.h));
      const vmax = Math.max(...comps.map((c) => c.v));
      const mcusX = Math.ceil(width / (8 * hmax));
      const mcusY = Math.ceil(height / (8 * vmax));
      for (const c of comps) {
        if (hmax % c.h !== 0 || vmax % c.v !== 0) fail(`fractional sampling factors (${c.h}x${c.v} of ${hmax}x${vmax}) are not supported`);
        c.bw = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
        c.bh = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
        c.bwAlloc = mcusX * c.h;
        c.bhAlloc = mcusY * c.v;
        c.coefs = new Int16Array(c.bwAlloc * c.bhAlloc * 64);
      }
      frame = { progressive: m === 0xc2, width, height, comps, hmax, vmax, mcusX, mcusY };
    } else if ((m >= 0xc3 && m <= 0xcf) && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const kind = m === 0xc3 || m === 0xc7 || m === 0xcb || m === 0xcf ? 'lossless' : m >= 0xc9 ? 'arithmetic-coded' : 'hierarchical';
      fail(`${kind} JPEG (SOF${m - 0xc0}) is not supported`);
    } else if (m === 0xc4) {
      const [s, e] = segment('a Huffman table (DHT)');
      let q = s;
      while (q < e) {
        if (q + 17 > e) fail('Huffman table (DHT) too short');
        const tc = bytes[q]! >> 4, th = bytes[q]! & 15;
        if (tc > 1 || th > 3) fail(`Huffman table class ${tc} / id ${th} out of range`);
        const counts = bytes.subarray(q + 1, q + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        if (total > 256 || q + 17 + total > e) fail('Huffman table (DHT) with a bad symbol count');
        const table = buildHuffman(counts, bytes.subarray(q + 17, q + 17 + total), fail);
        (tc === 0 ? dcTables : acTables)[th] = table;
        q += 17 + total;
      }
    } else if (m === 0xdb) {
      const [s, e] = segment('a quantization table (DQT)');
      let q = s;
      while (q < e) {
        const pq = bytes[q]! >> 4, tq = bytes[q]! & 15;
        if (pq > 1 || tq > 3) fail(`quantization table precision ${pq} / id ${tq} out of range`);
        if (q + 1 + 64 * (pq + 1) > e) fail('quantization table (DQT) too short');
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) t[ZIGZAG[k]!] = pq ? u16(q + 1 + 2 * k) : bytes[q + 1 + k]!;
        quant[tq] = t;
        q += 1 + 64 * (pq + 1);
      }
    } else if (m === 0xdd) {
      const [s, e] = segment('a restart interval (DRI)');
      if (e - s < 2) fail('restart interval (DRI) too short');
      restartInterval = u16(s);
    } else if (m === 0xe0) {
      const [s, e] = segment('an APP0 segment');
      if (e - s >= 5 && bytes[s] === 0x4a && bytes[s + 1] === 0x46 && bytes[s + 2] === 0x49 && bytes[s + 3] === 0x46 && bytes[s + 4] === 0) jfif = true;
    } else if (m === 0xee) {
      const [s, e] = segment('an APP14 segment');
      if (e - s >= 12 && String.fromCharCode(...bytes.subarray(s, s + 5)) === 'Adobe') adobe = bytes[s + 11]!;
    } else if (m === 0xda) {
      if (!frame) return fail('scan (SOS) before the frame header (SOF)');
      const [s, e] = segment('a scan header (SOS)');
      const ns = bytes[s]!;
      if (ns < 1 || ns > 4 || e - s < 4 + 2 * ns) fail('bad scan header (SOS)');
      const comps: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const id = bytes[s + 1 + 2 * i]!;
        const c = frame.comps.find((x) => x.id === id);
        if (!c) fail(`scan refers to component ${id}, which the frame does not have`);
        if (comps.includes(c!)) fail(`scan lists component ${id} twice`);
        const sel = bytes[s + 2 + 2 * i]!;
        c!.dcTable = dcTables[sel >> 4] ?? null;
        c!.acTable = acTables[sel & 15] ?? null;
        if (!c!.quant) {
          const qt = quant[c!.tq];
          if (!qt) fail(`component ${id}: quantization table ${c!.tq} is not defined`);
          c!.quant = qt!;
        }
        comps.push(c!);
      }
      const o = s + 1 + 2 * ns;
      const ss = bytes[o]!, se = bytes[o + 1]!, ah = bytes[o + 2]! >> 4, al = bytes[o + 2]! & 15;
      scanNo++;
      if (frame.progressive) {
        if (ss > 63 || se > 63 || ss > se || (ss === 0 && se !== 0) || (ss > 0 && ns !== 1) || al > 13 || ah > 13) fail(`scan ${scanNo}: bad progressive parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al}`);
      } else if (ss !== 0 || se !== 63 || ah !== 0 || al !== 0) {
        fail(`scan ${scanNo}: bad sequential scan parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al}`);
      }
      for (const c of comps) {
        if (ss === 0 && ah === 0 && !c.dcTable) fail(`scan ${scanNo}: component ${c.id} uses an undefined DC Huffman table`);
        if ((ss > 0 || !frame.progressive) && !c.acTable) fail(`scan ${scanNo}: component ${c.id} uses an undefined AC Huffman table`);
      }
      p = decodeScan(bytes, p, frame, comps, ss, se, ah, al, restartInterval, (d) => fail(`scan ${scanNo}: ${d}`));
    } else if (m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      // standalone markers (TEM, a stray RST): no length
    } else if (m === 0xd8) {
      fail(`a second SOI marker at byte ${p - 2}`);
    } else {
      segment(`marker 0x${m.toString(16)}`); // APPn, COM, DNL, ...: skipped
    }
  }
  if (!frame) return fail('no frame header (SOF)');
  if (scanNo === 0) fail('no scan (SOS)');
  return output(frame, channels, jfif, adobe);
}

function buildHuffman(counts: Uint8Array, values: Uint8Array, fail: (d: string) => never): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const valptr = new Int32Array(17);
  const mincode = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const c = counts[l - 1]!;
    valptr[l] = k;
    mincode[l] = code;
    code += c;
    k += c;
    if (c > 0) {
      if (code - 1 >= 1 << l) fail('bad Huffman table (code lengths overflow)');
      maxcode[l] = code - 1;
    }
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, valptr, mincode, values: values.slice() };
}

function decodeScan(bytes: Uint8Array, start: number, frame: Frame, comps: Component[], ss: number, se: number, ah: number, al: number, restartInterval: number, fail: (d: string) => never): number {
  const n = bytes.length;
  let p = start;
  let bitBuf = 0;
  let bitCount = 0;
  const readBit = (): number => {
    if (bitCount === 0) {
      if (p >= n) fail('the file ends inside the scan data');
      let b = bytes[p]!;
      if (b === 0xff) {
        const next = bytes[p + 1];
        if (next === 0x00) p += 2;
        else fail(`scan data ends early (marker 0x${(next ?? 0).toString(16)} at byte ${p} where more data was needed)`);
      } else {
        p++;
      }
      b &= 0xff;
      bitBuf = b;
      bitCount = 8;
    }
    bitCount--;
    return (bitBuf >> bitCount) & 1;
  };
  const receive = (s: number): number => {
    let v = 0;
    for (let i = 0; i < s; i++) v = (v << 1) | readBit();
    return v;
  };
  const extend = (v: number, s: number): number => (s === 0 ? 0 : v < 1 << (s - 1) ? v - (1 << s) + 1 : v);
  const decode = (t: Huffman): number => {
    let code = readBit();
    let l = 1;
    while (code > t.maxcode[l]!) {
      code = (code << 1) | readBit();
      l++;
      if (l > 16) fail('bad Huffman code');
    }
    const idx = t.valptr[l]! + code - t.mincode[l]!;
    if (idx >= t.values.length) fail('bad Huffman code');
    return t.values[idx]!;
  };
  let eobrun = 0;

  const decodeBlock = (c: Component, off: number): void => {
    const z = c.coefs;
    if (!frame.progressive) {
      const t = decode(c.dcTable!);
      if (t > 15) fail(`bad DC difference size ${t}`);
      c.dcPred += extend(receive(t), t);
      z[off] = c.dcPred;
      for (let k = 1; k < 64; ) {
        const rs = decode(c.acTable!);
        const r = rs >> 4, s = rs & 15;
        if (s === 0) {
          if (r < 15) break;
          k += 16;
          continue;
        }
        k += r;
        if (k > 63) fail('AC coefficients run past the block');
        z[off + ZIGZAG[k]!] = extend(receive(s), s);
        k++;
      }
      return;
    }
    if (ss === 0) {
      if (ah === 0) {
        const t = decode(c.dcTable!);
        if (t > 15) fail(`bad DC difference size ${t}`);
        c.dcPred += extend(receive(t), t);
        z[off] = c.dcPred * (1 << al);
      } else if (readBit()) {
        z[off] |= 1 << al;
      }
      return;
    }
    if (ah === 0) {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (let k = ss; k <= se; ) {
        const rs = decode(c.acTable!);
        const r = rs >> 4, s = rs & 15;
        if (s === 0) {
          if (r < 15) {
            eobrun = (1 << r) - 1;
            if (r) eobrun += receive(r);
            break;
          }
          k += 16;
          continue;
        }
        k += r;
        if (k > se) fail('AC coefficients run past the spectral band');
        z[off + ZIGZAG[k]!] = extend(receive(s), s) * (1 << al);
        k++;
      }
      return;
    }
    // AC refinement
    const p1 = 1 << al, m1 = -1 << al;
    let k = ss;
    const refine = (pos: number): void => {
      if (readBit() && (z[pos]! & p1) === 0) z[pos] = z[pos]! + (z[pos]! >= 0 ? p1 : m1);
    };
    if (eobrun <= 0) {
      for (; k <= se; k++) {
        const rs = decode(c.acTable!);
        let r = rs >> 4;
        let s = rs & 15;
        if (s) {
          if (s !== 1) fail(`bad refinement code (size ${s})`);
          s = readBit() ? p1 : m1;
        } else if (r !== 15) {
          eobrun = 1 << r;
          if (r) eobrun += receive(r);
          break;
        }
        do {
          const pos = off + ZIGZAG[k]!;
          if (z[pos] !== 0) refine(pos);
          else if (--r < 0) break;
          k++;
        } while (k <= se);
        if (s) {
          if (k > se) fail('AC refinement runs past the spectral band');
          z[off + ZIGZAG[k]!] = s;
        }
      }
    }
    if (eobrun > 0) {
      for (; k <= se; k++) {
        const pos = off + ZIGZAG[k]!;
        if (z[pos] !== 0) refine(pos);
      }
      eobrun--;
    }
  };

  const single = comps.length === 1;
  const total = single ? comps[0]!.bw * comps[0]!.bh : frame.mcusX * frame.mcusY;
  for (const c of comps) c.dcPred = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      // byte-align, then the RSTn marker
      bitCount = 0;
      while (p < n && bytes[p] === 0xff && bytes[p + 1] === 0xff) p++;
      const expect = 0xd0 + ((mcu / restartInterval - 1) & 7);
      if (p + 1 >= n || bytes[p] !== 0xff || bytes[p + 1] !== expect) fail(`expected restart marker RST${expect - 0xd0} at byte ${p}`);
      p += 2;
      for (const c of comps) c.dcPred = 0;
      eobrun = 0;
    }
    if (single) {
      const c = comps[0]!;
      const bx = mcu % c.bw, by = Math.floor(mcu / c.bw);
      decodeBlock(c, (by * c.bwAlloc + bx) * 64);
    } else {
      const mx = mcu % frame.mcusX, my = Math.floor(mcu / frame.mcusX);
      for (const c of comps) {
        for (let v = 0; v < c.v; v++) {
          for (let h = 0; h < c.h; h++) decodeBlock(c, ((my * c.v + v) * c.bwAlloc + mx * c.h + h) * 64);
        }
      }
    }
  }
  return p;
}

/** libjpeg's fast integer IDCT (jidctfst: AAN, CONST_BITS 8, PASS1_BITS 2, truncating shifts) of one block. */
function idctIfast(coefs: Int16Array, off: number, q: Int32Array, out: Uint8Array, outOff: number, stride: number, ws: Int32Array): void {
  const M = (x: number, c: number): number => (x * c) >> 8;
  for (let col = 0; col < 8; col++) {
    const i = off + col;
    if (coefs[i + 8] === 0 && coefs[i + 16] === 0 && coefs[i + 24] === 0 && coefs[i + 32] === 0 && coefs[i + 40] === 0 && coefs[i + 48] === 0 && coefs[i + 56] === 0) {
      const dc = coefs[i]! * q[col]!;
      for (let r = 0; r < 8; r++) ws[r * 8 + col] = dc;
      continue;
    }
    let tmp0 = coefs[i]! * q[col]!;
    let tmp1 = coefs[i + 16]! * q[16 + col]!;
    let tmp2 = coefs[i + 32]! * q[32 + col]!;
    let tmp3 = coefs[i + 48]! * q[48 + col]!;
    let tmp10 = tmp0 + tmp2;
    let tmp11 = tmp0 - tmp2;
    const tmp13 = tmp1 + tmp3;
    let tmp12 = M(tmp1 - tmp3, 362) - tmp13;
    tmp0 = tmp10 + tmp13;
    tmp3 = tmp10 - tmp13;
    tmp1 = tmp11 + tmp12;
    tmp2 = tmp11 - tmp12;
    let tmp4 = coefs[i + 8]! * q[8 + col]!;
    let tmp5 = coefs[i + 24]! * q[24 + col]!;
    let tmp6 = coefs[i + 40]! * q[40 + col]!;
    let tmp7 = coefs[i + 56]! * q[56 + col]!;
    const z13 = tmp6 + tmp5;
    const z10 = tmp6 - tmp5;
    const z11 = tmp4 + tmp7;
    const z12 = tmp4 - tmp7;
    tmp7 = z11 + z13;
    tmp11 = M(z11 - z13, 362);
    const z5 = M(z10 + z12, 473);
    tmp10 = M(z12, 277) - z5;
    tmp12 = M(z10, -669) + z5;
    tmp6 = tmp12 - tmp7;
    tmp5 = tmp11 - tmp6;
    tmp4 = tmp10 + tmp5;
    ws[col] = tmp0 + tmp7;
    ws[56 + col] = tmp0 - tmp7;
    ws[8 + col] = tmp1 + tmp6;
    ws[48 + col] = tmp1 - tmp6;
    ws[16 + col] = tmp2 + tmp5;
    ws[40 + col] = tmp2 - tmp5;
    ws[32 + col] = tmp3 + tmp4;
    ws[24 + col] = tmp3 - tmp4;
  }
  for (let row = 0; row < 8; row++) {
    const w = row * 8;
    const o = outOff + row * stride;
    if (ws[w + 1] === 0 && ws[w + 2] === 0 && ws[w + 3] === 0 && ws[w + 4] === 0 && ws[w + 5] === 0 && ws[w + 6] === 0 && ws[w + 7] === 0) {
      const v = RANGE[(ws[w]! >> 5) & 1023]!;
      for (let c = 0; c < 8; c++) out[o + c] = v;
      continue;
    }
    let tmp10 = ws[w]! + ws[w + 4]!;
    let tmp11 = ws[w]! - ws[w + 4]!;
    const tmp13 = ws[w + 2]! + ws[w + 6]!;
    let tmp12 = M(ws[w + 2]! - ws[w + 6]!, 362) - tmp13;
    const tmp0 = tmp10 + tmp13;
    const tmp3 = tmp10 - tmp13;
    const tmp1 = tmp11 + tmp12;
    const tmp2 = tmp11 - tmp12;
    const z13 = ws[w + 5]! + ws[w + 3]!;
    const z10 = ws[w + 5]! - ws[w + 3]!;
    const z11 = ws[w + 1]! + ws[w + 7]!;
    const z12 = ws[w + 1]! - ws[w + 7]!;
    const tmp7 = z11 + z13;
    tmp11 = M(z11 - z13, 362);
    const z5 = M(z10 + z12, 473);
    tmp10 = M(z12, 277) - z5;
    tmp12 = M(z10, -669) + z5;
    const tmp6 = tmp12 - tmp7;
    const tmp5 = tmp11 - tmp6;
    const tmp4 = tmp10 + tmp5;
    out[o] = RANGE[((tmp0 + tmp7) >> 5) & 1023]!;
    out[o + 7] = RANGE[((tmp0 - tmp7) >> 5) & 1023]!;
    out[o + 1] = RANGE[((tmp1 + tmp6) >> 5) & 1023]!;
    out[o + 6] = RANGE[((tmp1 - tmp6) >> 5) & 1023]!;
    out[o + 2] = RANGE[((tmp2 + tmp5) >> 5) & 1023]!;
    out[o + 5] = RANGE[((tmp2 - tmp5) >> 5) & 1023]!;
    out[o + 4] = RANGE[((tmp3 + tmp4) >> 5) & 1023]!;
    out[o + 3] = RANGE[((tmp3 - tmp4) >> 5) & 1023]!;
  }
}

/** A component's samples at full image size: IDCT, then libjpeg's upsampling for its sampling factors. */
function componentPlane(c: Component, width: number, height: number, hmax: number, vmax: number): Uint8Array {
  const stride = c.bwAlloc * 8;
  const plane = new Uint8Array(stride * c.bhAlloc * 8);
  const q = new Int32Array(64);
  for (let i = 0; i < 64; i++) q[i] = (c.quant![i]! * AAN_SCALES[i]! + 2048) >> 12;
  const ws = new Int32Array(64);
  for (let by = 0; by < c.bhAlloc; by++) {
    for (let bx = 0; bx < c.bwAlloc; bx++) idctIfast(c.coefs, (by * c.bwAlloc + bx) * 64, q, plane, by * 8 * stride + bx * 8, stride, ws);
  }
  const hs = hmax / c.h, vs = vmax / c.v;
  const dw = Math.ceil((width * c.h) / hmax); // libjpeg's downsampled_width / height
  const dh = Math.ceil((height * c.v) / vmax);
  const at = (x: number, y: number): number => plane[Math.min(y, dh - 1) * stride + x]!;
  const out = new Uint8Array(width * height);
  if (hs === 1 && vs === 1) {
    for (let y = 0; y < height; y++) out.set(plane.subarray(y * stride, y * stride + width), y * width);
  } else if (hs === 2 && vs === 1 && dw > 2) {
    for (let y = 0; y < height; y++) {
      const row = new Uint8Array(2 * dw);
      for (let x = 0; x < dw; x++) {
        const cur = at(x, y) * 3;
        const left = x > 0 ? at(x - 1, y) : -1;
        const right = x < dw - 1 ? at(x + 1, y) : -1;
        row[2 * x] = left < 0 ? at(x, y) : (cur + left + 1) >> 2;
        row[2 * x + 1] = right < 0 ? at(x, y) : (cur + right + 2) >> 2;
      }
      out.set(row.subarray(0, width), y * width);
    }
  } else if (hs === 1 && vs === 2) {
    for (let y = 0; y < height; y++) {
      const r = y >> 1;
      const other = y & 1 ? Math.min(r + 1, dh - 1) : Math.max(r - 1, 0);
      const bias = y & 1 ? 2 : 1;
      for (let x = 0; x < width; x++) out[y * width + x] = (at(x, r) * 3 + at(x, other) + bias) >> 2;
    }
  } else if (hs === 2 && vs === 2 && dw > 2) {
    const row = new Uint8Array(2 * dw);
    for (let y = 0; y < height; y++) {
      const r = y >> 1;
      const other = y & 1 ? Math.min(r + 1, dh - 1) : Math.max(r - 1, 0);
      const colsum = (x: number): number => at(x, r) * 3 + at(x, other);
      for (let x = 0; x < dw; x++) {
        const cur = colsum(x) * 3;
        row[2 * x] = x > 0 ? (cur + colsum(x - 1) + 8) >> 4 : (colsum(x) * 4 + 8) >> 4;
        row[2 * x + 1] = x < dw - 1 ? (cur + colsum(x + 1) + 7) >> 4 : (colsum(x) * 4 + 7) >> 4;
      }
      out.set(row.subarray(0, width), y * width);
    }
  } else {
    // integral replication (libjpeg's int_upsample / h2v1 and h2v2 box upsampling for narrow components)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] = at(Math.floor(x / hs), Math.floor(y / vs));
    }
  }
  return out;
}

const FIX = (x: number): number => Math.floor(x * 65536 + 0.5);
const CR_R = new Int32Array(256), CB_B = new Int32Array(256), CR_G = new Int32Array(256), CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX(1.402) * x + 32768) >> 16;
  CB_B[i] = (FIX(1.772) * x + 32768) >> 16;
  CR_G[i] = -FIX(0.71414) * x;
  CB_G[i] = -FIX(0.34414) * x + 32768;
}
const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

function output(frame: Frame, channels: number, jfif: boolean, adobe: number): DecodedImage {
  const { width, height, comps, hmax, vmax } = frame;
  const npx = width * height;
  const out = new Uint8Array(npx * channels);
  if (comps.length === 1) {
    const y = componentPlane(comps[0]!, width, height, hmax, vmax);
    if (channels === 1) out.set(y);
    else for (let i = 0; i < npx; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = y[i]!;
    return { width, height, channels, data: out };
  }
  // libjpeg's colour space guess for 3 components
  const ids = comps.map((c) => c.id);
  const rgb = jfif ? false : adobe >= 0 ? adobe === 0 : ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42;
  if (!rgb && channels === 1) {
    out.set(componentPlane(comps[0]!, width, height, hmax, vmax));
    return { width, height, channels, data: out };
  }
  const [a, b, c] = comps.map((k) => componentPlane(k, width, height, hmax, vmax)) as [Uint8Array, Uint8Array, Uint8Array];
  if (rgb) {
    for (let i = 0; i < npx; i++) {
      if (channels === 1) out[i] = (19595 * a[i]! + 38470 * b[i]! + 7471 * c[i]! + 32768) >> 16;
      else {
        out[3 * i] = a[i]!;
        out[3 * i + 1] = b[i]!;
        out[3 * i + 2] = c[i]!;
      }
    }
    return { width, height, channels, data: out };
  }
  for (let i = 0; i < npx; i++) {
    const y = a[i]!, cb = b[i]!, cr = c[i]!;
    out[3 * i] = clamp(y + CR_R[cr]!);
    out[3 * i + 1] = clamp(y + ((CB_G[cb]! + CR_G[cr]!) >> 16));
    out[3 * i + 2] = clamp(y + CB_B[cb]!);
  }
  return { width, height, channels, data: out };
}
