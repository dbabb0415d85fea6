// Conv2DBackpropInput on the wasm backend as one SIMD loop over dy and the filter (simd.wat `gemmseg`).
//
//   dx[n, oh*sh - top + kh, ow*sw - left + kw, ci] += sum over co of dy[n, oh, ow, co] * W[kh, kw, ci, co]
//
// Through ops this is a convolution of dy with the flipped, transposed filter; for a strided convolution dy is
// first stuffed with zeros (a pad, a reshape and a slice of the whole tensor), and the convolution then spends
// three quarters of its multiplications on those zeros (ResNet8's two stride-2 layers: 34 ms a step that way).
// Here every (output row, filter tap) pair adds dy's row times the tap's transposed filter into dx's row, four
// pixels at a time in registers, so only the real products are computed, for any stride.
import { backend_util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { memoryOf } from './channel-kernels';
import { rowGeometry, runRowSegments, type PadArg, type Shape4 } from './conv-rows';
import { simdFor } from './simd';

export interface ConvInputArgs {
  readonly dy: TensorInfo;
  readonly filter: TensorInfo;
  readonly inputShape: Shape4;
  readonly strides: number | [number, number];
  readonly pad: PadArg;
  readonly dataFormat?: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Whether the SIMD loop computes this gradient: NHWC float32, input channels a multiple of 8 (two vectors), and a
 * filter larger than 1x1 or a stride above 1. A 1x1 stride-1 convolution stays one XNNPACK matMul.
 */
export function simdInputApplies(filterShape: Shape4, strides: number | [number, number], dataFormat: string | undefined): boolean {
  const [kh, kw, ci] = filterShape;
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  if (dataFormat === 'NCHW' || ci % 8 !== 0 || ci === 0) return false;
  return kh * kw > 1 || sh > 1 || sw > 1;
}

/** The gradient, or null when this loop does not apply (see simdInputApplies; also: not wasm, SIMD unavailable). */
export function conv2dBackpropInputSimd(backendName: string, backend: KernelBackend, a: ConvInputArgs): TensorInfo | null {
  const filterShape = a.filter.shape as Shape4;
  if (!simdInputApplies(filterShape, a.strides, a.dataFormat) || a.dy.dtype !== 'float32' || a.filter.dtype !== 'float32') return null;
  const simd = simdFor(backendName, backend);
  if (!simd) return null;
  const info = backend_util.computeConv2DInfo(a.inputShape, filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const { inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.inputShape]);
  const taps = fh * fw;
  const wt = simd.scratch(taps * co * ci);
  try {
    // Views after every allocation: the memory may have grown.
    mem.view(outInfo!).fill(0);
    const w = mem.view(a.filter);
    const t = simd.view(wt, taps * co * ci);
    for (let tap = 0; tap < taps; tap++) {
      const base = tap * ci * co;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) t[base + o * ci + c] = w[base + c * co + o]!;
    }
    // Every (output row, filter tap) pair is a segment: dx's row (the "x" side of the table) += dy's row . tap.
    const at = { x: simd.address(outInfo!), xPixelBytes: ci * 4, dy: simd.address(a.dy), dyPixelBytes: co * 4, tapBytes: co * ci * 4 };
    runRowSegments(simd, rowGeometry(info), at, (table, count) => simd.loops.gemmseg(table, count, co, ci / 4, wt));
  } finally {
    simd.release(wt);
  }
  return outInfo!;
}
