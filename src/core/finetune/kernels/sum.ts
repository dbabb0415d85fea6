// Sum on the wasm backend, for the two reductions a training step does most.
//
// A broadcast add's gradient (every layer's bias, the BatchNorm shift in inference mode) sums dy over the batch
// and spatial axes. tfjs-backend-wasm reduces only innermost axes, so it first transposes the whole tensor to put
// channels outermost, then sums each row: a full copy per bias per step. Here a channels-last sum is one SIMD pass
// (simd.wat `colsum`) with the same float32 additions in the same order, so the result is the stock kernel's bit for
// bit; a sum whose reduced axes all have extent 1 (a [1] loss term) is a reshape that shares the buffer.
// Everything else goes to the stock kernel.
import { getKernel, registerKernel, unregisterKernel, util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { simdChannelSum } from './channel-kernels';
import { simdFor } from './simd';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  incRef(dataId: object): void;
}

let original: KernelConfig | undefined;

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
  if (path === null || (path === 'channels' && simd === null)) return original!.kernelFunc(args);
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

/** Puts our Sum in front of wasm's (idempotent). Returns false for other backends. */
export function registerFastSum(backendName: string): boolean {
  if (backendName !== 'wasm') return false;
  const existing = getKernel('Sum', 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
  if (!existing) return false;
  if (existing.freezeInspector) return true;
  original = existing;
  unregisterKernel('Sum', 'wasm');
  registerKernel({ kernelName: 'Sum', backendName: 'wasm', kernelFunc: fastSum, freezeInspector: true } as KernelConfig);
  return true;
}

/** Puts wasm's own Sum back. */
export function unregisterFastSum(): void {
  const existing = getKernel('Sum', 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
  if (!existing?.freezeInspector || !original) return;
  unregisterKernel('Sum', 'wasm');
  registerKernel(original);
}
