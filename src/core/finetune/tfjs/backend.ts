// Chooses and initialises the tfjs backend for the fine-tune engine.
//
// Order: tfjs-node when it is installed and loads (native TensorFlow, optional), else wasm (the embedded
// default), else cpu. The wasm binaries are found next to the bundle (dist/, where esbuild.mjs copies them)
// or in node_modules (tests, tsx).
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients (the umbrella package would): training needs them all.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { setThreadsCount, getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import os from 'node:os';
import { installThreadBridges, locateThreadedDir, removeTemporaryScripts, THREADED_BINARY, THREADED_SCRIPT, withDoubledCpuCount } from './wasm-threads';
import { registerGradientKernels } from '../kernels/register';
import { CHANNEL_KERNELS, registerChannelKernels, unregisterChannelKernels } from '../kernels/channel-kernels';
import { registerZeroCopyIdentity, unregisterZeroCopyIdentity } from '../kernels/identity';
import { registerWasmOverrides, unregisterWasmOverrides } from '../kernels/wasm-overrides';
import { registerNativeKernels, unregisterNativeKernels } from '../kernels/native-kernels';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  readonly name: BackendName;
  /** Why this backend (and not a preferred one) was chosen; shown in the result. */
  readonly reason: string;
  /** Kernels served by src/core/finetune/kernels on this backend. */
  readonly ourKernels: readonly string[];
}

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

/** Folders that may hold the wasm binaries, most specific first. */
export function wasmSearchDirs(extra: readonly string[] = [], only = false): string[] {
  const dirs = [...extra];
  if (only) return dirs;
  // Bundled: dist/finetune-worker.js, dist/cli.js and dist/extension.js sit next to the copied binaries.
  if (typeof __dirname === 'string') dirs.push(__dirname);
  if (process.argv[1]) dirs.push(path.dirname(process.argv[1]));
  try {
    const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
    dirs.push(path.join(path.dirname(pkg), 'dist'));
  } catch {
    // not resolvable from here (bundled without node_modules): the dirs above must hold the files
  }
  return dirs;
}

/** The folder holding both wasm binaries, or null. */
export function locateWasmDir(extra: readonly string[] = [], only = false): string | null {
  for (const d of wasmSearchDirs(extra, only)) {
    if (WASM_FILES.every((f) => existsSync(path.join(d, f)))) return d;
  }
  return null;
}

/** Loader for the optional native backend; injectable so the selection logic is testable without it installed. */
export type NativeLoader = () => unknown;

export const defaultNativeLoader: NativeLoader = () => {
  // A computed specifier keeps bundlers from trying to resolve an optional dependency at build time.
  const name = ['@tensorflow', 'tfjs-node'].join('/');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name);
};

/** True when @tensorflow/tfjs-node is installed where this module can load it (npm run build:tfjs-node). */
export function tfjsNodeInstalled(): boolean {
  try {
    require.resolve(['@tensorflow', 'tfjs-node'].join('/'));
    return true;
  } catch {
    return false;
  }
}

export interface SelectOptions {
  /** Force one backend ('auto' = tensorflow > wasm > cpu). */
  readonly prefer?: 'auto' | BackendName;
  readonly wasmDirs?: readonly string[];
  /** Search only `wasmDirs` (the packaged extension knows exactly where its binaries are). */
  readonly wasmDirsOnly?: boolean;
  readonly loadNative?: NativeLoader;
  /**
   * Threads for the wasm backend's XNNPACK pool (default: see wantedThreads; 1 = the single-threaded build).
   * FREEZE_INSPECTOR_WASM_THREADS overrides the default. Fixed for the life of the process.
   */
  readonly wasmThreads?: number;
  /** Benchmarks only: leave the backend's own gradient kernels in place (wasm then cannot train convolutions). */
  readonly keepStockKernels?: boolean;
  /**
   * Benchmarks only: false leaves out the engine's fast paths (channel kernels, zero-copy Identity, selective
   * Conv2D gradients) so that one run can measure what they bring. Default true.
   */
  readonly fastPaths?: boolean;
}

/** Selects and initialises a backend, installs our gradient kernels on it, and says why it was chosen. */
export async function selectBackend(opts: SelectOptions = {}): Promise<BackendChoice> {
  // Production mode: no "install tfjs-node" banner on the console (the CLI's output is the user's).
  tf.env().set('PROD', true);
  const prefer = opts.prefer ?? 'auto';
  const notes: string[] = [];
  if (prefer === 'auto' || prefer === 'tensorflow') {
    try {
      (opts.loadNative ?? defaultNativeLoader)();
      if (await tf.setBackend('tensorflow')) {
        await tf.ready();
        let ours: string[] = [];
        if (opts.keepStockKernels || opts.fastPaths === false) unregisterNativeKernels();
        else ours = registerNativeKernels(tf.backend());
        return { name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed', ourKernels: ours };
      }
      notes.push('@tensorflow/tfjs-node loaded but its backend did not initialise');
    } catch (e) {
      notes.push(`@tensorflow/tfjs-node not available (${firstLine(e)})`);
    }
    if (prefer === 'tensorflow') throw new Error(notes.join('; '));
  }
  if (prefer === 'auto' || prefer === 'wasm') {
    const dir = locateWasmDir(opts.wasmDirs, opts.wasmDirsOnly);
    if (dir) {
      const threads = wantedThreads(opts.wasmThreads);
      const threadedDir = threads > 1 ? locateThreadedDir([dir, ...wasmSearchDirs(opts.wasmDirs, opts.wasmDirsOnly), ...threadedSearchDirs()]) : null;
      setWasmPaths({
        'tfjs-backend-wasm.wasm': path.join(dir, 'tfjs-backend-wasm.wasm'),
        'tfjs-backend-wasm-simd.wasm': path.join(dir, 'tfjs-backend-wasm-simd.wasm'),
        [THREADED_BINARY]: threadedDir ? path.join(threadedDir, THREADED_BINARY) : path.join(dir, 'tfjs-backend-wasm-simd.wasm'),
      });
      try {
        let ok = false;
        if (tf.findBackend('wasm')) {
          ok = await tf.setBackend('wasm');
        } else if (threadedDir) {
          // wasm-threads.ts: Node needs three bridges before the threaded build can start its pthread pool.
          installThreadBridges(path.join(threadedDir, THREADED_SCRIPT));
          tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
          setThreadsCount(threads);
          ok = await withDoubledCpuCount(() => tf.setBackend('wasm'));
          removeTemporaryScripts();
          if (!ok) {
            notes.push('the threaded wasm build did not start; single-threaded instead');
            tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
            ok = await tf.setBackend('wasm');
          }
        } else {
          if (threads > 1) notes.push(`${THREADED_SCRIPT} not found: single-threaded wasm`);
          tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
          ok = await tf.setBackend('wasm');
        }
        if (ok) {
          await tf.ready();
          unrefPoolThreads();
          const ours = opts.keepStockKernels ? [] : [...registerGradientKernels('wasm'), ...channelKernels('wasm', opts.fastPaths !== false)];
          return { name: 'wasm', reason: [...notes, `embedded WebAssembly backend (SIMD, ${wasmThreadCount()} thread${wasmThreadCount() === 1 ? '' : 's'})`].join('; '), ourKernels: ours };
        }
      } catch (e) {
        notes.push(`wasm backend failed to start (${firstLine(e)})`);
      }
    } else {
      notes.push(`tfjs-backend-wasm.wasm not found in ${wasmSearchDirs(opts.wasmDirs, opts.wasmDirsOnly).join(', ')}`);
    }
    if (prefer === 'wasm') throw new Error(notes.join('; '));
  }
  await tf.setBackend('cpu');
  await tf.ready();
  const ours = opts.keepStockKernels ? [] : [...registerGradientKernels('cpu'), ...channelKernels('cpu', opts.fastPaths !== false)];
  return { name: 'cpu', reason: [...notes, 'cpu backend'].join('; '), ourKernels: ours };
}

/**
 * The XNNPACK pool's pthreads are Node workers that Emscripten keeps referenced while they run, and pool threads
 * run for the life of the module: unreferenced here, so that a CLI run or a test ends when its work does.
 */
function unrefPoolThreads(): void {
  const pthread = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: { unref(): void }[] } } }).wasm?.PThread;
  for (const w of pthread?.runningWorkers ?? []) w.unref();
}

/**
 * Threads wanted for the wasm pool: the option, else FREEZE_INSPECTOR_WASM_THREADS, else one per CPU but one
 * (left to VS Code), 1..8. With fewer than 4 CPUs the default is 1: XNNPACK's pool spins while it waits, and
 * on 2 busy cores a 2-thread pool measured 1.4-1.6x slower per step than one thread (1.15x faster when idle).
 */
export function wantedThreads(option?: number, cpus = os.cpus().length): number {
  const env = Number(process.env.FREEZE_INSPECTOR_WASM_THREADS);
  const n = option ?? (Number.isInteger(env) && env > 0 ? env : cpus >= 4 ? cpus - 1 : 1);
  return Math.max(1, Math.min(8, Math.floor(n)));
}

/** Threads the initialised wasm backend actually runs with (1 when single-threaded or not initialised). */
export function wasmThreadCount(): number {
  try {
    return Math.max(1, getThreadsCount());
  } catch {
    return 1;
  }
}

/** Where the threaded Emscripten script lives outside a bundle (tests, tsx): the package's wasm-out folder. */
function threadedSearchDirs(): string[] {
  try {
    const pkg = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    return [path.join(pkg, 'wasm-out')];
  } catch {
    return [];
  }
}

/** Our per-channel kernels (BatchNorm statistics and gradient, bias sums) and, on wasm, a zero-copy Identity, Sum and Relu (wasm-overrides.ts). */
function channelKernels(backendName: string, enabled: boolean): string[] {
  if (!enabled) {
    unregisterChannelKernels(backendName);
    unregisterZeroCopyIdentity();
    unregisterWasmOverrides();
    return [];
  }
  const out: string[] = registerChannelKernels(backendName) ? [...CHANNEL_KERNELS] : [];
  if (registerZeroCopyIdentity(backendName)) out.push('Identity');
  out.push(...registerWasmOverrides(backendName));
  return out;
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}
