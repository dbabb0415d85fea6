// The user's own TensorFlow as the engine: python/engine/runner.py started with the interpreter the user chose,
// speaking JSON lines over stdio (EngineCommand in, EngineEvent out). The truth for the user's versions.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { FinetuneError } from '../io/errors';
import { CANCEL_GRACE_MS, errorFromEvent, type VerifyEngine } from './engine';
import type { EngineCommand, EngineEvent, VerifyRequest, VerifyResult } from './types';

export interface PythonEngineOptions {
  /** The interpreter (the Python extension's selected one, or the setting). */
  readonly interpreter: string;
  /** runner.py; found next to the bundle or in the repository when omitted. */
  readonly runner?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Interpreter precedence for the CLI: --python, then $FREEZE_INSPECTOR_PYTHON, then python3. (The extension passes its own choice.) */
export function resolvePythonInterpreter(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env.FREEZE_INSPECTOR_PYTHON ?? 'python3';
}

export function locateRunner(extraDirs: readonly string[] = []): string {
  const candidates = [
    ...extraDirs.map((d) => path.join(d, 'runner.py')),
    ...(typeof __dirname === 'string'
      ? [
          path.resolve(__dirname, '../python/engine/runner.py'), // dist/ -> python/engine
          path.resolve(__dirname, '../../../python/engine/runner.py'), // src/core/finetune -> python/engine
        ]
      : []),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new FinetuneError('', 'engine-failure', `python/engine/runner.py was not found (looked in ${candidates.join(', ')})`);
  return found;
}

export class PythonEngine implements VerifyEngine {
  readonly kind = 'python' as const;
  constructor(private readonly opts: PythonEngineOptions) {}

  run(request: VerifyRequest, onEvent: (e: EngineEvent) => void, signal?: AbortSignal): Promise<VerifyResult> {
    const runner = this.opts.runner ?? locateRunner();
    return new Promise<VerifyResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new FinetuneError(request.modelPath, 'cancelled', 'verification cancelled'));
        return;
      }
      let child: ChildProcess;
      try {
        child = spawn(this.opts.interpreter, ['-u', runner], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...this.opts.env } });
      } catch (e) {
        reject(new FinetuneError(request.modelPath, 'no-python', `cannot start ${this.opts.interpreter}: ${(e as Error).message}`));
        return;
      }
      let settled = false;
      let stderrTail = '';
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (f: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (killTimer) clearTimeout(killTimer);
        f();
        if (child.exitCode === null && child.signalCode === null) {
          child.stdin?.end();
          // Give the runner a moment to exit by itself, then make sure nothing is left running.
          const t = setTimeout(() => child.kill('SIGKILL'), CANCEL_GRACE_MS);
          child.once('exit', () => clearTimeout(t));
        }
      };
      const onAbort = (): void => {
        const cmd: EngineCommand = { type: 'cancel', requestId: request.requestId };
        child.stdin?.write(`${JSON.stringify(cmd)}\n`);
        // A TensorFlow step cannot be interrupted from Python: kill the process if it does not stop in time.
        killTimer = setTimeout(() => {
          child.kill('SIGKILL');
          finish(() => reject(new FinetuneError(request.modelPath, 'cancelled', 'verification cancelled')));
        }, CANCEL_GRACE_MS);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => finish(() => reject(new FinetuneError(request.modelPath, 'no-python', `cannot start the Python interpreter ${JSON.stringify(this.opts.interpreter)}: ${e.message}`))));
      child.stderr?.on('data', (d: Buffer) => {
        stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
      });
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        let e: EngineEvent;
        try {
          e = JSON.parse(line) as EngineEvent;
        } catch {
          return; // not a protocol line
        }
        if (e.type === 'result') finish(() => resolve(e.result));
        else if (e.type === 'error') finish(() => reject(errorFromEvent(e, request.modelPath)));
        else onEvent(e);
      });
      child.on('close', (code, sig) =>
        finish(() =>
          reject(
            signal?.aborted
              ? new FinetuneError(request.modelPath, 'cancelled', 'verification cancelled')
              : new FinetuneError(request.modelPath, 'engine-failure', `the Python runner exited (${sig ?? `code ${code}`}) without a result${stderrTail ? `: ${lastLines(stderrTail)}` : ''}`),
          ),
        ),
      );
      const cmd: EngineCommand = { type: 'verify', request };
      child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    });
  }
}

function lastLines(s: string): string {
  return s.trim().split('\n').slice(-3).join(' | ');
}

/**
 * Several verifications in ONE runner process, one after the other (TensorFlow is imported once): for batch
 * checks such as the oracle comparison. Each request settles with its result or its FinetuneError. A runner
 * that ran a TF1 graph stays in graph mode, so do not mix TF1 and Keras requests in one batch.
 */
export function runPythonBatch(
  opts: PythonEngineOptions,
  requests: readonly VerifyRequest[],
  timeoutMs = 600_000,
): Promise<Map<string, VerifyResult | FinetuneError>> {
  const runner = opts.runner ?? locateRunner();
  const out = new Map<string, VerifyResult | FinetuneError>();
  const pathOf = new Map(requests.map((r) => [r.requestId, r.modelPath]));
  return new Promise((resolve, reject) => {
    const child = spawn(opts.interpreter, ['-u', runner], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stderrTail = '';
    let done = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new FinetuneError('', 'engine-failure', `the Python runner did not finish ${requests.length} request(s) within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdin?.end();
      if (err) reject(err);
      else resolve(out);
    };
    child.on('error', (e) => finish(new FinetuneError('', 'no-python', `cannot start the Python interpreter ${JSON.stringify(opts.interpreter)}: ${e.message}`)));
    child.stderr?.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString('utf8')).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: EngineEvent;
      try {
        e = JSON.parse(line) as EngineEvent;
      } catch {
        return;
      }
      if (e.type === 'result') out.set(e.requestId, e.result);
      else if (e.type === 'error') out.set(e.requestId, errorFromEvent(e, pathOf.get(e.requestId) ?? ''));
      if (out.size === requests.length) finish();
    });
    child.on('close', (code, sig) => {
      if (out.size < requests.length) finish(new FinetuneError('', 'engine-failure', `the Python runner exited (${sig ?? `code ${code}`}) after ${out.size} of ${requests.length} result(s)${stderrTail ? `: ${lastLines(stderrTail)}` : ''}`));
    });
    for (const request of requests) {
      const cmd: EngineCommand = { type: 'verify', request };
      child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    }
  });
}
