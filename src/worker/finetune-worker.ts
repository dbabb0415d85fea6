// worker_threads entry (bundled to dist/finetune-worker.js): runs the TensorFlow.js engine off the extension
// host's thread. Speaks EngineCommand in, EngineEvent out (src/core/finetune/types.ts).
import { parentPort } from 'node:worker_threads';
import { openModel } from '../core/open';
import { runTfjsVerification } from '../core/finetune/tfjs/tfjs-engine';
import { toErrorEvent } from '../core/finetune/tfjs/errors';
import type { EngineCommand, EngineEvent } from '../core/finetune/types';

const port = parentPort;
if (!port) throw new Error('finetune-worker must run in a worker thread');

const running = new Map<string, AbortController>();
const send = (e: EngineEvent): void => port.postMessage(e);

port.on('message', (cmd: EngineCommand) => {
  if (cmd.type === 'cancel') {
    running.get(cmd.requestId)?.abort();
    return;
  }
  const { request } = cmd;
  const ac = new AbortController();
  running.set(request.requestId, ac);
  runTfjsVerification(request, { emit: send, signal: ac.signal, open: openModel })
    .then((result) => send({ type: 'result', requestId: request.requestId, result }))
    .catch((e: unknown) => send(toErrorEvent(request.requestId, e)))
    .finally(() => running.delete(request.requestId));
});
