// The extension's pure translations (analysis -> tree states, analysis -> inspector rows) on the real TF1 seed
// fixture and its seed config: what the tree and the inspector show is what the analysis predicted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../../src/core/open';
import { analyze, parseFreezeConfig } from '../../../src/core/analysis/index';
import { computeStates, bnState, formatShape } from '../../../src/extension/tree/model-states';
import { buildInspectorData } from '../../../src/extension/inspector-data';

const repoRoot = path.resolve(__dirname, '../../..');
const seed = path.join(repoRoot, 'test/fixtures/generated/tf1_seed/saved_model');
const seedConfig = JSON.stringify({ model: './saved_model', freeze: ['A', 'B', 'C'] }, null, 2);

async function seedAnalysis() {
  const handle = await openModel(seed);
  const parsed = parseFreezeConfig(seedConfig, path.join(repoRoot, 'test/fixtures/generated/tf1_seed/seed.freeze.json'));
  assert.ok(parsed.config);
  return { model: handle.model, result: analyze(handle.model, parsed.config, seedConfig) };
}

test('tree states: frozen scopes A-C are "BN frozen but drifting", D updates, gamma frozen, moving stats drifting', { skip: !existsSync(seed) && 'tf1_seed fixture absent' }, async () => {
  const { model, result } = await seedAnalysis();
  const states = computeStates(model, result);
  for (const s of ['A', 'B', 'C']) assert.equal(states.batchNorms.get(`${s}/batch_normalization`)?.state, 'bn-drifting', s);
  assert.equal(states.batchNorms.get('D/batch_normalization')?.state, 'bn-updating');
  assert.equal(states.variables.get('A/batch_normalization/gamma')?.state, 'frozen');
  assert.equal(states.variables.get('A/batch_normalization/moving_mean')?.state, 'bn-drifting');
  assert.equal(states.variables.get('D/batch_normalization/moving_mean')?.state, 'bn-updating');
  assert.equal(states.variables.get('D/dense/kernel')?.state, 'trainable');
});

test('tree states without a config follow the saved flags; a verification disagreement wins', { skip: !existsSync(seed) && 'tf1_seed fixture absent' }, async () => {
  const { model } = await seedAnalysis();
  const states = computeStates(model, null, new Set(['D/dense/kernel']));
  assert.equal(states.variables.get('D/dense/kernel')?.state, 'disagreement');
  const gamma = model.variables.find((v) => v.key === 'A/batch_normalization/gamma')!;
  assert.equal(states.variables.get(gamma.key)?.state, gamma.trainable ? 'trainable' : 'frozen');
});

test('bnState reads the prediction: drifting only when stats move and gamma/beta do not train', () => {
  const base = { layer: 'x', runtime: 'tf1-graph' as const, trainingMode: true, explanation: '' };
  assert.equal(bnState({ ...base, normalizesWith: 'batch', movingStatsUpdate: true, gammaBetaTrained: false }), 'bn-drifting');
  assert.equal(bnState({ ...base, normalizesWith: 'batch', movingStatsUpdate: true, gammaBetaTrained: true }), 'bn-updating');
  assert.equal(bnState({ ...base, normalizesWith: 'moving', movingStatsUpdate: false, gammaBetaTrained: false }), 'bn-frozen');
  assert.equal(bnState({ ...base, normalizesWith: 'moving', movingStatsUpdate: false, gammaBetaTrained: true }), 'bn-inference');
});

test('inspector data: counts, parameters, BN rows and findings with their fixes', { skip: !existsSync(seed) && 'tf1_seed fixture absent' }, async () => {
  const { model, result } = await seedAnalysis();
  const data = buildInspectorData({ title: 'seed', model, result, runtimeSetting: 'auto', configPath: 'seed.freeze.json', analysisError: null, verification: null });
  assert.equal(data.summary.variableCount, model.variables.length);
  assert.equal(data.summary.batchNormCount, 4);
  assert.equal(data.summary.paramsTotal, model.variables.reduce((n, v) => n + (v.size ?? 0), 0));
  assert.equal(data.summary.paramsTrainable + data.summary.paramsFrozen, data.summary.paramsTotal);
  const a = data.batchNorms.find((b) => b.layer === 'A/batch_normalization')!;
  assert.deepEqual([a.normalizesWith, a.movingStatsUpdate, a.gammaBetaTrained, a.behaviour], ['batch', 'yes', 'no', 'drifting']);
  const drift = data.findings.filter((f) => f.code === 'frozen-bn-stats-drift');
  assert.equal(drift.length, 3);
  assert.equal(drift[0]!.fixes.filter((f) => f.preferred).length, 1);
  const mm = data.variables.find((v) => v.key === 'A/batch_normalization/moving_mean')!;
  assert.deepEqual([mm.trained, mm.updated, mm.shape], [false, true, '[8]']);
  assert.equal(data.findingsNote, null);
});

test('inspector data without a config says how to get findings', { skip: !existsSync(seed) && 'tf1_seed fixture absent' }, async () => {
  const { model } = await seedAnalysis();
  const data = buildInspectorData({ title: 'seed', model, result: null, runtimeSetting: 'auto', configPath: null, analysisError: null, verification: null });
  assert.equal(data.findings.length, 0);
  assert.match(data.findingsNote ?? '', /Create Freeze Config/);
  assert.ok(data.batchNorms.every((b) => b.behaviour === 'unknown' || b.behaviour === 'dynamic'));
});

test('shapes print unknown dimensions as ?', () => {
  assert.equal(formatShape([3, 3, -1, 8]), '[3, 3, ?, 8]');
  assert.equal(formatShape([]), '[]');
});

test('untrusted workspace: the inspector data carries why Verify is disabled; trusted: null', { skip: !existsSync(seed) && 'tf1_seed fixture absent' }, async () => {
  const { UNTRUSTED_MESSAGE } = await import('../../../src/extension/engine-choice');
  const { model, result } = await seedAnalysis();
  const base = { title: 'seed', model, result, runtimeSetting: 'auto', configPath: 'seed.freeze.json', analysisError: null, verification: null };
  assert.equal(buildInspectorData({ ...base, verifyDisabled: UNTRUSTED_MESSAGE }).verifyDisabled, UNTRUSTED_MESSAGE);
  assert.equal(buildInspectorData(base).verifyDisabled, null);
});
