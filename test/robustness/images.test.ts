// The image decoders on bad input: every truncation and thousands of seeded byte mutations of the committed
// image fixtures, forged huge sizes, a decompression bomb, bad CRCs. Whatever happens, decodeImage either
// returns a well-formed image or throws a FinetuneError (reason 'data') that names the file. Anything else
// (TypeError, RangeError, a hang, a giant allocation) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { decodeImage, MAX_IMAGE_PIXELS } from '../../src/core/finetune/images';
import { FinetuneError } from '../../src/core/io/errors';
import { generated } from '../helpers/paths';
import { mulberry32 as rng } from '../../src/core/finetune/plan';

const folder = generated('images/folder');
const skip = !existsSync(folder) && 'test/fixtures/generated/images absent';

function fixtures(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ name: path.relative(folder, p), bytes: new Uint8Array(readFileSync(p)) });
    }
  };
  walk(folder);
  return out;
}

/** Decodes; returns 'ok' or the FinetuneError; anything else is rethrown (fails the test). */
function attempt(bytes: Uint8Array, file: string, channels: number): 'ok' | FinetuneError {
  const t0 = performance.now();
  try {
    const img = decodeImage(bytes, file, channels);
    assert.ok(img.width > 0 && img.height > 0 && img.width * img.height <= MAX_IMAGE_PIXELS, `${file}: image size ${img.width}x${img.height}`);
    assert.equal(img.data.length, img.width * img.height * img.channels, `${file}: data length`);
    return 'ok';
  } catch (e) {
    if (!(e instanceof FinetuneError)) throw new Error(`${file}: not a FinetuneError: ${(e as Error)?.stack ?? String(e)}`);
    assert.equal(e.file, file);
    assert.equal(e.reason, 'data');
    assert.ok(e.detail.length > 0);
    return e;
  } finally {
    assert.ok(performance.now() - t0 < 2000, `${file}: took ${performance.now() - t0} ms`);
  }
}

const channelsFor = (name: string): number => (/\.(gif|bmp)$/.test(name) ? 3 : 1 + 2 * (name.length % 2));

test('every truncation of every fixture is refused (BMP: unless only the last row\'s padding is cut, as TensorFlow)', { skip }, () => {
  let refused = 0;
  for (const { name, bytes } of fixtures()) {
    const full = decodeImage(bytes, name, channelsFor(name));
    for (let len = 0; len < bytes.length; len++) {
      const r = attempt(bytes.subarray(0, len), name, channelsFor(name));
      if (r === 'ok') {
        assert.ok(name.endsWith('.bmp'), `${name} cut to ${len} bytes still decodes`);
        const rowPad = (4 - ((full.width * 3) % 4)) % 4;
        assert.ok(bytes.length - len <= Math.max(rowPad, 3), `${name} cut to ${len} of ${bytes.length} bytes still decodes`);
      } else {
        refused++;
        if (len > 64) assert.match(r.detail, /truncated|ends|end of|no EOI|no IEND|trailer|runs past|corrupt/i, `${name} cut to ${len}: ${r.detail}`);
      }
    }
  }
  assert.ok(refused > 10000);
});

test('seeded byte mutations (flips, 0x00/0xFF bytes, swapped runs): a decoded image or a FinetuneError, never a crash or hang', { skip }, () => {
  const r = rng(20261126);
  let ok = 0, refused = 0;
  for (const { name, bytes } of fixtures()) {
    for (let k = 0; k < 250; k++) {
      const m = bytes.slice();
      const kind = k % 3;
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) {
        // mostly in the headers, where a mutation changes the structure
        const at = Math.floor((r() < 0.5 ? Math.min(m.length, 64) : m.length) * r());
        if (kind === 0) m[at] = m[at]! ^ (1 << Math.floor(r() * 8));
        else if (kind === 1) m[at] = r() < 0.5 ? 0xff : 0x00;
        else {
          const b = Math.floor(r() * m.length);
          const t = m[at]!;
          m[at] = m[b]!;
          m[b] = t;
        }
      }
      if (attempt(m, name, channelsFor(name)) === 'ok') ok++;
      else refused++;
    }
  }
  assert.ok(refused > 1000, `${refused} refused, ${ok} decoded`);
});

let crcTable: number[] | null = null;
function crc32(b: Uint8Array): number {
  crcTable ??= Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(Buffer.from(type, 'latin1'), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function png(width: number, height: number, idat: Uint8Array, colorType = 0): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, colorType, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))]);
}

test('huge declared sizes are refused from the header, before any pixel buffer is allocated', { skip }, () => {
  const read = (n: string): Uint8Array => new Uint8Array(readFileSync(path.join(folder, n)));
  const expectLimit = (bytes: Uint8Array, file: string, channels: number): void => {
    const t0 = performance.now();
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => decodeImage(bytes, file, channels), (e: unknown) => e instanceof FinetuneError && e.file === file && /pixel limit/.test(e.detail));
    assert.ok(performance.now() - t0 < 200, `${file}: refused in ${performance.now() - t0} ms`);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, `${file}: allocated before refusing`);
  };
  // PNG: IHDR 60000 x 60000 (valid CRC), a tiny IDAT
  expectLimit(png(60000, 60000, deflateSync(new Uint8Array(10))), 'huge.png', 3);
  // JPEG: SOF 65535 x 65535
  const jpg = read('dog/jpeg_baseline_420.jpg').slice();
  const sof = jpg.findIndex((b, i) => b === 0xff && (jpg[i + 1] === 0xc0 || jpg[i + 1] === 0xc2));
  jpg.set([0xff, 0xff, 0xff, 0xff], sof + 5);
  expectLimit(jpg, 'huge.jpg', 3);
  const prog = read('dog/jpeg_progressive_420.jpg').slice();
  const psof = prog.findIndex((b, i) => b === 0xff && prog[i + 1] === 0xc2);
  prog.set([0xff, 0xff, 0xff, 0xff], psof + 5);
  expectLimit(prog, 'huge-progressive.jpg', 1);
  // BMP: 100000 x -100000
  const bmp = read('dog/bmp24.bmp').slice();
  new DataView(bmp.buffer).setInt32(18, 100000, true);
  new DataView(bmp.buffer).setInt32(22, -100000, true);
  expectLimit(bmp, 'huge.bmp', 3);
  // GIF: a frame of 65535 x 65535
  const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([4, 0, 4, 0, 0, 0, 0]), Buffer.from([0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0]), Buffer.from([2, 2, 0x04, 0x2e, 0, 0x3b])]);
  expectLimit(new Uint8Array(gif), 'huge.gif', 3);
});

test('PNG: a decompression bomb, CRC errors, bad filters, a missing palette are refused with what is wrong', { skip }, () => {
  const raw16 = new Uint8Array(16 * 17); // 16 rows of filter byte + 16 gray samples
  const good = png(16, 16, deflateSync(raw16));
  assert.equal(attempt(good, 'good.png', 1), 'ok');
  const bomb = png(16, 16, deflateSync(new Uint8Array(16 * 1024 * 1024)));
  assert.match((attempt(bomb, 'bomb.png', 1) as FinetuneError).detail, /corrupt image data/);
  const badCrc = good.slice();
  badCrc[good.length - 14] ^= 1; // inside the IDAT CRC
  assert.match((attempt(badCrc, 'crc.png', 1) as FinetuneError).detail, /CRC mismatch in chunk IDAT/);
  const badFilter = raw16.slice();
  badFilter[17 * 3] = 9;
  assert.match((attempt(png(16, 16, deflateSync(badFilter)), 'filter.png', 1) as FinetuneError).detail, /bad filter type 9/);
  assert.match((attempt(png(16, 16, deflateSync(raw16), 3), 'pal.png', 3) as FinetuneError).detail, /without a PLTE/);
  assert.match((attempt(png(16, 16, deflateSync(raw16.subarray(0, 100))), 'short.png', 1) as FinetuneError).detail, /ends early/);
});

test('unknown formats and unsupported variants name the file and the reason', () => {
  const e = (bytes: number[] | Uint8Array, name: string, c = 3): string => (attempt(new Uint8Array(bytes), name, c) as FinetuneError).detail;
  assert.match(e([], 'empty.png'), /empty file/);
  assert.match(e([1, 2, 3, 4, 5, 6, 7, 8], 'x.png'), /unknown image format/);
  // JPEG: arithmetic coding (SOF9), 12-bit, CMYK
  const sof = (marker: number, precision: number, comps: number): number[] => [0xff, 0xd8, 0xff, marker, 0, 8 + 3 * comps, precision, 0, 8, 0, 8, comps, ...Array.from({ length: comps }, (_, i) => [i + 1, 0x11, 0]).flat()];
  assert.match(e(sof(0xc9, 8, 3), 'arith.jpg'), /arithmetic-coded JPEG \(SOF9\) is not supported/);
  assert.match(e(sof(0xc3, 8, 3), 'lossless.jpg'), /lossless JPEG/);
  assert.match(e(sof(0xc1, 12, 3), '12bit.jpg'), /12-bit samples are not supported/);
  assert.match(e(sof(0xc0, 8, 4), 'cmyk.jpg'), /4 components \(CMYK\/YCCK\)/);
  // BMP: RLE8, 16-bit, OS/2 header
  const bmp = (bits: number, compression: number, header = 40): number[] => {
    const b = new Uint8Array(54 + 64);
    const v = new DataView(b.buffer);
    b.set([0x42, 0x4d]);
    v.setUint32(10, 54, true);
    v.setUint32(14, header, true);
    v.setInt32(18, 4, true);
    v.setInt32(22, 4, true);
    v.setUint16(28, bits, true);
    v.setUint32(30, compression, true);
    return Array.from(b);
  };
  assert.match(e(bmp(8, 1), 'rle.bmp'), /compression 1 \(BI_RLE8\) is not supported/);
  assert.match(e(bmp(16, 0), '16.bmp'), /16 bits per pixel is not supported/);
  assert.match(e(bmp(24, 0, 12), 'os2.bmp'), /OS\/2/);
  // GIF: no colour table, no image, bad LZW
  const gifHead = [...Buffer.from('GIF89a', 'latin1'), 2, 0, 2, 0, 0, 0, 0];
  assert.match(e([...gifHead, 0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x04, 0x2e, 0, 0x3b], 'nomap.gif'), /no colour table/);
  assert.match(e([...gifHead, 0x3b], 'noimage.gif'), /holds no image/);
  assert.equal(attempt(new Uint8Array([...gifHead.slice(0, 10), 0x80, 0, 0, 1, 2, 3, 4, 5, 6, 0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x04, 0x2e, 0, 0x3b]), 'tiny.gif', 3), 'ok');
  const withMap = [...Buffer.from('GIF89a', 'latin1'), 2, 0, 2, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  assert.match(e([...withMap, 0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0xff, 0xff, 0, 0x3b], 'lzw.gif'), /bad LZW code|LZW code \d+ before any string|ends after/);
});
