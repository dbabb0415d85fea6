// `freeze-inspector analyze` on the bundled samples (real TensorFlow models): text, JSON and SARIF output,
// exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAnalyze, expandMultiValue } from '../../../src/cli/commands/analyze';
import { repoRoot } from './helpers';

const seedConfig = path.join(repoRoot, 'samples/seed-tf1/seed.freeze.json');
const seedModel = path.join(repoRoot, 'samples/seed-tf1/model/saved_model');
const skip = !existsSync(path.join(seedModel, 'saved_model.pb')) && 'samples/seed-tf1 missing';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAnalyze(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

test('the seed sample: readable report answering the question, exit code 1 (error findings)', { skip }, async () => {
  const r = await run(seedConfig);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /runtime: {2}tf1-graph/);
  assert.match(r.out, /A\/batch_normalization\s+batch stats\s+CHANGE\s+frozen/);
  assert.match(r.out, /D\/batch_normalization\s+batch stats\s+CHANGE\s+train/);
  assert.match(r.out, /Will BatchNorm train if the layers are frozen but training is on\?\n {2}YES, partly: in A\/batch_normalization, B\/batch_normalization, C\/batch_normalization/);
  assert.match(r.out, /ERROR frozen-bn-stats-drift \(.*seed\.freeze\.json:\d+:\d+\)/);
  assert.match(r.out, /fix \(preferred\): Make the train op run only the trained layers' update ops \(updateOps scopes "D\/"\)/);
  assert.match(r.out, /fix: Build "A" with training=False/);
  assert.match(r.out, /set trainingOverrides\.A = false/);
});

test('--json carries runtime, variables, batchNorms and findings with fixes', { skip }, async () => {
  const r = await run(seedConfig, '--json');
  assert.equal(r.code, 1);
  const j = JSON.parse(r.out);
  assert.equal(j.runtime, 'tf1-graph');
  const gamma = j.variables.find((v: { key: string }) => v.key === 'A/batch_normalization/gamma');
  assert.deepEqual([gamma.changes, gamma.reason], [false, 'not-in-var-list']);
  const mm = j.variables.find((v: { name: string }) => v.name === 'A/batch_normalization/moving_mean');
  assert.deepEqual([mm.changes, mm.reason], [true, 'moving-average']);
  const a = j.batchNorms.find((b: { layer: string }) => b.layer === 'A/batch_normalization');
  assert.deepEqual([a.normalizesWith, a.movingStatsUpdate, a.gammaBetaTrained], ['batch', true, false]);
  assert.equal(typeof a.explanation, 'string');
  const f = j.findings[0];
  assert.deepEqual(Object.keys(f).filter((k) => ['code', 'severity', 'message', 'target', 'fixes'].includes(k)).sort(), ['code', 'fixes', 'message', 'severity', 'target']);
});

test('--format sarif: results placed on the config with fixes', { skip }, async () => {
  const r = await run(seedConfig, '--format', 'sarif');
  const sarif = JSON.parse(r.out);
  assert.equal(sarif.version, '2.1.0');
  const results = sarif.runs[0].results;
  assert.equal(results.length, 3);
  assert.equal(results[0].ruleId, 'frozen-bn-stats-drift');
  assert.equal(results[0].level, 'error');
  const loc = results[0].locations[0].physicalLocation;
  assert.match(loc.artifactLocation.uri, /samples\/seed-tf1\/seed\.freeze\.json$/);
  assert.ok(loc.region.startLine > 1);
  assert.ok(results[0].fixes.length >= 2);
  assert.ok(sarif.runs[0].tool.driver.rules.some((x: { id: string }) => x.id === 'bn-update-ops-not-run'));
});

test('flags instead of a config: --freeze A B C --training false gives no error (exit 0)', { skip }, async () => {
  const r = await run(seedModel, '--freeze', 'A', 'B', 'C', '--training', 'false', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.batchNorms.every((b: { normalizesWith: string }) => b.normalizesWith === 'moving'));
  assert.deepEqual(expandMultiValue(['m', '--freeze', 'A', 'B', '--json']), ['m', '--freeze', 'A', '--freeze', 'B', '--json']);
});

test('bad input exits 2: missing model, bad flag values, invalid config', async () => {
  assert.equal((await run()).code, 2);
  assert.equal((await run('/nonexistent/model')).code, 2);
  assert.equal((await run(seedModel, '--runtime', 'tf9')).code, 2);
  assert.equal((await run(seedModel, '--freeze', '(')).code, 2);
  assert.equal((await run(seedModel, '--bogus')).code, 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-analyze-'));
  try {
    const bad = path.join(dir, 'bad.freeze.json');
    writeFileSync(bad, '{\n  "model": "./m",\n  "freeze": ["("]\n}\n');
    const r = await run(bad);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.freeze\.json:3:\d+: error invalid-regex/);
    const missingModel = path.join(dir, 'missing.freeze.json');
    writeFileSync(missingModel, '{"model": "./nowhere"}');
    assert.equal((await run(missingModel)).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Keras fine-tuning samples: Keras 3 overrides training=False (warning), tf_keras keeps it (info)', { skip }, async () => {
  const k3 = await run(path.join(repoRoot, 'samples/keras-transfer/finetune-keras3.freeze.json'), '--json');
  assert.equal(k3.code, 0, k3.err);
  const j3 = JSON.parse(k3.out);
  assert.equal(j3.runtime, 'keras3');
  assert.deepEqual(j3.findings.map((f: { code: string }) => f.code), ['keras3-training-false-overridden']);
  assert.ok(j3.batchNorms.every((b: { normalizesWith: string; movingStatsUpdate: boolean }) => b.normalizesWith === 'batch' && b.movingStatsUpdate));
  const k2 = await run(path.join(repoRoot, 'samples/keras-transfer/finetune.freeze.json'), '--json');
  const j2 = JSON.parse(k2.out);
  assert.equal(j2.runtime, 'tf2-keras');
  assert.deepEqual(j2.findings.map((f: { code: string }) => f.code), ['trainable-bn-in-inference-call']);
  const base = j2.batchNorms.filter((b: { layer: string }) => b.layer.startsWith('base/'));
  assert.ok(base.every((b: { normalizesWith: string; movingStatsUpdate: boolean; gammaBetaTrained: boolean }) => b.normalizesWith === 'moving' && !b.movingStatsUpdate && b.gammaBetaTrained));
});
