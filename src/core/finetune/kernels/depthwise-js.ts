// Depthwise convolution gradients (channel multiplier 1) as loops over the backend's own memory.
//
//   dF[kh, kw, c, 0] = sum over n, oh, ow of x[n, oh*sh - top + kh*dh, ow*sw - left + kw*dw, c] * dy[n, oh, ow, c]
//
// The formulation through ops (a depthwise convolution of the transposed input with dy as its filter) spends
// its time in transposes and in XNNPACK running a filter as large as the output: 2-5x slower than this on
// MobileNet's shapes (about 1.1 ns per multiply-add here, in V8).
import { backend_util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';
import { memoryOf } from './channel-kernels';
import { simdFor } from './simd';

type PadArg = 'valid' | 'same' | number | backend_util.ExplicitPadding;

export interface DepthwiseFilterArgs {
  readonly x: TensorInfo;
  readonly dy: TensorInfo;
  readonly filterShape: [number, number, number, number];
  readonly strides: number | [number, number];
  readonly dilations: number | [number, number];
  readonly pad: PadArg;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function depthwiseBackpropFilterJs(backendName: string, backend: KernelBackend, a: DepthwiseFilterArgs): TensorInfo {
  if (a.filterShape[3] !== 1) throw new Error('depthwiseBackpropFilterJs: channel multiplier 1 only');
  const info = backend_util.computeConv2DInfo(a.x.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.filterShape]);
  const x = mem.view(a.x);
  const dy = mem.view(a.dy);
  const acc = new Float64Array(fh * fw * C);
  const C4 = C - (C % 4);
  // The valid output columns for each filter column: iw = ow*sw - left + kw*dw within [0, W).
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
  const simd = C % 4 === 0 ? simdFor(backendName, backend) : null;
  if (simd) {
    // The same walk with the SIMD row loop (simd.wat rowdot): float32 sums per image, totalled in float64.
    const xp = simd.address(a.x);
    const dyp = simd.address(a.dy);
    const size = fh * fw * C;
    const accP = simd.scratch(size);
    try {
      for (let n = 0; n < batchSize; n++) {
        simd.view(accP, size).fill(0);
        for (let oh = 0; oh < OH; oh++) {
          const dRow = (n * OH + oh) * OW * C;
          for (let kh = 0; kh < fh; kh++) {
            const ih = oh * sh - top + kh * dh;
            if (ih < 0 || ih >= H) continue;
            const xRow = (n * H + ih) * W * C;
            for (let kw = 0; kw < fw; kw++) {
              const o0 = owFrom[kw]!;
              const o1 = owTo[kw]!;
              if (o0 >= o1) continue;
              simd.loops.rowdot(xp + 4 * (xRow + (o0 * sw - left + kw * dw) * C), 4 * sw * C, dyp + 4 * (dRow + o0 * C), o1 - o0, C / 4, accP + 4 * (kh * fw + kw) * C);
            }
          }
        }
        const v = simd.view(accP, size);
        for (let i = 0; i < size; i++) acc[i]! += v[i]!;
      }
    } finally {
      simd.release(accP);
    }
    mem.view(outInfo!).set(acc);
    return outInfo!;
  }
  // One output row and one input row at a time (both stay in L1); per filter tap, the row is walked four
  // channels at a time with accumulators in registers.
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const dRow = (n * OH + oh) * OW * C;
      for (let kh = 0; kh < fh; kh++) {
        const ih = oh * sh - top + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const xRow = (n * H + ih) * W * C;
        for (let kw = 0; kw < fw; kw++) {
          const o0 = owFrom[kw]!;
          const o1 = owTo[kw]!;
          if (o0 >= o1) continue;
          const ab = (kh * fw + kw) * C;
          const xStart = xRow + (o0 * sw - left + kw * dw) * C;
          const xStep = sw * C;
          let c = 0;
          for (; c < C4; c += 4) {
            let a0 = 0;
            let a1 = 0;
            let a2 = 0;
            let a3 = 0;
            for (let ow = o0, xi = xStart + c, di = dRow + o0 * C + c; ow < o1; ow++, xi += xStep, di += C) {
              a0 += x[xi]! * dy[di]!;
              a1 += x[xi + 1]! * dy[di + 1]!;
              a2 += x[xi + 2]! * dy[di + 2]!;
              a3 += x[xi + 3]! * dy[di + 3]!;
            }
            acc[ab + c]! += a0;
            acc[ab + c + 1]! += a1;
            acc[ab + c + 2]! += a2;
            acc[ab + c + 3]! += a3;
          }
          for (; c < C; c++) {
            let a0 = 0;
            for (let ow = o0, xi = xStart + c, di = dRow + o0 * C + c; ow < o1; ow++, xi += xStep, di += C) a0 += x[xi]! * dy[di]!;
            acc[ab + c]! += a0;
          }
        }
      }
    }
  }
  mem.view(outInfo!).set(acc);
  return outInfo!;
}

export interface DepthwiseInputArgs {
  readonly dy: TensorInfo;
  readonly filter: TensorInfo;
  readonly inputShape: [number, number, number, number];
  readonly strides: number | [number, number];
  readonly dilations: number | [number, number];
  readonly pad: PadArg;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * DepthwiseConv2dNativeBackpropInput, channel multiplier 1: dx[n, ih, iw, c] += dy[n, oh, ow, c] * f[kh, kw, c]
 * for every tap, row by row. Used for strided convolutions, where the op formulation first stuffs dy with
 * zeros (a strided MobileNet layer: 13 ms that way, about 3 ms this way).
 */
export function depthwiseBackpropInputJs(backendName: string, backend: KernelBackend, a: DepthwiseInputArgs): TensorInfo {
  const filterShape = a.filter.shape as [number, number, number, number];
  if (filterShape[3] !== 1) throw new Error('depthwiseBackpropInputJs: channel multiplier 1 only');
  const info = backend_util.computeConv2DInfo(a.inputShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mem = memoryOf(backendName, backend);
  const [outInfo] = mem.alloc([a.inputShape]);
  const dy = mem.view(a.dy);
  const f = mem.view(a.filter);
  const dx = mem.view(outInfo!);
  dx.fill(0);
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
  const simd = C % 4 === 0 ? simdFor(backendName, backend) : null;
  if (simd) {
    // The same walk with the SIMD row loop (simd.wat rowaxpy), accumulating into dx in place.
    const dxp = simd.address(outInfo!);
    const dyp = simd.address(a.dy);
    const fp = simd.address(a.filter);
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < OH; oh++) {
        const dRow = (n * OH + oh) * OW * C;
        for (let kh = 0; kh < fh; kh++) {
          const ih = oh * sh - top + kh * dh;
          if (ih < 0 || ih >= H) continue;
          const xRow = (n * H + ih) * W * C;
          for (let kw = 0; kw < fw; kw++) {
            const o0 = owFrom[kw]!;
            const o1 = owTo[kw]!;
            if (o0 >= o1) continue;
            simd.loops.rowaxpy(dxp + 4 * (xRow + (o0 * sw - left + kw * dw) * C), 4 * sw * C, dyp + 4 * (dRow + o0 * C), fp + 4 * (kh * fw + kw) * C, o1 - o0, C / 4);
          }
        }
      }
    }
    return outInfo!;
  }
  const C4 = C - (C % 4);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < OH; oh++) {
      const dRow = (n * OH + oh) * OW * C;
      for (let kh = 0; kh < fh; kh++) {
        const ih = oh * sh - top + kh * dh;
        if (ih < 0 || ih >= H) continue;
        const xRow = (n * H + ih) * W * C;
        for (let kw = 0; kw < fw; kw++) {
          const o0 = owFrom[kw]!;
          const o1 = owTo[kw]!;
          if (o0 >= o1) continue;
          const fb = (kh * fw + kw) * C;
          const xStart = xRow + (o0 * sw - left + kw * dw) * C;
          const xStep = sw * C;
          let c = 0;
          for (; c < C4; c += 4) {
            const f0 = f[fb + c]!;
            const f1 = f[fb + c + 1]!;
            const f2 = f[fb + c + 2]!;
            const f3 = f[fb + c + 3]!;
            for (let ow = o0, xi = xStart + c, di = dRow + o0 * C + c; ow < o1; ow++, xi += xStep, di += C) {
              dx[xi] = dx[xi]! + dy[di]! * f0;
              dx[xi + 1] = dx[xi + 1]! + dy[di + 1]! * f1;
              dx[xi + 2] = dx[xi + 2]! + dy[di + 2]! * f2;
              dx[xi + 3] = dx[xi + 3]! + dy[di + 3]! * f3;
            }
          }
          for (; c < C; c++) {
            const f0 = f[fb + c]!;
            for (let ow = o0, xi = xStart + c, di = dRow + o0 * C + c; ow < o1; ow++, xi += xStep, di += C) dx[xi] = dx[xi]! + dy[di]! * f0;
          }
        }
      }
    }
  }
  return outInfo!;
}
