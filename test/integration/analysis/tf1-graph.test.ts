// The TF1 runtime on real TF1 training graphs written by TensorFlow 2.15 (tf.compat.v1): the seed scenario
// and its variants. Facts about the graphs (var_list, UPDATE_OPS, the train op's dependencies) come from each
// fixture's expected.json, written by TensorFlow when it built the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, matchPattern, applyConfigEdits, parseFreezeConfig } from '../../../src/core/analysis/index';
import type { AnalysisResult, Finding } from '../../../src/core/analysis/types';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths';
import { config, expected, hasFixture, openFixture } from './helpers';

const SEED = config({ freeze: ['A', 'B', 'C'], training: true });
const skip = !hasFixture('tf1_seed') && 'generated fixtures missing (npm run fixtures)';

function bn(result: AnalysisResult, scope: string) {
  const b = result.batchNorms.find((x) => x.layer === `${scope}/batch_normalization`);
  assert.ok(b, `BatchNorm ${scope}`);
  return b;
}
function variable(result: AnalysisResult, name: string) {
  const v = result.variables.find((x) => x.name === name);
  assert.ok(v, `variable ${name}`);
  return v;
}
function codes(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.code}:${f.target.name}`).sort();
}

test('seed: frozen A-C keep gamma/beta but their moving statistics drift; D trains', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const exp = expected('tf1_seed');
  const result = analyze(model, SEED);
  assert.equal(result.runtime, 'tf1-graph');
  assert.match(result.runtimeWhy, /TF1/);
  for (const s of ['A', 'B', 'C']) {
    assert.deepEqual({ ...bn(result, s), explanation: '' }, {
      layer: `${s}/batch_normalization`, normalizesWith: 'batch', movingStatsUpdate: true, gammaBetaTrained: false,
      runtime: 'tf1-graph', trainingMode: true, explanation: '',
    });
    assert.match(bn(result, s).explanation, /moving_mean\/moving_variance change/);
  }
  assert.equal(bn(result, 'D').gammaBetaTrained, true);
  assert.equal(bn(result, 'D').movingStatsUpdate, true);
  // Gradient predictions equal the var_list TensorFlow built with exclude_patterns ['A','B','C'].
  for (const v of exp.variables) {
    const p = variable(result, v.name);
    if (v.role === 'moving_mean' || v.role === 'moving_variance') {
      assert.equal(p.changes, true, v.name);
      assert.equal(p.reason, 'moving-average');
    } else {
      assert.equal(p.changes, v.inVarList, v.name);
      assert.equal(p.reason, v.inVarList ? 'gradient' : 'not-in-var-list', v.name);
    }
  }
  assert.deepEqual(codes(result.findings), [
    'frozen-bn-stats-drift:A/batch_normalization',
    'frozen-bn-stats-drift:B/batch_normalization',
    'frozen-bn-stats-drift:C/batch_normalization',
  ]);
  const f = result.findings[0]!;
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.configPath, ['freeze', 0]);
  assert.deepEqual(f.fixes.map((x) => x.isPreferred), [true, false, false]);
  // Preferred in a TF1 graph: a change of the train op alone (one is_training placeholder drives every BN).
  assert.deepEqual(f.fixes[0]!.edits, [{ kind: 'set', path: ['updateOps'], value: { scopes: ['D/'] } }]);
  assert.deepEqual(f.fixes[1]!.edits, [{ kind: 'set', path: ['trainingOverrides', 'A'], value: false }]);
});

test('seed: each fix removes the drift when applied to the config text', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const text = '{\n  "model": "m",\n  "freeze": ["A", "B", "C"]\n}\n';
  const first = analyze(model, parseFreezeConfig(text, 'seed.freeze.json').config!, text);
  assert.equal(text.slice(first.findings[0]!.configRange!.offset, first.findings[0]!.configRange!.offset + first.findings[0]!.configRange!.length), '"A"');

  // 1. (preferred) only D's update ops: the statistics stay, but the frozen layers still normalize with batch
  //    statistics (the train/inference gap remains as a warning).
  const allPreferred = first.findings.flatMap((f) => f.fixes.filter((x) => x.isPreferred).flatMap((x) => x.edits));
  const t1 = applyConfigEdits(text, allPreferred);
  const r1 = analyze(model, parseFreezeConfig(t1, 'x').config!, t1);
  assert.equal(bn(r1, 'A').movingStatsUpdate, false);
  assert.equal(variable(r1, 'A/batch_normalization/moving_mean').reason, 'update-op-not-run');
  assert.equal(bn(r1, 'D').movingStatsUpdate, true);
  assert.deepEqual(codes(r1.findings), ['frozen-bn-batch-stats:A/batch_normalization', 'frozen-bn-batch-stats:B/batch_normalization', 'frozen-bn-batch-stats:C/batch_normalization']);

  // 2. training=False for the frozen scopes: no drift, no batch-statistics gap, nothing left.
  const t2 = applyConfigEdits(text, first.findings.flatMap((f) => f.fixes[1]!.edits));
  const c2 = parseFreezeConfig(t2, 'x').config!;
  const r2 = analyze(model, c2, t2);
  assert.deepEqual(codes(r2.findings), []);
  assert.equal(bn(r2, 'A').normalizesWith, 'moving');
  assert.equal(bn(r2, 'A').movingStatsUpdate, false);
  assert.equal(bn(r2, 'D').movingStatsUpdate, true);
  // Verified with real TensorFlow: the oracle case tf1_seed_override_frozen_false is exactly this config (the
  // graph rewired so A-C read training=False), and every variable and BatchNorm agrees with it.
  assert.deepEqual(c2.trainingOverrides, { A: false, B: false, C: false });
  const obsFile = path.join(repoRoot, 'test/oracle/observations/tf1_seed_override_frozen_false.json');
  const obs = JSON.parse(readFileSync(obsFile, 'utf8')) as { trainingOverridesApplied: boolean; variables: { name: string; changed: boolean }[]; batchNorms: { layer: string; normalizesWith?: string; movingStatsChanged: boolean }[] };
  assert.equal(obs.trainingOverridesApplied, true);
  for (const v of obs.variables) assert.equal(variable(r2, v.name).changes, v.changed, v.name);
  for (const b of obs.batchNorms) {
    const p = r2.batchNorms.find((x) => x.layer === b.layer)!;
    assert.deepEqual([p.normalizesWith, p.movingStatsUpdate], [b.normalizesWith, b.movingStatsChanged], b.layer);
  }

  // 3. unfreeze gamma/beta of A: A trains as a whole.
  const t3 = applyConfigEdits(text, first.findings[0]!.fixes[2]!.edits);
  const r3 = analyze(model, parseFreezeConfig(t3, 'x').config!, t3);
  assert.equal(variable(r3, 'A/batch_normalization/gamma').changes, true);
  assert.equal(variable(r3, 'A/batch_normalization/beta').changes, true);
  assert.equal(variable(r3, 'A/conv2d/kernel').changes, false);
  assert.deepEqual(codes(r3.findings), ['frozen-bn-stats-drift:B/batch_normalization', 'frozen-bn-stats-drift:C/batch_normalization']);
});

test('seed fed is_training=False: every BatchNorm uses and keeps its moving statistics', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const result = analyze(model, { ...SEED, training: false });
  for (const s of ['A', 'B', 'C', 'D']) {
    assert.equal(bn(result, s).normalizesWith, 'moving');
    assert.equal(bn(result, s).movingStatsUpdate, false);
    assert.equal(variable(result, `${s}/batch_normalization/moving_mean`).reason, 'inference-mode');
  }
  assert.equal(variable(result, 'D/batch_normalization/gamma').changes, true);
  assert.deepEqual(codes(result.findings), []);
});

test('updateOps none: BatchNorm in training mode whose statistics never update is an error', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const result = analyze(model, { ...SEED, updateOps: 'none' });
  assert.equal(bn(result, 'D').movingStatsUpdate, false);
  assert.deepEqual(codes(result.findings), [
    'bn-update-ops-not-run:D/batch_normalization',
    'frozen-bn-batch-stats:A/batch_normalization',
    'frozen-bn-batch-stats:B/batch_normalization',
    'frozen-bn-batch-stats:C/batch_normalization',
  ]);
  const err = result.findings.find((f) => f.code === 'bn-update-ops-not-run')!;
  assert.deepEqual(err.fixes[0]!.edits, [{ kind: 'set', path: ['updateOps'], value: 'all' }]);
});

test('useSavedTrainOp: reachability on the saved train op decides (no_updates, scoped_updates)', { skip: !hasFixture('tf1_no_updates') && 'fixtures missing' }, async () => {
  for (const name of ['tf1_no_updates', 'tf1_scoped_updates', 'tf1_seed']) {
    const model = await openFixture(name);
    const exp = expected(name);
    const result = analyze(model, { ...SEED, freeze: [], useSavedTrainOp: true });
    // the saved var_list, as TensorFlow built it
    for (const v of exp.variables) {
      if (v.role === 'moving_mean' || v.role === 'moving_variance') continue;
      assert.equal(result.variables.find((x) => x.name === v.name)!.changes, v.inVarList, `${name} ${v.name}`);
    }
    for (const b of exp.batchNorms) {
      const p = result.batchNorms.find((x) => x.layer === b.layer)!;
      // TensorFlow listed which update ops the saved train op depends on.
      assert.equal(p.movingStatsUpdate, b.updateOpsInSavedTrainOpDeps.length > 0, `${name} ${b.layer}`);
    }
  }
});

test('graph variants agree with the seed: non-fused, plain bool placeholder, resource variables, momentum slots', { skip }, async () => {
  for (const name of ['tf1_nonfused', 'tf1_bool_placeholder', 'tf1_resource', 'tf1_momentum']) {
    if (!hasFixture(name)) continue;
    const model = await openFixture(name);
    const result = analyze(model, SEED);
    for (const s of ['A', 'B', 'C']) {
      assert.equal(bn(result, s).movingStatsUpdate, true, `${name} ${s}`);
      assert.equal(bn(result, s).gammaBetaTrained, false, `${name} ${s}`);
    }
    assert.equal(bn(result, 'D').movingStatsUpdate, true, `${name} D`);
    const off = analyze(model, { ...SEED, training: false });
    for (const s of ['A', 'B', 'C', 'D']) assert.equal(bn(off, s).movingStatsUpdate, false, `${name} ${s} training=False`);
  }
  if (hasFixture('tf1_momentum')) {
    const result = analyze(await openFixture('tf1_momentum'), SEED);
    const slots = result.variables.filter((v) => v.reason === 'optimizer-slot');
    assert.ok(slots.length > 0);
    for (const s of slots) assert.equal(s.changes, s.name.startsWith('D/'), s.name);
  }
});

test('slim: pattern "B" also freezes D/BatchNorm/beta; the saved create_train_op increments global_step', { skip: !hasFixture('tf1_slim') && 'fixtures missing' }, async () => {
  const model = await openFixture('tf1_slim');
  const exp = expected('tf1_slim');
  const result = analyze(model, SEED);
  const saved = analyze(model, { ...SEED, useSavedTrainOp: true });
  for (const v of exp.variables) {
    const p = result.variables.find((x) => x.name === v.name);
    const s = saved.variables.find((x) => x.name === v.name);
    assert.ok(p && s, v.name);
    if (v.role === 'global_step') {
      assert.deepEqual([p.changes, p.reason], [false, 'not-trainable']);
      assert.deepEqual([s.changes, s.reason], [true, 'written-by-train-op']);
    } else if (v.role !== 'moving_mean' && v.role !== 'moving_variance') {
      assert.equal(p.changes, v.inVarList, v.name);
      assert.equal(s.changes, v.inVarList, v.name);
    }
  }
  // The saved train op (true) is slim's create_train_op tensor, behind the UPDATE_OPS barrier: statistics move.
  for (const b of saved.batchNorms) assert.equal(b.movingStatsUpdate, true, b.layer);
  // tf.get_collection('train_op')[0] is the optimizer's apply op, which apply_gradients registered first and which
  // does not depend on the barrier: running it leaves every moving statistic unchanged.
  const first = analyze(model, { ...SEED, useSavedTrainOp: 'collection[0]' });
  for (const b of first.batchNorms) assert.equal(b.movingStatsUpdate, false, b.layer);
  assert.ok(first.findings.some((f) => f.code === 'frozen-bn-batch-stats'));
  const d = result.batchNorms.find((b) => b.layer === 'D/BatchNorm')!;
  assert.equal(d.gammaBetaTrained, false, 'slim has no gamma and D beta is excluded by "B"');
  assert.ok(result.findings.some((f) => f.code === 'frozen-bn-stats-drift' && f.target.name === 'D/BatchNorm'));
});

test('matchPattern: TF1 patterns select variable op names', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const m = matchPattern(model, 'A', 'regex', 'tf1-graph');
  assert.equal(m.target, 'variable-name');
  assert.deepEqual([...m.layers].sort(), ['A/batch_normalization', 'A/conv2d']);
  assert.equal(m.variables.length, 6);
  assert.equal(matchPattern(model, '^base', 'regex', 'tf1-graph').variables.length, 0);
  assert.ok(matchPattern(model, '(', 'regex', 'tf1-graph').error);
  const result = analyze(model, { ...SEED, freeze: ['A', 'nothing_here'] });
  const nothing = result.findings.find((f) => f.code === 'pattern-matches-nothing')!;
  assert.deepEqual(nothing.configPath, ['freeze', 1]);
  assert.deepEqual(nothing.fixes[0]!.edits, [{ kind: 'remove', path: ['freeze', 1] }]);
});

test('a pattern that cuts a BatchNorm in half is reported with both fixes', { skip }, async () => {
  const model = await openFixture('tf1_seed');
  const result = analyze(model, { ...SEED, freeze: ['A', 'B', 'C', 'D/batch_normalization/gamma'] });
  const half = result.findings.find((f) => f.code === 'bn-half-frozen')!;
  assert.equal(half.target.name, 'D/batch_normalization');
  assert.deepEqual(half.configPath, ['freeze', 3]);
  assert.deepEqual(half.fixes[0]!.edits, [{ kind: 'insert', path: ['freeze', 4], value: '^D/batch_normalization/' }]);
});
