// A zero-copy Identity for the wasm backend.
//
// Every tensor the gradient tape saves for the backward pass is cloned through the Identity kernel, and
// tfjs-backend-wasm's Identity copies the data (the cpu backend's shares it). In a MobileNet training step
// that is a full copy of most activations. Tensors are immutable and the wasm backend reference-counts its
// buffers (its Reshape already shares them this way), so the clone can share the buffer too.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

interface RefCounting {
  incRef(dataId: object): void;
}

const shareBuffer: KernelFunc = ({ inputs, backend }) => {
  const x = (inputs as { x: TensorInfo }).x;
  (backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

let original: KernelConfig | undefined;

/** Replaces wasm's copying Identity (idempotent). Returns false for other backends or when wasm has none. */
export function registerZeroCopyIdentity(backendName: string): boolean {
  if (backendName !== 'wasm') return false;
  const existing = getKernel('Identity', 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
  if (!existing) return false;
  if (existing.freezeInspector) return true;
  original = existing;
  unregisterKernel('Identity', 'wasm');
  registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: shareBuffer, freezeInspector: true } as KernelConfig);
  return true;
}

/** Puts wasm's own Identity back (benchmarks compare both in one process). */
export function unregisterZeroCopyIdentity(): void {
  const existing = getKernel('Identity', 'wasm') as (KernelConfig & { freezeInspector?: boolean }) | undefined;
  if (!existing?.freezeInspector || !original) return;
  unregisterKernel('Identity', 'wasm');
  registerKernel(original);
}
