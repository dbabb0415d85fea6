// Conv2DBackpropFilter on the wasm backend as one SIMD loop over the activations (simd.wat `atb`).
//
//   dF[kh, kw, ci, co] = sum over n, oh, ow of x[n, oh*sh - top + kh, ow*sw - left + kw, ci] * dy[n, oh, ow, co]
//
// Through ops this is a transpose of x and a matMul whose right operand (dy, as long as the batch's pixel count)
// XNNPACK re-packs on every call: on MobileNet's pointwise layers the packing alone took longer than the product
// (a [73728, 16] dy: 4.7 ms per call, 0.7 ms once packed). Larger filters went through a padded, transposed copy
// of x convolved with dy as a filter as large as the image. Here four filter rows at a time are accumulated in
// registers straight from x and dy. Sums are float32 over blocks of about a thousand pixels and float64 across.
import { backend_util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { memoryOf } from './channel-kernels';
import { rowGeometry, runRowSegments, type PadArg, type Shape4 } from './conv-rows';
import { simdFor } from './simd';

export interface ConvFilterArgs {
  readonly x: TensorInfo;
  readonly dy: TensorInfo;
  readonly filterShape: Shape4;
  readonly strides: number | [number, number];
  readonly pad: PadArg;
  readonly dataFormat?: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Pixels of dy per float32 block (1x1 filters). */
const BLOCK_PIXELS = 1024;

/**
 * Whether the SIMD loop computes this gradient: NHWC float32, output channels a multiple of 8 (two vectors), and
 * either a filter larger than 1x1 (measured 1.4-2.5x faster than the convolution formulation, from image stems to
 * 3x3x256x256) or a 1x1 filter over at most 128 input channels. 1x1 filters over more channels stay with XNNPACK's
 * matMul: there the product dominates the packing, and XNNPACK's packed product is faster than these loops
 * (measured on MobileNet's 256-channel layer: 1.5 ms against 1.9 ms).
 */
export function simdFilterApplies(filterShape: Shape4, dataFormat: string | undefined): boolean {
  const [kh, kw, ci, co] = filterShape;
  if (dataFormat === 'NCHW' || co % 8 !== 0 || ci === 0) return false;
  return kh * kw > 1 || ci <= 128;
}

/** The gradient, or null when this loop does not apply (see simdFilterApplies; also: not wasm, SIMD unavailable). */
export function conv2dBackpropFilterSimd(backendName: string, backend: KernelBackend, a: ConvFilterArgs): TensorInfo | null {
  if (!simdFilterApplies(a.filterShape, a.dataFormat) || a.x.dtype !== 'float32' || a.dy.dtype !== 'float32') return null;
  const simd = simdFor(backendName, backend);
  if (!simd) return null;
  const info = backend_util.computeConv2DInfo(a.x.shape as Shape4, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: ci, outHeight: OH, outWidth: OW, outChannels: co, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const size = fh * fw * ci * co;
  const xp = simd.address(a.x);
  const dyp = simd.address(a.dy);
  // The loop reads four input channels at a time: up to 12 bytes past a pixel's last channel, which must still be memory.
  if (xp + N * H * W * ci * 4 + 16 > simd.memoryBytes()) return null;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.filterShape]);
  const rowBytes = co * 4;
  const c4 = co / 4;
  const total = new Float64Array(size);
  const acc = simd.scratch(size);
  // Every filter row r0..r0+3 of a tap against `count` dy pixels starting at byte dyAt, x pixels from byte xAt.
  const rows = (xAt: number, xStep: number, dyAt: number, count: number, tap: number): void => {
    for (let r0 = 0; r0 < ci; r0 += 4) {
      simd.loops.atb(xAt + r0 * 4, xStep, dyAt, rowBytes, count, Math.min(4, ci - r0), c4, acc + ((tap * ci + r0) * co) * 4, rowBytes);
    }
  };
  const flush = (): void => {
    const v = simd.view(acc, size);
    for (let i = 0; i < size; i++) total[i]! += v[i]!;
    v.fill(0);
  };
  try {
    simd.view(acc, size).fill(0);
    const contiguous = fh === 1 && fw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && OH === H && OW === W;
    if (contiguous) {
      // A 1x1 stride-1 filter: x and dy are both [pixels, channels] tables.
      const pixels = N * H * W;
      for (let p0 = 0; p0 < pixels; p0 += BLOCK_PIXELS) {
        rows(xp + p0 * ci * 4, ci * 4, dyp + p0 * rowBytes, Math.min(BLOCK_PIXELS, pixels - p0), 0);
        flush();
      }
    } else {
      // Larger filters: every (output row, filter tap) pair is a segment of a table that one wasm call
      // (simd.wat `atbseg`) works through, a block of output rows at a time.
      const at = { x: xp, xPixelBytes: ci * 4, dy: dyp, dyPixelBytes: rowBytes, tapBytes: ci * co * 4 };
      runRowSegments(simd, rowGeometry(info), at, (table, count) => {
        simd.loops.atbseg(table, count, ci, c4, acc);
        flush();
      });
    }
  } finally {
    simd.release(acc);
  }
  mem.view(outInfo!).set(total);
  return outInfo!;
}
