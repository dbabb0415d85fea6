// `freeze-inspector verify ... --json`: the JSON contract, exit codes, loud disagreements, clear refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths';
import { runVerify, renderText } from '../../../src/cli/commands/verify';
import type { VerifyResult } from '../../../src/core/finetune/types';

function io(): { out: string[]; err: string[]; io: { stdout(s: string): void; stderr(s: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) } };
}

const caseFile = (n: string): string => path.join(repoRoot, 'test/oracle/cases', `${n}.freeze.json`);
const haveK2 = existsSync(path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn/saved_model'));

test('verify --json: the documented fields, every variable, BN drift and gaps, exit 0 when all agree', { skip: !haveK2 && 'fixture absent' }, async () => {
  const c = io();
  const code = await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--json', '--steps', '2', '--engine', 'tfjs', '--backend', 'wasm'], c.io);
  assert.equal(code, 0, c.err.join(''));
  const r = JSON.parse(c.out.join('')) as VerifyResult;
  assert.equal(r.engine, 'tfjs');
  assert.equal(r.steps, 2);
  assert.equal(r.loss.length, 2);
  assert.ok(r.loss.every((l) => Number.isFinite(l)));
  assert.equal(r.variables.length, 14);
  for (const v of r.variables) {
    assert.equal(typeof v.key, 'string');
    assert.equal(typeof v.predicted, 'boolean');
    assert.equal(typeof v.observed, 'boolean');
    assert.equal(typeof v.maxAbsDelta, 'number');
    assert.equal(typeof v.agree, 'boolean');
  }
  assert.deepEqual(r.batchNorms.map((b) => b.layer), ['bn1', 'bn2']);
  for (const b of r.batchNorms) for (const k of ['movingMeanDrift', 'movingVarianceDrift', 'trainInferenceGapBefore', 'trainInferenceGapAfter'] as const) assert.equal(typeof b[k], 'number');
  assert.equal(r.batchNorms[0]!.movingMeanDrift, 0);
  assert.ok(r.batchNorms[1]!.movingMeanDrift > 0);
  assert.equal(r.agreement, 1);
  assert.ok(r.timeToFirstStepMs > 0);
});

test('verify: a disagreement is printed first and loudly', { skip: !haveK2 && 'fixture absent' }, async () => {
  const c = io();
  await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--json', '--steps', '1', '--backend', 'wasm'], c.io);
  const r = JSON.parse(c.out.join('')) as VerifyResult;
  // Flip one prediction, as a wrong analysis would produce it.
  const variables = r.variables.map((v, i) => (i === 2 ? { ...v, predicted: !v.predicted, agree: false } : v));
  const text = renderText({ ...r, variables, disagreements: 1, agreement: (variables.length - 1) / variables.length });
  const first = text.split('\n')[0]!;
  assert.match(first, /^!!! 1 PREDICTION\(S\) DISAGREE/);
  assert.ok(text.includes(`!!! ${variables[2]!.name} [${variables[2]!.key}]: predicted`), text.split('\n').slice(0, 3).join('\n'));
});

test('verify: a model tfjs cannot rebuild is refused with exit 2 and the list of layers', { skip: !existsSync(path.join(repoRoot, 'test/fixtures/generated/k2_subclassed/saved_model')) && 'fixture absent' }, async () => {
  const c = io();
  const code = await runVerify([caseFile('k2_subclassed_train'), '--json', '--backend', 'wasm'], c.io);
  assert.equal(code, 2);
  const err = c.err.join('');
  assert.match(err, /cannot train this model faithfully/);
  assert.match(err, /unsupported: \(model\) SmallNet: model class SmallNet/);
  assert.equal(c.out.join(''), '');
});

test('verify: a TF1 graph is refused for tfjs with a pointer to the Python engine', { skip: !existsSync(caseFile('tf1_seed_all_updates')) && 'case absent' }, async () => {
  const c = io();
  const code = await runVerify([caseFile('tf1_seed_all_updates'), '--engine', 'tfjs', '--backend', 'wasm'], c.io);
  assert.equal(code, 2);
  assert.match(c.err.join(''), /cannot be rebuilt in TensorFlow\.js/);
});

test('verify: bad flags and a missing config are bad input', async () => {
  let c = io();
  assert.equal(await runVerify(['some/model'], c.io), 2);
  assert.match(c.err.join(''), /needs a freeze config/);
  c = io();
  assert.equal(await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--engine', 'torch'], c.io), 2);
  assert.match(c.err.join(''), /--engine must be tfjs or python/);
  c = io();
  assert.equal(await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--steps', '0'], c.io), 2);
  c = io();
  assert.equal(await runVerify(['--config', '/nonexistent/x.freeze.json'], c.io), 2);
  assert.match(c.err.join(''), /cannot read the config/);
});

test('verify --data: a folder trains on its images; a relative verify.data.path is relative to the config, not the current folder', { skip: !haveK2 && 'fixture absent' }, async () => {
  const images = path.join(repoRoot, 'test/fixtures/generated/images/folder');
  let c = io();
  assert.equal(await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--json', '--steps', '1', '--engine', 'tfjs', '--backend', 'wasm', '--data', path.relative(process.cwd(), images)], c.io), 0, c.err.join(''));
  assert.equal((JSON.parse(c.out.join('')) as VerifyResult).data, `images: ${images}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-verify-data-'));
  try {
    const cfg = JSON.parse(readFileSync(caseFile('k2_cnn_bn_freeze_bn1'), 'utf8')) as Record<string, unknown>;
    cfg.model = path.resolve(path.dirname(caseFile('k2_cnn_bn_freeze_bn1')), cfg.model as string);
    delete cfg.expect;
    cfg.verify = { steps: 1, data: { kind: 'images', path: 'imgs' } };
    cpSync(images, path.join(dir, 'imgs'), { recursive: true });
    const cfgPath = path.join(dir, 'x.freeze.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    c = io();
    assert.equal(await runVerify([cfgPath, '--json', '--engine', 'tfjs', '--backend', 'wasm'], c.io), 0, c.err.join(''));
    assert.equal((JSON.parse(c.out.join('')) as VerifyResult).data, `images: ${path.join(dir, 'imgs')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  c = io();
  assert.equal(await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--data', '/nonexistent/data.npy'], c.io), 2);
  assert.match(c.err.join(''), /--data \/nonexistent\/data\.npy: no such file or folder/);
  c = io();
  assert.equal(await runVerify([caseFile('k2_cnn_bn_freeze_bn1'), '--data', caseFile('k2_cnn_bn_freeze_bn1')], c.io), 2);
  assert.match(c.err.join(''), /expected a folder of images, a \.npy\/\.npz file or a \.csv file/);
});
