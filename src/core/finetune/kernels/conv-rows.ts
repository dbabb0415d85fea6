// The row geometry every convolution-gradient loop walks: for each output row and filter tap whose input row
// exists, the run of output pixels whose input pixels exist too. Used by the depthwise loops (depthwise-js.ts)
// and by the segment tables of the SIMD convolution gradients (conv-filter-simd.ts, conv-input-simd.ts).
import type { backend_util } from '@tensorflow/tfjs-core';
import type { Simd } from './simd';

export type PadArg = 'valid' | 'same' | number | backend_util.ExplicitPadding;
export type Shape4 = [number, number, number, number];

/** A convolution's geometry, with the valid output columns per filter column. */
export interface RowGeometry {
  readonly info: backend_util.Conv2DInfo;
  /** For filter column kw, outputs ow in [owFrom[kw], owTo[kw]) read an input column inside [0, W). */
  readonly owFrom: Int32Array;
  readonly owTo: Int32Array;
}

export function rowGeometry(info: backend_util.Conv2DInfo): RowGeometry {
  const { inWidth: W, outWidth: OW, strideWidth: sw, dilationWidth: dw, filterWidth: fw } = info;
  const left = info.padInfo.left;
  const owFrom = new Int32Array(fw);
  const owTo = new Int32Array(fw);
  for (let kw = 0; kw < fw; kw++) {
    let o0 = 0;
    while (o0 < OW && o0 * sw - left + kw * dw < 0) o0++;
    let o1 = OW;
    while (o1 > o0 && (o1 - 1) * sw - left + kw * dw >= W) o1--;
    owFrom[kw] = o0;
    owTo[kw] = o1;
  }
  return { info, owFrom, owTo };
}

/**
 * Every filter tap of output row `oh` of image `n` whose input row exists and reads some input pixel:
 * `visit(xPixel, dyPixel, count, tap)` with the index of the first input pixel (the next ones are strideWidth
 * pixels apart), of the first output pixel (the next ones adjacent), the number of pixels, and the tap
 * index kh * filterWidth + kw.
 */
export function walkRowTaps(g: RowGeometry, n: number, oh: number, visit: (xPixel: number, dyPixel: number, count: number, tap: number) => void): void {
  const { inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = g.info;
  const top = g.info.padInfo.top;
  const left = g.info.padInfo.left;
  const dRow = (n * OH + oh) * OW;
  for (let kh = 0; kh < fh; kh++) {
    const ih = oh * sh - top + kh * dh;
    if (ih < 0 || ih >= H) continue;
    const xRow = (n * H + ih) * W;
    for (let kw = 0; kw < fw; kw++) {
      const o0 = g.owFrom[kw]!;
      const o1 = g.owTo[kw]!;
      if (o0 < o1) visit(xRow + o0 * sw - left + kw * dw, dRow + o0, o1 - o0, kh * fw + kw);
    }
  }
}

/** Output pixels per block of segments. */
const BLOCK_PIXELS = 1024;

/**
 * Tables of segments for simd.wat's atbseg and gemmseg: five i32 per (output row, tap) pair, (x byte address,
 * x step in bytes, dy byte address, pixel count, tap offset in bytes), filled a block of output rows at a time
 * (about a thousand output pixels) and handed to `run(table, count)` after each block.
 */
export function runRowSegments(
  simd: Simd,
  g: RowGeometry,
  at: { readonly x: number; readonly xPixelBytes: number; readonly dy: number; readonly dyPixelBytes: number; readonly tapBytes: number },
  run: (table: number, count: number) => void,
): void {
  const { batchSize: N, outHeight: OH, outWidth: OW, strideWidth: sw, filterHeight: fh, filterWidth: fw } = g.info;
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_PIXELS / Math.max(1, OW)));
  const capacity = rowsPerBlock * fh * fw;
  const ptr = simd.scratch(capacity * 5);
  try {
    const table = new Int32Array(simd.memoryBuffer(), ptr, capacity * 5);
    const xStep = sw * at.xPixelBytes;
    let k = 0;
    let rows = 0;
    const visit = (xPixel: number, dyPixel: number, count: number, tap: number): void => {
      table[k] = at.x + xPixel * at.xPixelBytes;
      table[k + 1] = xStep;
      table[k + 2] = at.dy + dyPixel * at.dyPixelBytes;
      table[k + 3] = count;
      table[k + 4] = tap * at.tapBytes;
      k += 5;
    };
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        walkRowTaps(g, n, oh, visit);
        if (++rows === rowsPerBlock) {
          run(ptr, k / 5);
          k = 0;
          rows = 0;
        }
      }
    }
    if (rows > 0) run(ptr, k / 5);
  } finally {
    simd.release(ptr);
  }
}
