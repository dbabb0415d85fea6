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
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerGradientKernels } from '../kernels/register';

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

export interface SelectOptions {
  /** Force one backend ('auto' = tensorflow > wasm > cpu). */
  readonly prefer?: 'auto' | BackendName;
  readonly wasmDirs?: readonly string[];
  /** Search only `wasmDirs` (the packaged extension knows exactly where its binaries are). */
  readonly wasmDirsOnly?: boolean;
  readonly loadNative?: NativeLoader;
  /** Benchmarks only: leave the backend's own gradient kernels in place (wasm then cannot train convolutions). */
  readonly keepStockKernels?: boolean;
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
        return { name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed', ourKernels: [] };
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
      setWasmPaths({
        'tfjs-backend-wasm.wasm': path.join(dir, 'tfjs-backend-wasm.wasm'),
        'tfjs-backend-wasm-simd.wasm': path.join(dir, 'tfjs-backend-wasm-simd.wasm'),
        // Threads need SharedArrayBuffer workers, which the wasm backend cannot spawn in Node: never chosen.
        'tfjs-backend-wasm-threaded-simd.wasm': path.join(dir, 'tfjs-backend-wasm-simd.wasm'),
      });
      try {
        if (await tf.setBackend('wasm')) {
          await tf.ready();
          const ours = opts.keepStockKernels ? [] : registerGradientKernels('wasm');
          return { name: 'wasm', reason: [...notes, 'embedded WebAssembly backend'].join('; '), ourKernels: ours };
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
  const ours = opts.keepStockKernels ? [] : registerGradientKernels('cpu');
  return { name: 'cpu', reason: [...notes, 'cpu backend'].join('; '), ourKernels: ours };
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0] ?? m;
}
