// Stock wasm kernels that a training step calls often and that tfjs-backend-wasm does slowly, replaced by SIMD
// loops on its own memory (simd.wat). Each replacement computes exactly what the stock kernel computes and hands
// every other case back to it.
//
// Sum:  a broadcast add's gradient (every layer's bias) sums dy over the batch and spatial axes. The stock kernel
//       reduces only innermost axes, so it first transposes the whole tensor to put channels outermost, then sums
//       each row: a full copy per bias per step. Here a channels-last sum is one pass (`colsum`) with the same
//       float32 additions in the same order, so the result is the stock kernel's bit for bit; a sum whose reduced
//       axes all have extent 1 (a [1] loss term) is a reshape that shares the buffer.
// Add:  a bias add (x [..., C] + b broadcast over every axis but the last, as tfjs-layers adds depthwise and
//       dense biases) is one pass (`addrow`) instead of XNNPACK's general broadcasting add; one float32 addition
//       per element either way, so the same values.
// AvgPoolGrad: the stock kernel took 4 ms for a global average pool over [32, 8, 8, 64] (ResNet8's head). Without
//       padding every window holds filterHeight * filterWidth inputs, and dx is dy spread evenly over each window:
//       one loop here (padded pools go to the stock kernel, whose divisor for partial windows stays authoritative).
// Relu: the stock kernel is XNNPACK's clamp, which on the threaded build hands every call to the thread pool
//       (3x slower per call on 2 cores than one thread doing it). Here it is one pass (`relu`) on the calling thread.
import { backend_util, getKernel, registerKernel, unregisterKernel, util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { simdChannelSum } from './channel-kernels';
import { simdFor } from './simd';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  incRef(dataId: object): void;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export const WASM_OVERRIDES = ['Sum', 'Relu', 'Add', 'AvgPoolGrad'] as const;
type OverrideName = (typeof WASM_OVERRIDES)[number];

const originals = new Map<OverrideName, KernelConfig>();

function stock(name: OverrideName): KernelFunc {
  return originals.get(name)!.kernelFunc;
}

/** tfjs's sum passes axis null for "every axis"; parseAxisParam takes that null although its type omits it. */
function allAxesWhenNull(axis: number | number[] | undefined): number | number[] {
  return (axis ?? null) as unknown as number | number[];
}

/** Which fast path serves a Sum, or null for the stock kernel. Exported for tests. */
export function sumPath(shape: readonly number[], dtype: string, axis: number | number[] | undefined): 'channels' | 'reshape' | null {
  if (dtype !== 'float32' || shape.length === 0) return null;
  const axes = util.parseAxisParam(allAxesWhenNull(axis), [...shape]);
  if (axes.every((a) => shape[a] === 1)) return 'reshape';
  const r = shape.length;
  const c = shape[r - 1]!;
  // Axes in ascending order only: the stock kernel walks the reduced axes in the order given, and the same
  // additions in the same order is what makes the result identical.
  if (r >= 2 && c % 4 === 0 && axes.length === r - 1 && axes.every((a, i) => a === i)) return 'channels';
  return null;
}

function outShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

const fastSum: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  const attrs = args.attrs as { axis?: number | number[]; keepDims?: boolean };
  const path = sumPath(x.shape, x.dtype, attrs.axis);
  const simd = path === 'channels' ? simdFor('wasm', args.backend as KernelBackend) : null;
  if (path === null || (path === 'channels' && simd === null)) return stock('Sum')(args);
  const axes = util.parseAxisParam(allAxesWhenNull(attrs.axis), [...x.shape]);
  const shape = outShape(x.shape, axes, attrs.keepDims === true);
  const b = args.backend as unknown as WasmBackendLike;
  if (path === 'reshape') {
    b.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  }
  const out = b.makeOutput(shape, 'float32');
  const c = x.shape[x.shape.length - 1]!;
  simdChannelSum(simd!, simd!.address(x), c, util.sizeFromShape(x.shape) / c, simd!.address(out));
  return out;
};

const fastRelu: KernelFunc = (args) => {
  const x = (args.inputs as { x: TensorInfo }).x;
  const simd = x.dtype === 'float32' ? simdFor('wasm', args.backend as KernelBackend) : null;
  if (!simd) return stock('Relu')(args);
  const b = args.backend as unknown as WasmBackendLike;
  const out = b.makeOutput([...x.shape], 'float32');
  const n = util.sizeFromShape(x.shape);
  const n4 = Math.floor(n / 4);
  if (n4 > 0) simd.loops.relu(simd.address(out), simd.address(x), n4);
  if (n4 * 4 < n) {
    const xv = b.typedArrayFromHeap(x);
    const ov = b.typedArrayFromHeap(out);
    for (let i = n4 * 4; i < n; i++) ov[i] = Math.max(0, xv[i]!);
  }
  return out;
};

/** Whether an Add is a channels-last bias add: [..., C] + [C] (or [1, ..., 1, C]), either order. Exported for tests. */
export function isBiasAdd(a: TensorInfo, b: TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2) return false;
  const c = a.shape[a.shape.length - 1]!;
  if (c % 4 !== 0 || util.sizeFromShape(a.shape) === c) return false;
  return b.shape.length <= a.shape.length && b.shape[b.shape.length - 1] === c && util.sizeFromShape(b.shape) === c;
}

const fastAdd: KernelFunc = (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const [x, bias] = isBiasAdd(a, b) ? [a, b] : isBiasAdd(b, a) ? [b, a] : [null, null];
  const simd = x ? simdFor('wasm', args.backend as KernelBackend) : null;
  if (!x || !bias || !simd) return stock('Add')(args);
  const out = (args.backend as unknown as WasmBackendLike).makeOutput([...x.shape], 'float32');
  const c = x.shape[x.shape.length - 1]!;
  simd.loops.addrow(simd.address(out), simd.address(x), simd.address(bias), util.sizeFromShape(x.shape) / c, c / 4);
  return out;
};

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The pool's geometry when our AvgPoolGrad serves it (float32 NHWC, no padding), else null. Exported for tests. */
export function avgPoolGradGeometry(shape: readonly number[], dtype: string, a: PoolAttrs): backend_util.Conv2DInfo | null {
  if (dtype !== 'float32' || shape.length !== 4) return null;
  const info = backend_util.computePool2DInfo(shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const p = info.padInfo;
  return p.top === 0 && p.left === 0 && p.bottom === 0 && p.right === 0 ? info : null;
}

const fastAvgPoolGrad: KernelFunc = (args) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = avgPoolGradGeometry(input.shape, dy.dtype, args.attrs as unknown as PoolAttrs);
  if (!info) return stock('AvgPoolGrad')(args);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const b = args.backend as unknown as WasmBackendLike;
  const out = b.makeOutput([...input.shape], 'float32');
  const acc = new Float64Array(N * H * W * C);
  const d = b.typedArrayFromHeap(dy);
  const k = 1 / (fh * fw);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const src = ((n * OH + oy) * OW + ox) * C;
        for (let i = 0; i < fh; i++) {
          for (let j = 0; j < fw; j++) {
            const dst = ((n * H + oy * sh + i) * W + ox * sw + j) * C;
            for (let c = 0; c < C; c++) acc[dst + c]! += d[src + c]! * k;
          }
        }
      }
    }
  }
  b.typedArrayFromHeap(out).set(acc);
  return out;
};

const replacements: Record<OverrideName, KernelFunc> = { Sum: fastSum, Relu: fastRelu, Add: fastAdd, AvgPoolGrad: fastAvgPoolGrad };

/** Puts our kernels in front of wasm's (idempotent). Returns the names now served by this module ([] off wasm). */
export function registerWasmOverrides(backendName: string): OverrideName[] {
  if (backendName !== 'wasm') return [];
  const done: OverrideName[] = [];
  for (const name of WASM_OVERRIDES) {
    const existing = getKernel(name, 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
    if (!existing) continue;
    if (!existing.freezeInspector) {
      originals.set(name, existing);
      unregisterKernel(name, 'wasm');
      registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: replacements[name], freezeInspector: true } as KernelConfig);
    }
    done.push(name);
  }
  return done;
}

/** Puts wasm's own kernels back (tests and benchmarks compare both in one process). */
export function unregisterWasmOverrides(): void {
  for (const name of WASM_OVERRIDES) {
    const existing = getKernel(name, 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
    const original = originals.get(name);
    if (!existing?.freezeInspector || !original) continue;
    unregisterKernel(name, 'wasm');
    registerKernel(original);
  }
}
