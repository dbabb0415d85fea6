// Multi-threaded WebAssembly for the tfjs engine under Node.
//
// tfjs-backend-wasm ships a threaded SIMD build (XNNPACK with a pthreadpool) but never selects it in Node: its
// feature flag answers "no" for Node, it hands Emscripten its pthread worker script and main script as Blob
// URLs (Node's worker_threads load files, not blob: URLs), and the C++ side sizes the pool as
// emscripten_num_logical_cores() / 2, capped there, which is os.cpus().length / 2 in Node (one thread on a
// 2-core machine). The Emscripten module itself supports Node workers. This module bridges the three gaps,
// inside the process that runs the engine (the fine-tune worker thread, or the CLI):
//   - Blobs are remembered with their text, and URL.createObjectURL of such a Blob returns a file with that
//     text: the pthread worker script that the build writes next to the wasm binaries when it matches, else a
//     file in a private temporary folder, removed once the backend has started (removeTemporaryScripts);
//   - the 'load' message that hands a pthread worker the main script gets the path of the Emscripten script
//     shipped next to the wasm binaries instead of a Blob;
//   - while the backend initialises, os.cpus() reports twice the machine's CPUs, so the pool gets one thread
//     per CPU (capped at `threads`).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import type * as OsModule from 'node:os';
import path from 'node:path';
import { Worker, type TransferListItem } from 'node:worker_threads';

export const THREADED_SCRIPT = 'tfjs-backend-wasm-threaded-simd.js';
export const THREADED_BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';
/** Written by esbuild.mjs into dist/ (the package ships it only as a string export). */
export const THREADED_WORKER = 'tfjs-backend-wasm-threaded-simd.worker.js';

// The module object itself (not an ESM namespace copy), so that replacing `cpus` is seen by the wasm module's require('os').
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os: typeof OsModule = require('node:os');

let installed: { script: string; worker: { path: string; text: string } | null } | null = null;
const blobText = new WeakMap<object, string>();
let tempDir: string | null = null;
let fileCount = 0;

function tempFile(text: string): string {
  if (!tempDir) {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'freeze-inspector-wasm-'));
    const dir = tempDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const f = path.join(tempDir, `script-${fileCount++}.js`);
  writeFileSync(f, text);
  return f;
}

/** Removes the temporary scripts (the pthread workers have read them once the backend has started). */
export function removeTemporaryScripts(): void {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = null;
}

function shippedWorker(dir: string): { path: string; text: string } | null {
  const f = path.join(dir, THREADED_WORKER);
  try {
    return { path: f, text: readFileSync(f, 'utf8') };
  } catch {
    return null;
  }
}

/** The folder holding both threaded files, or null. */
export function locateThreadedDir(dirs: readonly string[]): string | null {
  for (const d of dirs) {
    if (existsSync(path.join(d, THREADED_SCRIPT)) && existsSync(path.join(d, THREADED_BINARY))) return d;
  }
  return null;
}

/** Installs the Blob/URL/Worker bridges (idempotent). `script` is the path of the Emscripten main script. */
export function installThreadBridges(script: string): void {
  const worker = shippedWorker(path.dirname(script));
  if (installed) {
    installed.script = script;
    installed.worker = worker;
    return;
  }
  installed = { script, worker };
  const state = installed;
  const NativeBlob = globalThis.Blob;
  class RememberingBlob extends NativeBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0];
      if (parts && parts.every((p) => typeof p === 'string')) blobText.set(this, (parts as string[]).join(''));
    }
  }
  globalThis.Blob = RememberingBlob as typeof Blob;
  const nativeCreate = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (obj: Blob): string => {
    const text = blobText.get(obj);
    if (text === undefined) return nativeCreate(obj);
    return state.worker && state.worker.text === text ? state.worker.path : tempFile(text);
  };
  const nativeRevoke = URL.revokeObjectURL.bind(URL);
  URL.revokeObjectURL = (url: string): void => {
    if (!url.startsWith('blob:')) return; // our files live until exit: a pthread worker may still be starting from one
    nativeRevoke(url);
  };
  const nativePost = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function postMessage(this: Worker, value: unknown, transfer?: readonly TransferListItem[]) {
    const msg = value as { cmd?: unknown; urlOrBlob?: unknown } | null;
    if (msg && typeof msg === 'object' && msg.cmd === 'load' && msg.urlOrBlob && typeof msg.urlOrBlob !== 'string') {
      value = { ...msg, urlOrBlob: state.script };
    }
    return nativePost.call(this, value, transfer as never);
  } as typeof Worker.prototype.postMessage;
}

/**
 * Runs `init` (the backend's initialisation) with os.cpus() doubled, so that the wasm module's
 * "logical cores / 2" comes out as the machine's CPU count. Restored afterwards, whatever happens.
 */
export async function withDoubledCpuCount<T>(init: () => Promise<T>): Promise<T> {
  const original = os.cpus;
  const doubled = (): OsModule.CpuInfo[] => {
    const c = original();
    return [...c, ...c];
  };
  (os as { cpus: () => OsModule.CpuInfo[] }).cpus = doubled;
  try {
    return await init();
  } finally {
    (os as { cpus: () => OsModule.CpuInfo[] }).cpus = original;
  }
}
