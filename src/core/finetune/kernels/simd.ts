// The engine's SIMD loops (simd.wat, assembled into dist/fi-simd.wasm by esbuild.mjs), instantiated on the tfjs
// wasm backend's own memory so they read and write tensors in place.
//
// Used by channel-kernels.ts, depthwise-js.ts, conv-filter-simd.ts and wasm-overrides.ts for channel counts that
// are multiples of 4 on the wasm backend (fi-simd.wasm for the single-threaded build, fi-simd-shared.wasm for the
// threaded build's shared memory; the loops themselves run on the calling thread). Everything else takes
// JavaScript loops or the stock kernels, which compute the same values.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** The WebAssembly API as this module uses it (the core is compiled without the DOM library, which declares it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const SIMD_FILE = 'fi-simd.wasm';
export const SIMD_SHARED_FILE = 'fi-simd-shared.wasm';

export interface SimdLoops {
  map1(out: number, a: number, s: number, h: number, pixels: number, c4: number): void;
  map2(out: number, a: number, b: number, s: number, u: number, h: number, pixels: number, c4: number): void;
  moments(x: number, k: number, pixels: number, c4: number, s1: number, s2: number): void;
  reduce2(a: number, b: number, m: number, pixels: number, c4: number, s1: number, s2: number): void;
  rowdot(x: number, xStep: number, dy: number, count: number, c4: number, acc: number): void;
  rowaxpy(dx: number, xStep: number, dy: number, f: number, count: number, c4: number): void;
  relugrad(out: number, dy: number, x: number, n4: number): void;
  colsum(x: number, pixels: number, c4: number, out: number): void;
  relu(out: number, x: number, n4: number): void;
  addrow(out: number, a: number, h: number, pixels: number, c4: number): void;
  atb(a: number, aStride: number, b: number, bStride: number, count: number, rows: number, c4: number, out: number, outStride: number): void;
  atbseg(seg: number, nseg: number, ci: number, c4: number, out: number): void;
  gemm(a: number, aStride: number, b: number, bStride: number, k: number, rows: number, c4: number, out: number, outStride: number): void;
  gemmseg(seg: number, nseg: number, k: number, c4: number, wt: number): void;
}

/** The loops plus access to the backend's heap: tensor addresses and float32 scratch buffers. */
export interface Simd {
  readonly loops: SimdLoops;
  /** Byte address of a tensor's data. */
  address(info: TensorInfo): number;
  /** `n` float32s of scratch; free them with release(). Views must be taken after every allocation. */
  scratch(n: number): number;
  release(ptr: number): void;
  /** A float32 view of `n` values at a byte address (valid until the next allocation). */
  view(ptr: number, n: number): Float32Array;
  /** The memory's current size in bytes. */
  memoryBytes(): number;
  /** The memory's buffer (for views of other element types; valid until the next allocation). */
  memoryBuffer(): ArrayBuffer | SharedArrayBuffer;
}

interface WasmBackendLike {
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown; _malloc(n: number): number; _free(p: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } | undefined };
}

let enabled = true;
const moduleCache = new Map<string, object | null>();
const instances = new WeakMap<WasmMemory, SimdLoops>();

/** Tests and benchmarks switch the SIMD loops off to compare them with the JavaScript ones. */
export function setSimdEnabled(on: boolean): void {
  enabled = on;
}

/** Folders that may hold fi-simd.wasm: next to the bundle, or the repository's dist/ when running from source. */
export function simdSearchDirs(): string[] {
  const dirs: string[] = [];
  if (typeof __dirname === 'string') dirs.push(__dirname, path.resolve(__dirname, '../../../../dist'));
  if (process.argv[1]) dirs.push(path.dirname(process.argv[1]));
  return dirs;
}

function loadModule(file: string): object | null {
  const known = moduleCache.get(file);
  if (known !== undefined) return known;
  let mod: object | null = null;
  for (const d of simdSearchDirs()) {
    const f = path.join(d, file);
    if (!existsSync(f)) continue;
    try {
      mod = new WA.Module(readFileSync(f));
    } catch {
      mod = null; // no wasm SIMD (or threads) in this runtime: the JavaScript loops run instead
    }
    break;
  }
  moduleCache.set(file, mod);
  return mod;
}

/** The SIMD loops for a backend, or null (not wasm, threaded build, module absent or unsupported, disabled). */
export function simdFor(backendName: string, backend: KernelBackend): Simd | null {
  if (!enabled || backendName !== 'wasm') return null;
  const b = backend as unknown as WasmBackendLike;
  const memory = b.wasm?.asm?.memory ?? b.wasm?.wasmMemory;
  if (!(memory instanceof WA.Memory)) return null;
  let loops = instances.get(memory);
  if (!loops) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const mod = loadModule(shared ? SIMD_SHARED_FILE : SIMD_FILE);
    if (!mod) return null;
    loops = new WA.Instance(mod, { env: { memory } }).exports as unknown as SimdLoops;
    instances.set(memory, loops);
  }
  return {
    loops,
    address: (info) => {
      const d = b.dataIdMap.get(info.dataId);
      if (!d) throw new Error('simd: tensor data not in the wasm backend');
      return d.memoryOffset;
    },
    scratch: (n) => b.wasm._malloc(Math.max(16, n * 4)),
    release: (p) => b.wasm._free(p),
    view: (p, n) => new Float32Array(memory.buffer, p, n),
    memoryBytes: () => memory.buffer.byteLength,
    memoryBuffer: () => memory.buffer,
  };
}
