// The channel kernels (channel-kernels.ts) on the tfjs-node backend, as TensorFlow's own fused operations.
//
// tfjs-node runs every tfjs op eagerly through TensorFlow's C API, one TensorFlow op per tfjs op: a
// training-mode BatchNorm written with tfjs ops is about twenty whole-tensor ops forward and backward, and the
// ReLU gradient is Step (itself IsNan, Greater, Fill and Select there), Cast and Multiply. TensorFlow has each
// of them as one op, the ones Keras itself trains with:
//
//   FIBatchNormTrain  FusedBatchNormV3 (is_training): y, batch mean, biased batch variance (its reserve_space_2)
//   FIBatchNormGrad   FusedBatchNormGradV3 (is_training); gamma = k / rstd and variance = 1 / rstd^2 with
//                     epsilon 0, so that TensorFlow's rsqrt(variance + epsilon) is the forward pass's rstd
//   FIReluGrad        ReluGrad
//   FIChannelSum      BiasAddGrad
//
// FusedBatchNorm takes 4-D input: other ranks are viewed as [pixels, 1, 1, channels] (a reshape, no copy).
import { engine, getKernel, registerKernel, unregisterKernel, type KernelBackend, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { CHANNEL_KERNELS, checkFloat, registerReluGradient } from './channel-kernels';

/** The part of tfjs-node's NodeJSKernelBackend these kernels use (the package is an optional dependency). */
interface NativeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_FLOAT: number };
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: TensorInfo[]): TensorInfo;
  executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: TensorInfo[], count: number): TensorInfo[];
}
interface NativeAttr {
  name: string;
  type: number;
  value: unknown;
}

export const NATIVE_BACKEND = 'tensorflow';

function isNative(b: KernelBackend): b is KernelBackend & NativeBackend {
  const n = b as unknown as Partial<NativeBackend>;
  return typeof n.executeMultipleOutputs === 'function' && typeof n.binding?.TF_ATTR_TYPE === 'number';
}

function typeAttrs(b: NativeBackend, ...names: string[]): NativeAttr[] {
  return names.map((name) => ({ name, type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }));
}

function normAttrs(b: NativeBackend, epsilon: number): NativeAttr[] {
  return [
    ...typeAttrs(b, 'T', 'U'),
    { name: 'epsilon', type: b.binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.binding.TF_ATTR_BOOL, value: true },
  ];
}

/** Runs a tfjs kernel on the active backend from inside a kernel (reshapes and the small per-channel ops). */
function op(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  return engine().runKernel(name, inputs as never, attrs as never) as TensorInfo;
}

function as4d(x: TensorInfo): TensorInfo {
  if (x.shape.length === 4) return x;
  const c = x.shape[x.shape.length - 1] ?? 1;
  return op('Reshape', { x }, { shape: [x.shape.length ? x.shape.reduce((a, d) => a * d, 1) / c : 1, 1, 1, c] });
}

function dispose(...infos: TensorInfo[]): void {
  for (const t of infos) engine().disposeTensor(t as never);
}

type Impl = (b: NativeBackend, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap) => TensorInfo[];

const impls: Record<(typeof CHANNEL_KERNELS)[number], Impl> = {
  FIBatchNormTrain: (b, { x, gamma, beta }, attrs) => {
    const x4 = as4d(x!);
    const empty = engine().makeTensor(new Float32Array(0), [0], 'float32') as TensorInfo;
    const [y4, batchMean, unbiased, mean, variance, reserve] = b.executeMultipleOutputs('FusedBatchNormV3', normAttrs(b, Number(attrs.epsilon)), [x4, gamma!, beta!, empty, empty], 6);
    const eps = engine().makeTensor(new Float32Array([Number(attrs.epsilon)]), [], 'float32') as TensorInfo;
    const shifted = op('Add', { a: variance!, b: eps });
    const rstd = op('Rsqrt', { x: shifted });
    const y = x4 === x ? y4! : op('Reshape', { x: y4! }, { shape: [...x!.shape] });
    dispose(empty, eps, shifted, batchMean!, unbiased!, reserve!);
    if (x4 !== x) dispose(x4, y4!);
    return [y, mean!, variance!, rstd];
  },
  FIBatchNormGrad: (b, { dy, x, mean, rstd, k }) => {
    const dy4 = as4d(dy!);
    const x4 = as4d(x!);
    const gamma = op('RealDiv', { a: k!, b: rstd! });
    const square = op('Multiply', { a: rstd!, b: rstd! });
    const variance = op('Reciprocal', { x: square });
    const empty = engine().makeTensor(new Float32Array(0), [0], 'float32') as TensorInfo;
    const [dx4, dgamma, dbeta, r4, r5] = b.executeMultipleOutputs('FusedBatchNormGradV3', normAttrs(b, 0), [dy4, x4, gamma, mean!, variance, empty], 5);
    const dx = x4 === x ? dx4! : op('Reshape', { x: dx4 }, { shape: [...x!.shape] });
    dispose(gamma, square, variance, empty, r4!, r5!);
    if (x4 !== x) dispose(x4, dx4!);
    if (dy4 !== dy) dispose(dy4);
    return [dx, dgamma!, dbeta!];
  },
  FIReluGrad: (b, { dy, x }) => [b.executeSingleOutput('ReluGrad', typeAttrs(b, 'T'), [dy!, x!])],
  FIChannelSum: (b, { x }) => {
    const x4 = as4d(x!);
    const out = b.executeSingleOutput('BiasAddGrad', [...typeAttrs(b, 'T'), { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' }], [x4]);
    if (x4 !== x) dispose(x4);
    return [out];
  },
};

/**
 * Registers the channel kernels on tfjs-node's backend (idempotent); false when the active 'tensorflow' backend
 * is not tfjs-node's. Returns the names registered.
 */
export function registerNativeKernels(backend: KernelBackend): string[] {
  if (!isNative(backend)) return [];
  for (const name of CHANNEL_KERNELS) {
    if (getKernel(name, NATIVE_BACKEND)) continue;
    const impl = impls[name];
    registerKernel({
      kernelName: name,
      backendName: NATIVE_BACKEND,
      kernelFunc: ({ inputs, backend: kb, attrs }) => {
        checkFloat(name, Object.values(inputs as Record<string, TensorInfo>));
        return impl(kb as unknown as NativeBackend, inputs as Record<string, TensorInfo>, attrs ?? {});
      },
    });
  }
  registerReluGradient();
  return [...CHANNEL_KERNELS];
}

export function unregisterNativeKernels(): void {
  for (const name of CHANNEL_KERNELS) if (getKernel(name, NATIVE_BACKEND)) unregisterKernel(name, NATIVE_BACKEND);
}
