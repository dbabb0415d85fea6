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
import { simdFor } from './simd';

type PadArg = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

export interface ConvInputArgs {
  readonly dy: TensorInfo;
  readonly filter: TensorInfo;
  readonly inputShape: Shape4;
  readonly strides: number | [number, number];
  readonly pad: PadArg;
  readonly dataFormat?: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Output rows of dy per wasm call. */
const BLOCK_PIXELS = 1024;

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
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: ci, outHeight: OH, outWidth: OW, outChannels: co, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.inputShape]);
  const taps = fh * fw;
  const wt = simd.scratch(taps * co * ci);
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_PIXELS / Math.max(1, OW)));
  const maxSegs = rowsPerBlock * taps;
  const seg = simd.scratch(maxSegs * 5);
  try {
    // Views after every allocation: the memory may have grown.
    mem.view(outInfo!).fill(0);
    const w = mem.view(a.filter);
    const t = simd.view(wt, taps * co * ci);
    for (let tap = 0; tap < taps; tap++) {
      const base = tap * ci * co;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) t[base + o * ci + c] = w[base + c * co + o]!;
    }
    const table = new Int32Array(simd.memoryBuffer(), seg, maxSegs * 5);
    const dxp = simd.address(outInfo!);
    const dyp = simd.address(a.dy);
    // Output columns whose input column exists, per filter column.
    const owFrom = new Int32Array(fw);
    const owTo = new Int32Array(fw);
    for (let j = 0; j < fw; j++) {
      let o0 = 0;
      while (o0 < OW && o0 * sw - left + j < 0) o0++;
      let o1 = OW;
      while (o1 > o0 && (o1 - 1) * sw - left + j >= W) o1--;
      owFrom[j] = o0;
      owTo[j] = o1;
    }
    const tapBytes = co * ci * 4;
    let nseg = 0;
    let rowsInBlock = 0;
    for (let n = 0; n < N; n++) {
      for (let oh = 0; oh < OH; oh++) {
        const dyRow = dyp + ((n * OH + oh) * OW) * co * 4;
        for (let i = 0; i < fh; i++) {
          const ih = oh * sh - top + i;
          if (ih < 0 || ih >= H) continue;
          const dxRow = dxp + ((n * H + ih) * W) * ci * 4;
          for (let j = 0; j < fw; j++) {
            const o0 = owFrom[j]!;
            const o1 = owTo[j]!;
            if (o0 >= o1) continue;
            const k = nseg * 5;
            table[k] = dxRow + (o0 * sw - left + j) * ci * 4;
            table[k + 1] = sw * ci * 4;
            table[k + 2] = dyRow + o0 * co * 4;
            table[k + 3] = o1 - o0;
            table[k + 4] = (i * fw + j) * tapBytes;
            nseg++;
          }
        }
        if (++rowsInBlock === rowsPerBlock) {
          simd.loops.gemmseg(seg, nseg, co, ci / 4, wt);
          nseg = 0;
          rowsInBlock = 0;
        }
      }
    }
    if (nseg > 0) simd.loops.gemmseg(seg, nseg, co, ci / 4, wt);
  } finally {
    simd.release(wt);
    simd.release(seg);
  }
  return outInfo!;
}
