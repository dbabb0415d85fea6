// Per-channel kernels for channels-last tensors, written as plain loops over the backend's own memory.
//
// A training-mode BatchNorm written with tfjs ops costs about twenty whole-tensor passes per step (moments,
// normalize, and the same again for the gradient), and every reduction over N, H, W on the wasm backend
// transposes the tensor first. These kernels do the same work in two passes forward and two backward, with
// float64 totals, reading and writing the wasm heap (or the cpu backend's arrays) directly; on wasm, channel
// counts that are multiples of 4 run the SIMD loops of simd.wat.
//
//   FIBatchNormTrain  x, gamma[C], beta[C]; epsilon   -> y, mean[C], variance[C] (biased, as TensorFlow's batch
//                     statistics), rstd[C]  (y = (x - mean) * rstd * gamma + beta)
//   FIChannelSum      x[..., C]                       -> sum over every axis but the last, [C] (float32 accumulation)
//   FIBatchNormGrad   dy, x, mean[C], rstd[C], k[C]   -> dx, sum(dy * xhat)[C], sum(dy)[C]
//                     (xhat = (x - mean) * rstd; k = gamma * rstd; dx = k * (dy - mean(dy) - xhat * mean(dy * xhat)))
//   FIReluGrad        dy, x                           -> x > 0 ? dy : 0  (tfjs: Step, a copying Cast and a Multiply)
import { simdFor, type Simd } from './simd';
import { cast, engine, getKernel, mul, registerGradient, registerKernel, step, unregisterKernel, type KernelBackend, type KernelConfig, type NamedAttrMap, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';

export const CHANNEL_KERNELS = ['FIBatchNormTrain', 'FIChannelSum', 'FIBatchNormGrad', 'FIReluGrad'] as const;
type ChannelKernelName = (typeof CHANNEL_KERNELS)[number];

/** Memory access for the two backends whose memory JavaScript can read: outputs first, then views. */
export interface Memory {
  /** Allocates float32 outputs; views of inputs and outputs must be taken after this (wasm memory may grow). */
  alloc(shapes: readonly (readonly number[])[]): TensorInfo[];
  view(info: TensorInfo): Float32Array;
}

interface WasmLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuLike {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

/** Reads and allocates float32 tensors in a wasm or cpu backend's own memory. */
export function memoryOf(backendName: string, backend: KernelBackend): Memory {
  if (backendName === 'wasm') {
    const b = backend as unknown as WasmLike;
    return {
      alloc: (shapes) => shapes.map((s) => b.makeOutput([...s], 'float32')),
      view: (info) => b.typedArrayFromHeap(info),
    };
  }
  const b = backend as unknown as CpuLike;
  const fresh = new Map<object, Float32Array>();
  return {
    alloc: (shapes) =>
      shapes.map((s) => {
        const values = new Float32Array(s.reduce((a, d) => a * d, 1));
        const info = b.makeTensorInfo([...s], 'float32', values);
        fresh.set(info.dataId, values);
        return info;
      }),
    view: (info) => fresh.get(info.dataId) ?? (b.data.get(info.dataId).values as Float32Array),
  };
}

function channelsOf(x: TensorInfo): { c: number; pixels: number } {
  const c = x.shape[x.shape.length - 1] ?? 1;
  const size = x.shape.reduce((a, d) => a * d, 1);
  return { c, pixels: c === 0 ? 0 : size / c };
}

export function checkFloat(name: string, infos: readonly TensorInfo[]): void {
  for (const i of infos) if (i.dtype !== 'float32') throw new Error(`${name}: float32 inputs only, got ${i.dtype}`);
}

type Impl = (inputs: TensorInfo[], mem: Memory, attrs: NamedAttrMap, simd: Simd | null) => TensorInfo[];

/**
 * Pixels per block: the block's rows (pixels x channels floats, about 8 KB) stay in L1 while each channel is
 * walked with a stride of `channels`.
 */
function blockFor(channels: number): number {
  return Math.max(8, Math.min(1024, Math.floor(2048 / Math.max(1, channels))));
}

/**
 * Per-channel sums of (x - k) and (x - k)^2 with k = the first pixel's value (a shift that keeps the one-pass
 * variance exact in float64 whatever the mean), blocked like channelReduce. Returns mean and biased variance.
 */
function shiftedMoments(x: Float32Array, c: number, pixels: number): { mean: Float64Array; variance: Float64Array } {
  const k = new Float64Array(c);
  for (let j = 0; j < c && pixels > 0; j++) k[j] = x[j]!;
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  const block = blockFor(c);
  for (let p0 = 0; p0 < pixels; p0 += block) {
    const end = Math.min(pixels, p0 + block) * c;
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      const k0 = k[j]!;
      const k1 = k[j + 1]!;
      const k2 = k[j + 2]!;
      const k3 = k[j + 3]!;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let q0 = 0;
      let q1 = 0;
      let q2 = 0;
      let q3 = 0;
      for (let i = p0 * c + j; i < end; i += c) {
        const d0 = x[i]! - k0;
        const d1 = x[i + 1]! - k1;
        const d2 = x[i + 2]! - k2;
        const d3 = x[i + 3]! - k3;
        a0 += d0;
        a1 += d1;
        a2 += d2;
        a3 += d3;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
      s1[j]! += a0;
      s1[j + 1]! += a1;
      s1[j + 2]! += a2;
      s1[j + 3]! += a3;
      s2[j]! += q0;
      s2[j + 1]! += q1;
      s2[j + 2]! += q2;
      s2[j + 3]! += q3;
    }
    for (; j < c; j++) {
      const k0 = k[j]!;
      let a0 = 0;
      let q0 = 0;
      for (let i = p0 * c + j; i < end; i += c) {
        const d0 = x[i]! - k0;
        a0 += d0;
        q0 += d0 * d0;
      }
      s1[j]! += a0;
      s2[j]! += q0;
    }
  }
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    const m = s1[j]! / pixels;
    mean[j] = k[j]! + m;
    variance[j] = Math.max(0, s2[j]! / pixels - m * m);
  }
  return { mean, variance };
}

/**
 * out[j] += sum over pixels of x, accumulated in float32 (Math.fround after every add) the way a float32
 * reduction kernel does it. Used where float32 round-off is the observable: a gradient that is zero in exact
 * arithmetic (a bias before a batch-statistics BatchNorm) then keeps the round-off TensorFlow shows instead of
 * vanishing.
 */
function channelSum32(x: Float32Array, c: number, pixels: number, out: Float32Array): void {
  const f = Math.fround;
  const block = blockFor(c);
  for (let p0 = 0; p0 < pixels; p0 += block) {
    const end = Math.min(pixels, p0 + block) * c;
    let j = 0;
    for (; j + 4 <= c; j += 4) {
      let a0 = out[j]!;
      let a1 = out[j + 1]!;
      let a2 = out[j + 2]!;
      let a3 = out[j + 3]!;
      for (let i = p0 * c + j; i < end; i += c) {
        a0 = f(a0 + x[i]!);
        a1 = f(a1 + x[i + 1]!);
        a2 = f(a2 + x[i + 2]!);
        a3 = f(a3 + x[i + 3]!);
      }
      out[j] = a0;
      out[j + 1] = a1;
      out[j + 2] = a2;
      out[j + 3] = a3;
    }
    for (; j < c; j++) {
      let a = out[j]!;
      for (let i = p0 * c + j; i < end; i += c) a = f(a + x[i]!);
      out[j] = a;
    }
  }
}

/** sdy[j] += sum dy, sdyx[j] += sum dy * (x - mean[j]) (the caller multiplies by rstd), blocked like channelReduce. */
function gradReduce(dy: Float32Array, x: Float32Array, mean: Float64Array, c: number, pixels: number, sdy: Float64Array, sdyx: Float64Array): void {
  const block = blockFor(c);
  for (let p0 = 0; p0 < pixels; p0 += block) {
    const end = Math.min(pixels, p0 + block) * c;
    let j = 0;
    for (; j + 2 <= c; j += 2) {
      let s0 = 0;
      let s1 = 0;
      let t0 = 0;
      let t1 = 0;
      const m0 = mean[j]!;
      const m1 = mean[j + 1]!;
      for (let i = p0 * c + j; i < end; i += c) {
        const g0 = dy[i]!;
        const g1 = dy[i + 1]!;
        s0 += g0;
        s1 += g1;
        t0 += g0 * (x[i]! - m0);
        t1 += g1 * (x[i + 1]! - m1);
      }
      sdy[j]! += s0;
      sdy[j + 1]! += s1;
      sdyx[j]! += t0;
      sdyx[j + 1]! += t1;
    }
    for (; j < c; j++) {
      let s0 = 0;
      let t0 = 0;
      const m0 = mean[j]!;
      for (let i = p0 * c + j; i < end; i += c) {
        const g0 = dy[i]!;
        s0 += g0;
        t0 += g0 * (x[i]! - m0);
      }
      sdy[j]! += s0;
      sdyx[j]! += t0;
    }
  }
}

/**
 * out[i] = a[i] * s[j] + h[j], or with a second input b: a[i] * s[j] + b[i] * u[j] + h[j] (j = i mod c).
 * Channel by channel inside cache-sized blocks, so the per-channel factors stay in registers (2.5x faster in V8
 * than reading them from arrays for every element).
 */
function channelMap(out: Float32Array, a: Float32Array, s: Float64Array, h: Float64Array, c: number, pixels: number, b?: Float32Array, u?: Float64Array): void {
  const block = blockFor(c);
  for (let p0 = 0; p0 < pixels; p0 += block) {
    const end = Math.min(pixels, p0 + block) * c;
    for (let j = 0; j < c; j++) {
      const sj = s[j]!;
      const hj = h[j]!;
      if (b && u) {
        const uj = u[j]!;
        for (let i = p0 * c + j; i < end; i += c) out[i] = a[i]! * sj + b[i]! * uj + hj;
      } else {
        for (let i = p0 * c + j; i < end; i += c) out[i] = a[i]! * sj + hj;
      }
    }
  }
}

/** Pixels per SIMD call: float32 partial sums over at most this many pixels, totalled in float64 here. */
const SIMD_BLOCK = 256;

/** shiftedMoments with the SIMD loop (x at byte address xp; channels a multiple of 4). */
function simdMoments(simd: Simd, xp: number, c: number, pixels: number): { mean: Float64Array; variance: Float64Array } {
  const kk = simd.scratch(c);
  const s1 = simd.scratch(c);
  const s2 = simd.scratch(c);
  try {
    simd.view(kk, c).set(simd.view(xp, c));
    const k = Float64Array.from(simd.view(kk, c));
    const t1 = new Float64Array(c);
    const t2 = new Float64Array(c);
    for (let p0 = 0; p0 < pixels; p0 += SIMD_BLOCK) {
      const n = Math.min(SIMD_BLOCK, pixels - p0);
      simd.view(s1, c).fill(0);
      simd.view(s2, c).fill(0);
      simd.loops.moments(xp + p0 * c * 4, kk, n, c / 4, s1, s2);
      const v1 = simd.view(s1, c);
      const v2 = simd.view(s2, c);
      for (let j = 0; j < c; j++) {
        t1[j]! += v1[j]!;
        t2[j]! += v2[j]!;
      }
    }
    const mean = new Float64Array(c);
    const variance = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      const m = t1[j]! / pixels;
      mean[j] = k[j]! + m;
      variance[j] = Math.max(0, t2[j]! / pixels - m * m);
    }
    return { mean, variance };
  } finally {
    simd.release(kk);
    simd.release(s1);
    simd.release(s2);
  }
}

/**
 * channelSum32 with the SIMD loop, into the float32 array at byte address `out` (overwritten): each channel is a
 * lane summed in pixel order in float32, so the result is channelSum32's bit for bit. Blocked like channelSum32.
 */
export function simdChannelSum(simd: Simd, xp: number, c: number, pixels: number, out: number): void {
  simd.view(out, c).fill(0);
  const block = blockFor(c);
  for (let p0 = 0; p0 < pixels; p0 += block) simd.loops.colsum(xp + p0 * c * 4, Math.min(block, pixels - p0), c / 4, out);
}

/** gradReduce with the SIMD loop: sdy += sum dy, sdyx += sum dy * (x - mean). */
function simdGradSums(simd: Simd, dyp: number, xp: number, mp: number, c: number, pixels: number, sdy: Float64Array, sdyx: Float64Array): void {
  const s1 = simd.scratch(c);
  const s2 = simd.scratch(c);
  try {
    for (let p0 = 0; p0 < pixels; p0 += SIMD_BLOCK) {
      const n = Math.min(SIMD_BLOCK, pixels - p0);
      simd.view(s1, c).fill(0);
      simd.view(s2, c).fill(0);
      simd.loops.reduce2(dyp + p0 * c * 4, xp + p0 * c * 4, mp, n, c / 4, s1, s2);
      const v1 = simd.view(s1, c);
      const v2 = simd.view(s2, c);
      for (let j = 0; j < c; j++) {
        sdy[j]! += v1[j]!;
        sdyx[j]! += v2[j]!;
      }
    }
  } finally {
    simd.release(s1);
    simd.release(s2);
  }
}

/** channelMap with the SIMD loop: out = a * s + h, or a * s + b * u + h when u is given (b is a byte address). */
function simdMap(simd: Simd, out: number, a: number, b: number, s: Float64Array, u: Float64Array | null, h: Float64Array, c: number, pixels: number): void {
  const sp = simd.scratch(c);
  const hp = simd.scratch(c);
  const up = u ? simd.scratch(c) : 0;
  try {
    simd.view(sp, c).set(s);
    simd.view(hp, c).set(h);
    if (u) {
      simd.view(up, c).set(u);
      simd.loops.map2(out, a, b, sp, up, hp, pixels, c / 4);
    } else {
      simd.loops.map1(out, a, sp, hp, pixels, c / 4);
    }
  } finally {
    simd.release(sp);
    simd.release(hp);
    if (u) simd.release(up);
  }
}

const impls: Record<ChannelKernelName, Impl> = {
  FIReluGrad([dyi, xi], mem, _attrs, simd) {
    const n = xi!.shape.reduce((a, d) => a * d, 1);
    const [oi] = mem.alloc([xi!.shape]);
    let done = 0;
    if (simd && n >= 4) {
      done = n - (n % 4);
      simd.loops.relugrad(simd.address(oi!), simd.address(dyi!), simd.address(xi!), done / 4);
    }
    if (done < n) {
      const out = mem.view(oi!);
      const dy = mem.view(dyi!);
      const x = mem.view(xi!);
      for (let i = done; i < n; i++) out[i] = x[i]! > 0 ? dy[i]! : 0;
    }
    return [oi!];
  },
  FIBatchNormTrain([xi, gi, bi], mem, attrs, simd) {
    const { c, pixels } = channelsOf(xi!);
    const [yi, mi, vi, ri] = mem.alloc([xi!.shape, [c], [c], [c]]);
    const vector = simd !== null && c % 4 === 0 && pixels > 0;
    const { mean, variance } = vector ? simdMoments(simd, simd.address(xi!), c, pixels) : shiftedMoments(mem.view(xi!), c, pixels);
    const eps = Number((attrs as { epsilon?: number }).epsilon ?? 1e-3);
    const gamma = mem.view(gi!);
    const beta = mem.view(bi!);
    const rstd = new Float64Array(c);
    const scale = new Float64Array(c);
    const shift = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      // float32 like the tfjs ops it replaces: rsqrt of the float32 variance + epsilon.
      rstd[j] = Math.fround(1 / Math.sqrt(Math.fround(Math.fround(variance[j]!) + Math.fround(eps))));
      scale[j] = Math.fround(rstd[j]! * gamma[j]!);
      shift[j] = Math.fround(beta[j]! - Math.fround(Math.fround(mean[j]!) * scale[j]!));
    }
    if (vector) simdMap(simd, simd.address(yi!), simd.address(xi!), 0, scale, null, shift, c, pixels);
    else channelMap(mem.view(yi!), mem.view(xi!), scale, shift, c, pixels);
    mem.view(mi!).set(mean);
    mem.view(vi!).set(variance);
    mem.view(ri!).set(rstd);
    return [yi!, mi!, vi!, ri!];
  },
  FIChannelSum([xi], mem, _attrs, simd) {
    const { c, pixels } = channelsOf(xi!);
    const [si] = mem.alloc([[c]]);
    if (simd !== null && c % 4 === 0) {
      simdChannelSum(simd, simd.address(xi!), c, pixels, simd.address(si!));
      return [si!];
    }
    const sum = new Float32Array(c);
    channelSum32(mem.view(xi!), c, pixels, sum);
    mem.view(si!).set(sum);
    return [si!];
  },
  FIBatchNormGrad([dyi, xi, mi, ri, ki], mem, _attrs, simd) {
    const { c, pixels } = channelsOf(xi!);
    const [dxi, dgi, dbi] = mem.alloc([xi!.shape, [c], [c]]);
    const vector = simd !== null && c % 4 === 0 && pixels > 0;
    const mean = Float64Array.from(mem.view(mi!));
    const rstd = Float64Array.from(mem.view(ri!));
    const k = Float64Array.from(mem.view(ki!));
    const sdy = new Float64Array(c);
    const sdyx = new Float64Array(c);
    if (vector) simdGradSums(simd, simd.address(dyi!), simd.address(xi!), simd.address(mi!), c, pixels, sdy, sdyx);
    else gradReduce(mem.view(dyi!), mem.view(xi!), mean, c, pixels, sdy, sdyx);
    // dx = k * (dy - sdy/n - xhat * sdyxhat/n), xhat = (x - mean) * rstd, sdyxhat = sdyx * rstd
    //    = dy * k + x * u + h   with u = -k * rstd^2 * sdyx / n, h = -k * sdy / n - u * mean
    const u = new Float64Array(c);
    const h = new Float64Array(c);
    for (let j = 0; j < c; j++) {
      sdyx[j]! *= rstd[j]!;
      u[j] = (-k[j]! * rstd[j]! * sdyx[j]!) / pixels;
      h[j] = (-k[j]! * sdy[j]!) / pixels - u[j]! * mean[j]!;
    }
    if (vector) simdMap(simd, simd.address(dxi!), simd.address(dyi!), simd.address(xi!), k, u, h, c, pixels);
    else channelMap(mem.view(dxi!), mem.view(dyi!), k, h, c, pixels, mem.view(xi!), u);
    mem.view(dgi!).set(sdyx);
    mem.view(dbi!).set(sdy);
    return [dxi!, dgi!, dbi!];
  },
};

const INPUT_NAMES: Record<ChannelKernelName, readonly string[]> = {
  FIBatchNormTrain: ['x', 'gamma', 'beta'],
  FIChannelSum: ['x'],
  FIBatchNormGrad: ['dy', 'x', 'mean', 'rstd', 'k'],
  FIReluGrad: ['dy', 'x'],
};

/** Backends whose memory these kernels can address. */
export function supportsChannelKernels(backendName: string): boolean {
  return backendName === 'wasm' || backendName === 'cpu';
}

/** Registers the channel kernels on a backend (idempotent). Returns false when the backend is not supported. */
export function registerChannelKernels(backendName: string): boolean {
  if (!supportsChannelKernels(backendName)) return false;
  for (const name of CHANNEL_KERNELS) {
    if (getKernel(name, backendName)) continue;
    const config: KernelConfig = {
      kernelName: name,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const list = INPUT_NAMES[name].map((n) => (inputs as Record<string, TensorInfo>)[n]!);
        checkFloat(name, list);
        return impls[name](list, memoryOf(backendName, backend as KernelBackend), attrs ?? {}, simdFor(backendName, backend as KernelBackend));
      },
    };
    registerKernel(config);
  }
  registerReluGradient();
  return true;
}

let reluGradientInstalled = false;

/**
 * The ReLU gradient through FIReluGrad where the active backend has it (one pass instead of tfjs's Step, a
 * copying Cast and a Multiply); elsewhere tfjs's own formula. Registered once, for every backend.
 */
export function registerReluGradient(): void {
  if (reluGradientInstalled) return;
  reluGradientInstalled = true;
  registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
      const d = dy as Tensor;
      const x = saved[0]!;
      return {
        x: () =>
          getKernel('FIReluGrad', engine().backendName) && x.dtype === 'float32' && d.dtype === 'float32'
            ? run('FIReluGrad', { dy: d, x })[0]!
            : mul(d, cast(step(x), 'float32')),
      };
    },
  });
}

/** Removes the channel kernels from a backend (benchmarks compare stock tfjs ops against them in one process). */
export function unregisterChannelKernels(backendName: string): void {
  for (const name of CHANNEL_KERNELS) if (getKernel(name, backendName)) unregisterKernel(name, backendName);
}

/** True when the active backend has the channel kernels (these loops, or TensorFlow's ops: native-kernels.ts). */
export function channelKernelsActive(): boolean {
  return getKernel('FIBatchNormTrain', engine().backendName) !== undefined;
}

function run(name: ChannelKernelName, inputs: Record<string, Tensor>, attrs: Record<string, number> = {}): Tensor[] {
  const out = engine().runKernel(name, inputs as never, attrs as never);
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
}

/**
 * Training-mode BatchNorm forward in two passes: batch mean and (biased) variance, then
 * y = (x - mean) * rstd * gamma + beta with rstd = 1/sqrt(variance + epsilon).
 */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: number): { y: Tensor; mean: Tensor; variance: Tensor; rstd: Tensor } {
  const [y, mean, variance, rstd] = run('FIBatchNormTrain', { x, gamma, beta }, { epsilon });
  return { y: y!, mean: mean!, variance: variance!, rstd: rstd! };
}

export function channelSum(x: Tensor): Tensor {
  return run('FIChannelSum', { x })[0]!;
}

export function batchNormGrad(dy: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, k: Tensor): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const [dx, dgamma, dbeta] = run('FIBatchNormGrad', { dy, x, mean, rstd, k });
  return { dx: dx!, dgamma: dgamma!, dbeta: dbeta! };
}
