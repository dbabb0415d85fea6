// The tfjs engine in its worker thread: a real fixture trains to a result with progress events; cancel stops
// the worker within a second and leaves no thread behind; nothing is written into the model's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { generated, sharedReal } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { defaultFreezeConfig } from '../../../src/core/analysis/freeze-config';
import type { FreezeConfig } from '../../../src/core/analysis/types';
import { buildVerifyRequest } from '../../../src/core/finetune/plan';
import { TfjsWorkerEngine, locateWorker } from '../../../src/core/finetune/engine';
import type { EngineEvent, VerifyRequest } from '../../../src/core/finetune/types';
import { isFreezeInspectorError } from '../../../src/core/io/errors';
import { tfjsNodeInstalled } from '../../../src/core/finetune/tfjs/backend';

async function requestFor(modelPath: string, patch: Partial<FreezeConfig>, steps: number, batchSize: number): Promise<VerifyRequest> {
  const config: FreezeConfig = { ...defaultFreezeConfig(modelPath), ...patch };
  const h = await openModel(modelPath);
  try {
    const analysis = analyze(h.model, config);
    return buildVerifyRequest({ requestId: `w-${Date.now()}`, model: h.model, config, configPath: null, analysis, settings: { steps, batchSize, optimizer: 'sgd', learningRate: 0.1, seed: 7, data: { kind: 'synthetic' } } });
  } finally {
    await h.close();
  }
}

/** Every file under a folder with its size and mtime: the model folder must be byte-for-byte untouched. */
function fingerprint(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)}:${s.size}:${s.mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort().join('\n');
}

const k2 = generated('k2_cnn_bn/saved_model');

test('worker: trains a real tf_keras SavedModel with bn1 frozen, streams progress, writes nothing', { skip: !existsSync(k2) && 'fixture k2_cnn_bn absent' }, async () => {
  const before = fingerprint(path.dirname(k2));
  const req = await requestFor(k2, { freeze: ['bn1'] }, 2, 8);
  const events: EngineEvent[] = [];
  const result = await new TfjsWorkerEngine(locateWorker()).run(req, (e) => events.push(e));
  assert.equal(result.engine, 'tfjs');
  assert.equal(result.loss.length, 2);
  assert.ok(events.some((e) => e.type === 'step'));
  assert.ok(events.some((e) => e.type === 'progress' && e.phase === 'rebuilding'));
  const byName = new Map(result.variables.map((v) => [v.name, v]));
  // D2: a frozen BN runs in inference mode: nothing of bn1 moves; bn2 trains and updates its statistics.
  for (const n of ['bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance']) assert.equal(byName.get(n)?.observed, false, n);
  for (const n of ['bn2/gamma', 'bn2/beta', 'bn2/moving_mean', 'bn2/moving_variance', 'conv1/kernel', 'head/kernel']) assert.equal(byName.get(n)?.observed, true, n);
  const bn1 = result.batchNorms.find((b) => b.layer === 'bn1')!;
  assert.equal(bn1.normalizedWith, 'moving');
  assert.equal(bn1.movingMeanDrift, 0);
  assert.ok(result.batchNorms.find((b) => b.layer === 'bn2')!.movingVarianceDrift > 0);
  assert.equal(result.disagreements, 0, JSON.stringify(result.variables.filter((v) => !v.agree)));
  assert.equal(result.agreement, 1);
  assert.equal(fingerprint(path.dirname(k2)), before);
});

const vww = sharedReal('h5_tiny_vww_mobilenet_bn/vww_96.h5');

test('worker: cancel stops a long run within 1 s and leaves no worker thread', { skip: !existsSync(vww) && 'shared fixture vww_96.h5 absent' }, async () => {
  const req = await requestFor(vww, {}, 200, 32);
  const ac = new AbortController();
  let onFirstStep: () => void = () => {};
  const firstStep = new Promise<void>((resolve) => (onFirstStep = resolve));
  const run = new TfjsWorkerEngine(locateWorker()).run(req, (e) => e.type === 'step' && onFirstStep(), ac.signal);
  run.catch(() => {}); // asserted below
  await firstStep;
  const t0 = performance.now();
  ac.abort();
  await assert.rejects(run, (e: unknown) => isFreezeInspectorError(e) && e.reason === 'cancelled');
  const elapsed = performance.now() - t0;
  assert.ok(elapsed < 1000, `cancel took ${elapsed.toFixed(0)} ms`);
  // The worker is terminated: the process has no extra handles keeping it alive (checked by the runner exiting),
  // and a fresh run still works afterwards.
  const small = await requestFor(k2, {}, 1, 4);
  const r = await new TfjsWorkerEngine(locateWorker()).run(small, () => {});
  assert.equal(r.steps, 1);
});

function threadCount(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

test('worker with 2 wasm threads: cancel within 1 s ends the worker and its pthreads', { skip: ((!existsSync(vww) || process.platform !== 'linux') && 'shared fixture vww_96.h5 absent (or not Linux)') || (tfjsNodeInstalled() && 'tfjs-node is installed: the worker runs on TensorFlow, not on the wasm pool') }, async () => {
  const saved = process.env.FREEZE_INSPECTOR_WASM_THREADS;
  process.env.FREEZE_INSPECTOR_WASM_THREADS = '2';
  try {
    const baseline = threadCount();
    const req = await requestFor(vww, {}, 200, 32);
    const ac = new AbortController();
    let onFirstStep: () => void = () => {};
    const firstStep = new Promise<void>((resolve) => (onFirstStep = resolve));
    let detail = '';
    const run = new TfjsWorkerEngine(locateWorker()).run(req, (e) => e.type === 'step' && onFirstStep(), ac.signal);
    run.catch(() => {}); // asserted below
    await firstStep;
    const during = threadCount();
    const t0 = performance.now();
    ac.abort();
    await assert.rejects(run, (e: unknown) => isFreezeInspectorError(e) && e.reason === 'cancelled');
    assert.ok(performance.now() - t0 < 1000, `cancel took ${(performance.now() - t0).toFixed(0)} ms`);
    // The worker thread plus a pool of pthread workers were running; all of them end with the worker.
    assert.ok(during >= baseline + 2, `threads during the run: ${during}, before: ${baseline}`);
    let after = threadCount();
    for (let i = 0; i < 40 && after > baseline; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = threadCount();
    }
    assert.ok(after <= baseline, `threads after cancel: ${after}, before the run: ${baseline}`);
    const r = await new TfjsWorkerEngine(locateWorker()).run(await requestFor(k2, {}, 1, 4), (e) => {
      if (e.type === 'progress' && /wasm/.test(e.message)) detail = e.message;
    });
    assert.equal(r.steps, 1);
    assert.match(r.engineDetail, /SIMD, 2 threads/, detail);
  } finally {
    if (saved === undefined) delete process.env.FREEZE_INSPECTOR_WASM_THREADS;
    else process.env.FREEZE_INSPECTOR_WASM_THREADS = saved;
  }
});

test('worker: a subclassed model is refused with the list of unsupported layers', { skip: !existsSync(generated('k2_subclassed/saved_model')) && 'fixture absent' }, async () => {
  const req = await requestFor(generated('k2_subclassed/saved_model'), {}, 1, 4);
  await assert.rejects(new TfjsWorkerEngine(locateWorker()).run(req, () => {}), (e: unknown) => {
    assert.ok(isFreezeInspectorError(e));
    assert.equal(e.reason, 'unsupported-model');
    const list = (e as { unsupported?: { className: string }[] }).unsupported;
    assert.ok(list && list.length > 0 && list[0]!.className === 'SmallNet', JSON.stringify(list));
    return true;
  });
});
