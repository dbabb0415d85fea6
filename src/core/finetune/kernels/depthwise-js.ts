// Depthwise convolution gradients (channel multiplier 1) as loops over the backend's own memory.
//
//   dF[kh, kw, c, 0] = sum over n, oh, ow of x[n, oh*sh - top + kh*dh, ow*sw - left + kw*dw, c] * dy[n, oh, ow, c]
//   dx[n, ih, iw, c] += dy[n, oh, ow, c] * f[kh, kw, c]      (the same pairs of rows, the other way round)
//
// The formulation through ops (a depthwise convolution of the transposed input with dy as its filter; for the
// input gradient, dy stuffed with zeros by the stride) spends its time in transposes and in XNNPACK running a
// filter as large as the output: 2-5x slower than this on MobileNet's shapes. Both gradients walk the same
// rows (walkImageRows); channel counts that are multiples of 4 use the SIMD row loops of simd.wat, others the
// JavaScript ones (about 1.1 ns per multiply-add in V8).
import { backend_util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { memoryOf } from './channel-kernels';
import { rowGeometry, walkRowTaps, type PadArg, type RowGeometry, type Shape4 } from './conv-rows';
import { simdFor } from './simd';

export interface DepthwiseFilterArgs {
  readonly x: TensorInfo;
  readonly dy: TensorInfo;
  readonly filterShape: Shape4;
  readonly strides: number | [number, number];
  readonly dilations: number | [number, number];
  readonly pad: PadArg;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export interface DepthwiseInputArgs {
  readonly dy: TensorInfo;
  readonly filter: TensorInfo;
  readonly inputShape: Shape4;
  readonly strides: number | [number, number];
  readonly dilations: number | [number, number];
  readonly pad: PadArg;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function geometry(xShape: Shape4, filterShape: Shape4, a: { strides: number | [number, number]; dilations: number | [number, number]; pad: PadArg; dimRoundingMode?: 'floor' | 'round' | 'ceil' }): RowGeometry {
  if (filterShape[3] !== 1) throw new Error('depthwise gradient loops: channel multiplier 1 only');
  return rowGeometry(backend_util.computeConv2DInfo(xShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true));
}

/**
 * Every (output row, filter tap) pair of image n whose input row exists: `visit(xStart, dyStart, count, tap)`
 * with float offsets of the first input pixel and the first output pixel, the number of output pixels (input
 * pixels are sw * C floats apart, output pixels C), and the tap index kh * fw + kw.
 */
function walkImageRows(g: RowGeometry, n: number, visit: (xStart: number, dyStart: number, count: number, tap: number) => void): void {
  const C = g.info.inChannels;
  for (let oh = 0; oh < g.info.outHeight; oh++) walkRowTaps(g, n, oh, (xPixel, dyPixel, count, tap) => visit(xPixel * C, dyPixel * C, count, tap));
}

/** acc[a + c] += sum over i < count of x[xs + i*step + c] * dy[ds + i*C + c], four channels at a time in registers. */
function rowDot(x: Float32Array, xs: number, step: number, dy: Float32Array, ds: number, count: number, C: number, acc: Float64Array, a: number): void {
  const C4 = C - (C % 4);
  let c = 0;
  for (; c < C4; c += 4) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let i = 0, xi = xs + c, di = ds + c; i < count; i++, xi += step, di += C) {
      a0 += x[xi]! * dy[di]!;
      a1 += x[xi + 1]! * dy[di + 1]!;
      a2 += x[xi + 2]! * dy[di + 2]!;
      a3 += x[xi + 3]! * dy[di + 3]!;
    }
    acc[a + c]! += a0;
    acc[a + c + 1]! += a1;
    acc[a + c + 2]! += a2;
    acc[a + c + 3]! += a3;
  }
  for (; c < C; c++) {
    let a0 = 0;
    for (let i = 0, xi = xs + c, di = ds + c; i < count; i++, xi += step, di += C) a0 += x[xi]! * dy[di]!;
    acc[a + c]! += a0;
  }
}

/** dx[xs + i*step + c] += dy[ds + i*C + c] * f[fb + c] for i < count. */
function rowAxpy(dx: Float32Array, xs: number, step: number, dy: Float32Array, ds: number, f: Float32Array, fb: number, count: number, C: number): void {
  for (let c = 0; c < C; c++) {
    const fc = f[fb + c]!;
    for (let i = 0, xi = xs + c, di = ds + c; i < count; i++, xi += step, di += C) dx[xi] = dx[xi]! + dy[di]! * fc;
  }
}

export function depthwiseBackpropFilterJs(backendName: string, backend: KernelBackend, a: DepthwiseFilterArgs): TensorInfo {
  const g = geometry(a.x.shape as Shape4, a.filterShape, a);
  const { batchSize, inChannels: C, strideWidth: sw } = g.info;
  const size = a.filterShape[0] * a.filterShape[1] * C;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.filterShape]);
  const acc = new Float64Array(size);
  const simd = C % 4 === 0 ? simdFor(backendName, backend) : null;
  if (simd) {
    // float32 sums per image in scratch memory (simd.wat rowdot), totalled in float64 here.
    const xp = simd.address(a.x);
    const dyp = simd.address(a.dy);
    const accP = simd.scratch(size);
    try {
      for (let n = 0; n < batchSize; n++) {
        simd.view(accP, size).fill(0);
        walkImageRows(g, n, (xs, ds, count, tap) => simd.loops.rowdot(xp + 4 * xs, 4 * sw * C, dyp + 4 * ds, count, C / 4, accP + 4 * tap * C));
        const v = simd.view(accP, size);
        for (let i = 0; i < size; i++) acc[i]! += v[i]!;
      }
    } finally {
      simd.release(accP);
    }
  } else {
    const x = mem.view(a.x);
    const dy = mem.view(a.dy);
    for (let n = 0; n < batchSize; n++) walkImageRows(g, n, (xs, ds, count, tap) => rowDot(x, xs, sw * C, dy, ds, count, C, acc, tap * C));
  }
  mem.view(outInfo!).set(acc);
  return outInfo!;
}

/**
 * DepthwiseConv2dNativeBackpropInput, channel multiplier 1. Used for strided convolutions, where the op
 * formulation first stuffs dy with zeros (a strided MobileNet layer: 13 ms that way, about 3 ms this way).
 */
export function depthwiseBackpropInputJs(backendName: string, backend: KernelBackend, a: DepthwiseInputArgs): TensorInfo {
  const g = geometry(a.inputShape, a.filter.shape as Shape4, a);
  const { batchSize, inChannels: C, strideWidth: sw } = g.info;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.inputShape]);
  mem.view(outInfo!).fill(0);
  const simd = C % 4 === 0 ? simdFor(backendName, backend) : null;
  if (simd) {
    // Accumulates into dx in place (simd.wat rowaxpy).
    const dxp = simd.address(outInfo!);
    const dyp = simd.address(a.dy);
    const fp = simd.address(a.filter);
    for (let n = 0; n < batchSize; n++) walkImageRows(g, n, (xs, ds, count, tap) => simd.loops.rowaxpy(dxp + 4 * xs, 4 * sw * C, dyp + 4 * ds, fp + 4 * tap * C, count, C / 4));
  } else {
    const dx = mem.view(outInfo!);
    const dy = mem.view(a.dy);
    const f = mem.view(a.filter);
    for (let n = 0; n < batchSize; n++) walkImageRows(g, n, (xs, ds, count, tap) => rowAxpy(dx, xs, sw * C, dy, ds, f, tap * C, count, C));
  }
  return outInfo!;
}
