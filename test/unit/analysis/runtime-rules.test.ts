// The rule tables as data: every combination of facts is decided by exactly the first matching rule, and
// each table ends in a catch-all. (What the rules claim about TensorFlow is checked against real runs in
// test/integration/analysis/oracle.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RULES } from '../../../src/core/analysis/predict';
import { keras3OverridesTrainingFalse } from '../../../src/core/analysis/runtimes/keras3';
import { selectUpdateOps } from '../../../src/core/analysis/runtimes/tf1-graph';
import type { FactName } from '../../../src/core/analysis/runtimes/rules';

test('every runtime decides every combination of facts', () => {
  const names: FactName[] = ['layerTrainable', 'training', 'updateOpsRun', 'functionalOverride'];
  for (const [runtime, rules] of Object.entries(RULES)) {
    assert.deepEqual(rules[rules.length - 1]!.when.functionalOverride, undefined, `${runtime} ends with a general rule`);
    for (let mask = 0; mask < 1 << names.length; mask++) {
      const facts = Object.fromEntries(names.map((n, i) => [n, (mask >> i) & 1 ? true : false])) as Record<FactName, boolean>;
      const hit = rules.find((r) => (Object.entries(r.when) as [FactName, boolean][]).every(([k, v]) => facts[k] === v));
      assert.ok(hit, `${runtime}: no rule for ${JSON.stringify(facts)}`);
      if (!facts.training && !facts.functionalOverride) assert.equal(hit.movingStatsUpdate, false, `${runtime}: ${hit.id} updates statistics without training`);
      if (hit.movingStatsUpdate) assert.equal(hit.normalizesWith, 'batch', `${runtime}: ${hit.id}`);
    }
  }
});

test('Keras 3 versions up to 3.15.1 override a functional training=False; unknown versions are assumed affected', () => {
  assert.equal(keras3OverridesTrainingFalse('3.15.1'), true);
  assert.equal(keras3OverridesTrainingFalse('3.0.0'), true);
  assert.equal(keras3OverridesTrainingFalse('3.15.2'), false);
  assert.equal(keras3OverridesTrainingFalse('3.16.0.dev2026'), false);
  assert.equal(keras3OverridesTrainingFalse('2.15.1'), false);
  assert.equal(keras3OverridesTrainingFalse(null), true);
});

test('update-op scopes select like tf.get_collection(UPDATE_OPS, scope): re.match from the start', () => {
  const ops = ['A/batch_normalization/AssignMovingAvg', 'AB/batch_normalization/AssignMovingAvg', 'D/batch_normalization/cond_2/Merge'];
  assert.deepEqual(selectUpdateOps(ops, { scopes: ['A'] }), ops.slice(0, 2));
  assert.deepEqual(selectUpdateOps(ops, { scopes: ['A/'] }), ops.slice(0, 1));
  assert.deepEqual(selectUpdateOps(ops, { scopes: ['batch'] }), []);
  assert.deepEqual(selectUpdateOps(ops, 'none'), []);
  assert.deepEqual(selectUpdateOps(ops, 'all'), ops);
});
