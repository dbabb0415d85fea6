// The Python engine (python/engine/runner.py) with a real TensorFlow: tf215 (tensorflow 2.15 + tf_keras) and
// tf221 (2.21 + Keras 3) venvs, as created for the oracle. Skips cleanly when a venv is absent.
// Checks: same changed/unchanged sets as the oracle's observation and as the tfjs engine, the same first loss
// as the tfjs engine on the same synthetic numbers (the forward pass, BN modes included, is identical),
// a clear error without TensorFlow, and cancel within a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, sharedReal } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { defaultFreezeConfig, parseFreezeConfig, resolveModelPath } from '../../../src/core/analysis/freeze-config';
import { buildVerifyRequest } from '../../../src/core/finetune/plan';
import { PythonEngine } from '../../../src/core/finetune/python-engine';
import { runTfjsVerification } from '../../../src/core/finetune/tfjs/tfjs-engine';
import type { VerifyRequest, VerifyResult } from '../../../src/core/finetune/types';
import { isFreezeInspectorError } from '../../../src/core/io/errors';

const venvs = path.join(os.homedir(), '.cache/freeze-inspector/venvs');
const py215 = process.env.FREEZE_INSPECTOR_TF215_PYTHON ?? path.join(venvs, 'tf215/bin/python');
const py221 = process.env.FREEZE_INSPECTOR_TF221_PYTHON ?? path.join(venvs, 'tf221/bin/python');
const settings = { steps: 2, batchSize: 8, optimizer: 'sgd' as const, learningRate: 0.1, seed: 4321, data: { kind: 'synthetic' as const } };

async function caseRequest(name: string): Promise<VerifyRequest> {
  const file = path.join(repoRoot, 'test/oracle/cases', `${name}.freeze.json`);
  const text = readFileSync(file, 'utf8');
  const config = parseFreezeConfig(text, file).config!;
  const h = await openModel(resolveModelPath(file, config));
  try {
    return buildVerifyRequest({ requestId: name, model: h.model, config, configPath: file, analysis: analyze(h.model, config, text), settings });
  } finally {
    await h.close();
  }
}

function changedSet(r: VerifyResult): string[] {
  return r.variables.filter((v) => v.observed).map((v) => v.key).sort();
}

function oracleChangedSet(name: string): string[] | null {
  const p = path.join(repoRoot, 'test/oracle/observations', `${name}.json`);
  if (!existsSync(p)) return null;
  const obs = JSON.parse(readFileSync(p, 'utf8')) as { variables: { key: string | null; changed: boolean }[] };
  return obs.variables.filter((v) => v.key !== null && v.changed).map((v) => v.key!).sort();
}

// CI installs both venvs (.ci/run sets FREEZE_INSPECTOR_REQUIRE_TF=1): there, a missing TensorFlow must
// fail the run instead of silently skipping every real-TensorFlow test below.
test('real TensorFlow venvs are present where they are required', { skip: process.env.FREEZE_INSPECTOR_REQUIRE_TF !== '1' && 'not required outside CI' }, () => {
  assert.ok(existsSync(py215), `${py215} missing`);
  assert.ok(existsSync(py221), `${py221} missing`);
});

for (const [venv, python, name] of [
  ['tf215', py215, 'k2_cnn_bn_freeze_bn1'],
  ['tf215', py215, 'k2_nested_base_unfrozen_recorded_training_false'],
  ['tf221', py221, 'k3_nested_base_unfrozen_recorded_training_false'],
] as const) {
  test(`python engine (${venv}) on ${name}: same sets as the oracle and the tfjs engine, same first loss`, { skip: !existsSync(python) && `${python} absent`, timeout: 300_000 }, async () => {
    const req = await caseRequest(name);
    const events: string[] = [];
    const py = await new PythonEngine({ interpreter: python }).run(req, (e) => events.push(e.type));
    assert.equal(py.engine, 'python');
    assert.match(py.engineDetail, venv === 'tf215' ? /TensorFlow 2\.15.*tf_keras/ : /TensorFlow 2\.2\d.*keras 3/);
    assert.ok(events.includes('step'));
    assert.equal(py.variables.length, req.modelVariables.length, 'every model variable observed');
    const oracle = oracleChangedSet(name);
    if (oracle) assert.deepEqual(changedSet(py), oracle, 'python engine vs oracle observation');
    const js = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
    assert.deepEqual(changedSet(js), changedSet(py), 'tfjs engine vs python engine');
    // Same synthetic numbers, same BN semantics: the first loss (before any update) matches closely.
    assert.ok(Math.abs(js.loss[0]! - py.loss[0]!) <= 1e-4 * Math.max(1, Math.abs(py.loss[0]!)), `first loss: tfjs ${js.loss[0]} vs TF ${py.loss[0]}`);
    for (const b of py.batchNorms) {
      const mine = js.batchNorms.find((x) => x.layer === b.layer)!;
      assert.equal(mine.normalizedWith, b.normalizedWith, b.layer);
      assert.ok(Math.abs(mine.trainInferenceGapBefore - b.trainInferenceGapBefore) <= 1e-3 * Math.max(1, b.trainInferenceGapBefore), `${b.layer} gap ${mine.trainInferenceGapBefore} vs ${b.trainInferenceGapBefore}`);
    }
  });
}

function hasTensorflow(python: string): boolean {
  try {
    execFileSync(python, ['-c', 'import tensorflow'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

test('python engine: an interpreter without TensorFlow gives a clear no-tensorflow error', { timeout: 120_000 }, async (t) => {
  const plain = 'python3';
  if (hasTensorflow(plain)) {
    t.skip('python3 on PATH has TensorFlow');
    return;
  }
  const k2 = path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn/saved_model');
  if (!existsSync(k2)) {
    t.skip('fixture absent');
    return;
  }
  const h = await openModel(k2);
  const config = defaultFreezeConfig(k2);
  const req = buildVerifyRequest({ requestId: 'nt', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings });
  await h.close();
  await assert.rejects(new PythonEngine({ interpreter: plain }).run(req, () => {}), (e: unknown) => {
    assert.ok(isFreezeInspectorError(e));
    assert.equal(e.reason, 'no-tensorflow');
    assert.match(e.message, /TensorFlow cannot be imported/);
    return true;
  });
});

test('python engine: a missing interpreter is reported, not hung on', async () => {
  const k2 = path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn/saved_model');
  const h = await openModel(k2);
  const config = defaultFreezeConfig(k2);
  const req = buildVerifyRequest({ requestId: 'np', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings });
  await h.close();
  await assert.rejects(new PythonEngine({ interpreter: '/nonexistent/python3' }).run(req, () => {}), (e: unknown) => isFreezeInspectorError(e) && e.reason === 'no-python');
});

const vww = sharedReal('h5_tiny_vww_mobilenet_bn/vww_96.h5');

test('python engine: cancel stops TensorFlow within 1 s', { skip: (!existsSync(py215) || !existsSync(vww)) && 'venv or shared fixture absent', timeout: 300_000 }, async () => {
  const h = await openModel(vww);
  const config = defaultFreezeConfig(vww);
  const req = buildVerifyRequest({ requestId: 'cancel', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { ...settings, steps: 10_000, batchSize: 32 } });
  await h.close();
  const ac = new AbortController();
  let onStep: () => void = () => {};
  const stepped = new Promise<void>((r) => (onStep = r));
  const run = new PythonEngine({ interpreter: py215 }).run(req, (e) => e.type === 'step' && onStep(), ac.signal);
  run.catch(() => {});
  await stepped;
  const t0 = performance.now();
  ac.abort();
  await assert.rejects(run, (e: unknown) => isFreezeInspectorError(e) && e.reason === 'cancelled');
  assert.ok(performance.now() - t0 < 1000, `cancel took ${(performance.now() - t0).toFixed(0)} ms`);
});

test('python engine and tfjs engine on the same .npz data: identical first loss', { skip: !existsSync(py215) && `${py215} absent`, timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-pydata-'));
  try {
    try {
      execFileSync('python3', ['-c', "import numpy as np; rs=np.random.RandomState(1); np.savez_compressed('d.npz', x=rs.normal(size=(6,16,16,3)).astype('float32'), y=rs.uniform(size=(6,4)).astype('float32'))"], { cwd: dir });
    } catch {
      t.skip('python3 with numpy not available');
      return;
    }
    const k2 = path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn/saved_model');
    const h = await openModel(k2);
    const config = { ...defaultFreezeConfig(k2), freeze: ['conv1'] };
    const req = buildVerifyRequest({ requestId: 'npz', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { ...settings, steps: 2, batchSize: 4, data: { kind: 'npy', path: path.join(dir, 'd.npz') } } });
    await h.close();
    const py = await new PythonEngine({ interpreter: py215 }).run(req, () => {});
    const js = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
    assert.deepEqual(changedSet(js), changedSet(py));
    assert.ok(Math.abs(js.loss[0]! - py.loss[0]!) <= 1e-4 * Math.max(1, py.loss[0]!), `first loss tfjs ${js.loss[0]} vs TF ${py.loss[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dilated DepthwiseConv2D (dropped by tfjs-layers): both engines on the same data give the same losses', { skip: !existsSync(py215) && `${py215} absent`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-dilated-'));
  try {
    // The model and the data are written by real TensorFlow (python/fixtures/gen_dilated_dw.py).
    execFileSync(py215, [path.join(repoRoot, 'python/fixtures/gen_dilated_dw.py'), dir], { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' }, stdio: 'ignore' });
    const file = path.join(dir, 'model.h5');
    const h = await openModel(file);
    const config = defaultFreezeConfig(file);
    const req = buildVerifyRequest({ requestId: 'dilated', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { ...settings, steps: 3, batchSize: 4, data: { kind: 'npy', path: path.join(dir, 'data.npz') } } });
    await h.close();
    const py = await new PythonEngine({ interpreter: py215 }).run(req, () => {});
    const js = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
    assert.deepEqual(changedSet(js), changedSet(py));
    // Every step's loss, so the updates (dilated gradients included) agree too, not only the forward pass.
    js.loss.forEach((l, i) => assert.ok(Math.abs(l - py.loss[i]!) <= 1e-4 * Math.max(1, Math.abs(py.loss[i]!)), `loss ${i}: tfjs ${l} vs TF ${py.loss[i]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('python engine: a folder of images (PNG and JPEG written by TensorFlow), labels from sub-folders', { skip: !existsSync(py215) && `${py215} absent`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-images-'));
  try {
    execFileSync(py215, ['-c', [
      'import os, tensorflow as tf',
      'for i, cls in enumerate(["a", "b", "c", "d"]):',
      '    os.makedirs(cls)',
      '    img = tf.cast(tf.random.stateless_uniform((20, 24, 3), seed=(i, 1), maxval=255), tf.uint8)',
      '    tf.io.write_file(f"{cls}/img{i}.png", tf.io.encode_png(img))',
      '    tf.io.write_file(f"{cls}/img{i}.jpg", tf.io.encode_jpeg(img))',
    ].join('\n')], { cwd: dir, stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    const k2 = path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn/saved_model');
    const h = await openModel(k2);
    const config = defaultFreezeConfig(k2);
    const req = buildVerifyRequest({ requestId: 'img', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { ...settings, steps: 2, batchSize: 4, data: { kind: 'images', path: dir } } });
    await h.close();
    const py = await new PythonEngine({ interpreter: py215 }).run(req, () => {});
    assert.equal(py.loss.length, 2);
    assert.ok(py.loss.every(Number.isFinite));
    assert.equal(py.data, `images: ${dir}`);
    // The tfjs engine decodes and resizes the same files itself (src/core/finetune/images): the same inputs
    // and one-hot labels, so the same first loss (before any update) and the same changed variables.
    const js = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
    assert.equal(js.data, py.data);
    assert.deepEqual(changedSet(js), changedSet(py));
    assert.ok(Math.abs(js.loss[0]! - py.loss[0]!) <= 1e-4 * Math.max(1, Math.abs(py.loss[0]!)), `first loss tfjs ${js.loss[0]} vs TF ${py.loss[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
