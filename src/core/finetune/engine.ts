// The engines a verification can run on, behind one interface. The extension and the CLI pick one
// (tfjs in a worker thread by default; the user's Python TensorFlow when chosen), stream its events and
// await its result. Cancelling resolves within a second and leaves no thread or process behind.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { FinetuneError } from '../io/errors';
import type { EngineCommand, EngineEvent, EngineKind, VerifyRequest, VerifyResult } from './types';

export interface VerifyEngine {
  readonly kind: EngineKind;
  /** Runs one verification. Rejects with FinetuneError (reason 'cancelled' when `signal` aborts). */
  run(request: VerifyRequest, onEvent: (e: EngineEvent) => void, signal?: AbortSignal): Promise<VerifyResult>;
}

/** How long a cancelled engine gets to stop by itself before it is killed. */
export const CANCEL_GRACE_MS = 400;

/** Turns an 'error' event into the FinetuneError the caller sees. */
export function errorFromEvent(e: Extract<EngineEvent, { type: 'error' }>, modelPath: string): FinetuneError {
  const err = new FinetuneError(modelPath, e.error.reason, e.error.message);
  if (e.error.unsupported) (err as FinetuneError & { unsupported?: unknown }).unsupported = e.error.unsupported;
  return err;
}

/** Where the bundled worker is (dist/finetune-worker.js next to dist/extension.js and dist/cli.js), else the TypeScript source (tests). */
export function locateWorker(extraDirs: readonly string[] = []): { file: string; execArgv: string[] } {
  const dirs = [...extraDirs, ...(typeof __dirname === 'string' ? [__dirname, path.resolve(__dirname, '../../../dist')] : [])];
  for (const d of dirs) {
    const js = path.join(d, 'finetune-worker.js');
    if (existsSync(js)) return { file: js, execArgv: [] };
  }
  for (const d of dirs) {
    const ts = path.resolve(d, '../../worker/finetune-worker.ts');
    if (existsSync(ts)) return { file: ts, execArgv: ['--import', 'tsx'] };
  }
  throw new FinetuneError('', 'engine-failure', `the fine-tune worker (finetune-worker.js) was not found in ${dirs.join(', ')}`);
}

/** TensorFlow.js in a worker_thread: the extension host never blocks on training. */
export class TfjsWorkerEngine implements VerifyEngine {
  readonly kind = 'tfjs' as const;
  constructor(private readonly worker: { file: string; execArgv: string[] } = locateWorker()) {}

  run(request: VerifyRequest, onEvent: (e: EngineEvent) => void, signal?: AbortSignal): Promise<VerifyResult> {
    return new Promise<VerifyResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new FinetuneError(request.modelPath, 'cancelled', 'verification cancelled'));
        return;
      }
      const w = new Worker(this.worker.file, { execArgv: this.worker.execArgv, stdout: false, stderr: false });
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (f: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        f();
        void w.terminate();
      };
      const onAbort = (): void => {
        const cmd: EngineCommand = { type: 'cancel', requestId: request.requestId };
        w.postMessage(cmd);
        // A step in progress cannot be interrupted from inside: terminate the thread if it does not stop in time.
        killTimer = setTimeout(() => finish(() => reject(new FinetuneError(request.modelPath, 'cancelled', 'verification cancelled'))), CANCEL_GRACE_MS);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      w.on('message', (e: EngineEvent) => {
        if (e.type === 'result') finish(() => resolve(e.result));
        else if (e.type === 'error') finish(() => reject(errorFromEvent(e, request.modelPath)));
        else onEvent(e);
      });
      w.on('error', (err) => finish(() => reject(new FinetuneError(request.modelPath, 'engine-failure', `the fine-tune worker failed: ${err.message}`, { cause: err }))));
      w.on('exit', (code) => finish(() => reject(new FinetuneError(request.modelPath, signal?.aborted ? 'cancelled' : 'engine-failure', signal?.aborted ? 'verification cancelled' : `the fine-tune worker exited (code ${code}) without a result`))));
      const cmd: EngineCommand = { type: 'verify', request };
      w.postMessage(cmd);
    });
  }
}
