// Registers the convolution-gradient kernels for the wasm and cpu backends.
//
// wasm: has no Conv2DBackpropFilter and no depthwise gradients at all, so without these no convolution can
//       train; its Conv2DBackpropInput is a slow loop and is replaced too (kept for comparison).
// cpu:  has all four, as naive loops; they are replaced (the originals stay reachable through
//       `referenceKernel` so tests compare against them).
//
// On wasm the kernels first try SIMD loops over the backend's memory (conv-filter-simd.ts, conv-input-simd.ts,
// depthwise-js.ts). Otherwise they are written with tfjs ops (forward convolutions, strided slices, matMul) run
// inside a tidy: the engine accepts a Tensor as a kernel's output, and nothing is recorded on the gradient tape
// from inside a kernel (kernelDepth > 0), so the kernels are plain functions of their inputs.
import {
  engine,
  getKernel,
  registerGradient,
  registerKernel,
  tidy,
  unregisterKernel,
  type KernelBackend,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import {
  conv2dBackpropFilterViaConv,
  conv2dBackpropFilterViaMatMul,
  conv2dBackpropInputViaConv,
  depthwiseBackpropFilter,
  depthwiseBackpropFilterViaConv,
  depthwiseBackpropInput,
  type PadArg,
  type RoundingMode,
} from './conv-grad-math';
import { depthwiseBackpropFilterJs, depthwiseBackpropInputJs } from './depthwise-js';
import { conv2dBackpropFilterSimd } from './conv-filter-simd';
import { conv2dBackpropInputSimd } from './conv-input-simd';
import type { Shape4 } from './conv-rows';

export const GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;
export type GradientKernelName = (typeof GRADIENT_KERNELS)[number];

type Inputs = Record<string, TensorInfo>;

function t4(info: TensorInfo | undefined): Tensor4D {
  // Ops hand kernels their Tensors; a Tensor is a TensorInfo with methods.
  return info as unknown as Tensor4D;
}

function attr<T>(attrs: NamedAttrMap | undefined, name: string): T {
  return (attrs as Record<string, unknown> | undefined)?.[name] as T;
}

/**
 * Which formulation each backend is fastest with (measured: bench/finetune.bench.ts and per shape on MobileNet).
 * wasm: for kernels larger than 1x1, forward convolutions (XNNPACK) beat im2col+matMul by 6-30x and per-tap
 * slices by 4-20x; a 1x1 kernel's gradient is a single matMul.
 */
type FilterStrategy = 'conv' | 'matmul' | 'auto';
const filterStrategy: Record<string, FilterStrategy> = { wasm: 'auto', cpu: 'matmul' };

/**
 * 'auto' (wasm): the SIMD loop of conv-filter-simd.ts where it applies (see simdFilterApplies: filters larger than
 * 1x1, and 1x1 filters over at most 128 input channels, output channels in multiples of 8); otherwise 1x1
 * convolutions as one transpose + matMul (2-8x faster there than the convolution form, measured on MobileNet's
 * pointwise shapes), larger kernels as a convolution (the im2col matMul is 3-30x slower).
 */
function filterFormulation(strategy: FilterStrategy, filterShape: Shape4): 'conv' | 'matmul' {
  if (strategy !== 'auto') return strategy;
  return filterShape[0] === 1 && filterShape[1] === 1 ? 'matmul' : 'conv';
}
/**
 * Conv2DBackpropInput: 'auto' (wasm) takes the SIMD loop of conv-input-simd.ts where it applies (filters larger
 * than 1x1 or strided, input channels in multiples of 8), else, like 'conv', a convolution of dy with the flipped
 * filter (zero-stuffed by the stride).
 */
type InputStrategy = 'conv' | 'auto';
const inputStrategy: Record<string, InputStrategy> = { wasm: 'auto', cpu: 'conv' };

/** 'js': depthwise-js.ts for channel multiplier 1 (3-5x faster than 'conv' on wasm), else the op formulation. */
type DepthwiseStrategy = 'conv' | 'slices' | 'js';
const depthwiseStrategy: Record<string, DepthwiseStrategy> = { wasm: 'js', cpu: 'js' };

/** The attributes both Conv2D gradient kernels carry. */
function convAttrs(attrs: NamedAttrMap | undefined): { strides: number | [number, number]; pad: PadArg; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode: RoundingMode } {
  return {
    strides: attr<number | [number, number]>(attrs, 'strides'),
    pad: attr<PadArg>(attrs, 'pad'),
    dataFormat: attr<'NHWC' | 'NCHW'>(attrs, 'dataFormat'),
    dimRoundingMode: attr<RoundingMode>(attrs, 'dimRoundingMode'),
  };
}

const kernelFuncs: Record<GradientKernelName, (backendName: string) => KernelFunc> = {
  Conv2DBackpropFilter: (backendName) => ({ inputs, attrs, backend }) => {
    const i = inputs as Inputs;
    if (filterStrategy[backendName] === 'auto') {
      const direct = conv2dBackpropFilterSimd(backendName, backend as KernelBackend, { x: i.x!, dy: i.dy!, filterShape: attr<Shape4>(attrs, 'filterShape'), ...convAttrs(attrs) });
      if (direct) return direct;
    }
    return tidy(() => {
      const args = { x: t4(i.x), dy: t4(i.dy), filterShape: attr<Shape4>(attrs, 'filterShape'), ...convAttrs(attrs) };
      return filterFormulation(filterStrategy[backendName] ?? 'matmul', args.filterShape) === 'conv' ? conv2dBackpropFilterViaConv(args) : conv2dBackpropFilterViaMatMul(args);
    });
  },
  Conv2DBackpropInput: (backendName) => ({ inputs, attrs, backend }) => {
    const i = inputs as Inputs;
    if (inputStrategy[backendName] === 'auto') {
      const direct = conv2dBackpropInputSimd(backendName, backend as KernelBackend, { dy: i.dy!, filter: i.filter!, inputShape: attr<Shape4>(attrs, 'inputShape'), ...convAttrs(attrs) });
      if (direct) return direct;
    }
    return tidy(() =>
      conv2dBackpropInputViaConv({ dy: t4(i.dy), filter: t4(i.filter), inputShape: attr<Shape4>(attrs, 'inputShape'), ...convAttrs(attrs) }),
    );
  },
  DepthwiseConv2dNativeBackpropFilter: (backendName) => ({ inputs, attrs, backend }) => {
    const filterShape = attr<Shape4>(attrs, 'filterShape');
    const strategy = depthwiseStrategy[backendName] ?? 'slices';
    if (strategy === 'js' && filterShape[3] === 1) {
      return depthwiseBackpropFilterJs(backendName, backend as KernelBackend, {
        x: (inputs as Inputs).x!,
        dy: (inputs as Inputs).dy!,
        filterShape,
        strides: attr<number | [number, number]>(attrs, 'strides'),
        dilations: attr<number | [number, number]>(attrs, 'dilations') ?? 1,
        pad: attr<PadArg>(attrs, 'pad'),
        dimRoundingMode: attr<RoundingMode>(attrs, 'dimRoundingMode'),
      });
    }
    return tidy(() => {
      const i = inputs as Inputs;
      const f = strategy === 'slices' ? depthwiseBackpropFilter : depthwiseBackpropFilterViaConv;
      return f({
        x: t4(i.x),
        dy: t4(i.dy),
        filterShape: attr<Shape4>(attrs, 'filterShape'),
        strides: attr<number | [number, number]>(attrs, 'strides'),
        dilations: attr<number | [number, number]>(attrs, 'dilations') ?? 1,
        pad: attr<PadArg>(attrs, 'pad'),
        dimRoundingMode: attr<RoundingMode>(attrs, 'dimRoundingMode'),
      });
    });
  },
  DepthwiseConv2dNativeBackpropInput: (backendName) => ({ inputs, attrs, backend }) => {
    const i = inputs as Inputs;
    const strides = attr<number | [number, number]>(attrs, 'strides');
    const strided = typeof strides === 'number' ? strides > 1 : strides[0] > 1 || strides[1] > 1;
    // Strided layers by loops (the op form zero-stuffs dy first); stride 1 stays a flipped-filter convolution.
    if (depthwiseStrategy[backendName] === 'js' && strided && i.filter!.shape[3] === 1) {
      return depthwiseBackpropInputJs(backendName, backend as KernelBackend, {
        dy: i.dy!,
        filter: i.filter!,
        inputShape: attr<Shape4>(attrs, 'inputShape'),
        strides,
        dilations: attr<number | [number, number]>(attrs, 'dilations') ?? 1,
        pad: attr<PadArg>(attrs, 'pad'),
        dimRoundingMode: attr<RoundingMode>(attrs, 'dimRoundingMode'),
      });
    }
    return tidy(() =>
      depthwiseBackpropInput({
        dy: t4(i.dy),
        filter: t4(i.filter),
        inputShape: attr<Shape4>(attrs, 'inputShape'),
        strides: attr<number | [number, number]>(attrs, 'strides'),
        dilations: attr<number | [number, number]>(attrs, 'dilations') ?? 1,
        pad: attr<PadArg>(attrs, 'pad'),
        dimRoundingMode: attr<RoundingMode>(attrs, 'dimRoundingMode'),
      }),
    );
  },
};

/** Kernels this module replaced, per backend, kept so tests can compare against them. */
const replaced = new Map<string, KernelConfig>();

/**
 * Which kernels we install on a backend: the missing ones, plus slow ones. wasm's native Conv2DBackpropInput
 * is a plain loop too (measured 4-10x slower than ours as an XNNPACK convolution), so all four are replaced.
 */
export function kernelsToInstall(backendName: string): GradientKernelName[] {
  if (backendName === 'wasm' || backendName === 'cpu') return [...GRADIENT_KERNELS];
  return [];
}

/** Installs our gradient kernels on a backend. Idempotent. Returns the kernel names now served by this module. */
export function registerGradientKernels(backendName: string): GradientKernelName[] {
  const names = kernelsToInstall(backendName);
  for (const name of names) {
    const id = `${name}/${backendName}`;
    const existing = getKernel(name, backendName);
    if (existing && (existing as KernelConfig & { freezeInspector?: boolean }).freezeInspector) continue;
    if (existing) {
      replaced.set(id, existing);
      unregisterKernel(name, backendName);
    }
    const config: KernelConfig & { freezeInspector: boolean } = {
      kernelName: name,
      backendName,
      kernelFunc: kernelFuncs[name](backendName),
      freezeInspector: true,
    };
    registerKernel(config);
  }
  if (names.length > 0) registerDepthwiseGradient();
  return names;
}

/** Puts back the backend's original kernels (tests and benchmarks compare stock vs ours in one process). */
export function unregisterGradientKernels(backendName: string): void {
  for (const name of GRADIENT_KERNELS) {
    const existing = getKernel(name, backendName) as (KernelConfig & { freezeInspector?: boolean }) | undefined;
    if (!existing?.freezeInspector) continue;
    unregisterKernel(name, backendName);
    const original = replaced.get(`${name}/${backendName}`);
    if (original) registerKernel(original);
  }
}

/** The backend's own kernel that ours replaced (cpu: the naive loops), or undefined when there was none. */
export function referenceKernel(name: GradientKernelName, backendName: string): KernelConfig | undefined {
  const ours = getKernel(name, backendName) as (KernelConfig & { freezeInspector?: boolean }) | undefined;
  if (ours && !ours.freezeInspector) return ours;
  return replaced.get(`${name}/${backendName}`);
}

/** Selects the Conv2DBackpropFilter formulation for a backend (benchmarks and tests flip it to compare). */
export function setFilterStrategy(backendName: string, strategy: FilterStrategy): void {
  filterStrategy[backendName] = strategy;
}

/** Selects the Conv2DBackpropInput formulation for a backend. */
export function setInputStrategy(backendName: string, strategy: InputStrategy): void {
  inputStrategy[backendName] = strategy;
}

/** Selects the DepthwiseConv2dNativeBackpropFilter formulation for a backend. */
export function setDepthwiseStrategy(backendName: string, strategy: DepthwiseStrategy): void {
  depthwiseStrategy[backendName] = strategy;
}

export function strategies(backendName: string): { conv2dFilter: string; conv2dInput: string; depthwiseFilter: string } {
  return { conv2dFilter: filterStrategy[backendName] ?? 'matmul', conv2dInput: inputStrategy[backendName] ?? 'conv', depthwiseFilter: depthwiseStrategy[backendName] ?? 'slices' };
}

/**
 * tfjs's DepthwiseConv2dNative gradient refuses dilation rates > 1 (its cpu reference kernels ignore dilation).
 * Ours handle dilation, so the gradient is re-registered to route every case to the backprop kernels.
 * (Conv2D keeps tfjs's gradient: layers use fused conv2d, whose gradient also requires dilation 1;
 * dilated Conv2D is refused up front by the support check.)
 */
export function registerDepthwiseGradient(): void {
  registerGradient({
    kernelName: 'DepthwiseConv2dNative',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const a = attrs as unknown as { strides: number | [number, number]; dilations?: number | [number, number]; pad: PadArg; dimRoundingMode?: RoundingMode };
      const common = { strides: a.strides, dilations: a.dilations ?? 1, pad: a.pad, dimRoundingMode: a.dimRoundingMode };
      return {
        x: () => engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy as Tensor4D, filter }, { ...common, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
        filter: () => engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy as Tensor4D }, { ...common, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
      };
    },
  });
}
