// The Keras runtimes on real tf_keras 2.15 and Keras 3 models: layer-path patterns, frozen = inference mode,
// nested bases called with training=False.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, matchPattern, resolveRuntime } from '../../../src/core/analysis/index';
import { config, expected, fixturePath, hasFixture, openFixture } from './helpers';

const skip = !hasFixture('k2_nested_frozen_base') && 'generated fixtures missing (npm run fixtures)';

test('runtime auto: tf_keras SavedModel -> tf2-keras, .keras -> keras3, TF1 SavedModel -> tf1-graph', { skip }, async () => {
  const k2 = await openFixture('k2_nested_frozen_base');
  assert.equal(resolveRuntime(k2, { runtime: 'auto' }).runtime, 'tf2-keras');
  if (hasFixture('k3_nested_frozen_base')) {
    const k3 = await openFixture('k3_nested_frozen_base', 'k3_nested_frozen_base.keras');
    const r = resolveRuntime(k3, { runtime: 'auto' });
    assert.equal(r.runtime, 'keras3');
    assert.match(r.why, /Keras 3/);
  }
  const forced = resolveRuntime(k2, { runtime: 'keras3' });
  assert.equal(forced.runtime, 'keras3');
  assert.match(forced.why, /set in the config.*suggests tf2-keras/);
});

test('tf2-keras nested frozen base: base BatchNorms in inference mode, head_bn trains', { skip }, async () => {
  const model = await openFixture('k2_nested_frozen_base');
  const exp = expected('k2_nested_frozen_base');
  const result = analyze(model, config({ training: true }));
  for (const b of result.batchNorms) {
    const inBase = b.layer.startsWith('base/');
    assert.equal(b.normalizesWith, inBase ? 'moving' : 'batch', b.layer);
    assert.equal(b.movingStatsUpdate, !inBase, b.layer);
    assert.equal(b.gammaBetaTrained, !inBase, b.layer);
  }
  // Trainable weights are exactly the ones TensorFlow listed as trainable.
  for (const v of exp.variables) {
    const p = result.variables.find((x) => x.key === v.key);
    assert.ok(p, v.name);
    if (!/moving_(mean|variance)$/.test(v.name)) assert.equal(p.changes, v.trainable, v.name);
  }
  assert.deepEqual(result.findings.filter((f) => f.severity !== 'info'), []);
});

test('Keras patterns select layer paths and freeze recursively', { skip }, async () => {
  const model = await openFixture('k2_cnn_bn');
  const m = matchPattern(model, '^bn1$', 'regex', 'tf2-keras');
  assert.equal(m.target, 'layer-path');
  assert.deepEqual(m.layers, ['bn1']);
  assert.equal(m.variables.length, 4);
  const result = analyze(model, config({ freeze: ['^conv1$', '^bn1$'] }));
  const bn1 = result.batchNorms.find((b) => b.layer === 'bn1')!;
  assert.deepEqual([bn1.normalizesWith, bn1.movingStatsUpdate, bn1.gammaBetaTrained], ['moving', false, false]);
  assert.match(bn1.explanation, /inference mode/);
  const bn2 = result.batchNorms.find((b) => b.layer === 'bn2')!;
  assert.deepEqual([bn2.normalizesWith, bn2.movingStatsUpdate, bn2.gammaBetaTrained], ['batch', true, true]);
  const gamma = result.variables.find((v) => v.layer === 'bn1' && v.role === 'gamma')!;
  assert.deepEqual([gamma.changes, gamma.reason], [false, 'frozen']);
  // A TF1-style variable-name pattern does not select Keras layers, and says so.
  const typo = analyze(model, config({ freeze: ['bn1/gamma'] }));
  const f = typo.findings.find((x) => x.code === 'pattern-matches-nothing')!;
  assert.match(f.message, /layer paths/);
});

test('trainingOverrides: a trainable BatchNorm called with training=False keeps training gamma/beta (tf2-keras)', { skip }, async () => {
  const model = await openFixture('k2_cnn_bn');
  const result = analyze(model, config({ trainingOverrides: { bn1: false } }));
  const bn1 = result.batchNorms.find((b) => b.layer === 'bn1')!;
  assert.deepEqual([bn1.normalizesWith, bn1.movingStatsUpdate, bn1.gammaBetaTrained], ['moving', false, true]);
  assert.deepEqual(result.findings.map((f) => f.code), ['trainable-bn-in-inference-call']);
});

test('Keras 3: a functional training=False is overridden by training=True (<= 3.15.1)', { skip: !hasFixture('k3_cnn_bn') && 'fixtures missing' }, async () => {
  const model = await openFixture('k3_cnn_bn', 'k3_cnn_bn.keras');
  const result = analyze(model, config({ trainingOverrides: { bn1: false }, freeze: ['^conv1$'] }));
  assert.equal(result.runtime, 'keras3');
  const bn1 = result.batchNorms.find((b) => b.layer === 'bn1')!;
  assert.deepEqual([bn1.normalizesWith, bn1.movingStatsUpdate, bn1.gammaBetaTrained], ['batch', true, true]);
  const codes = result.findings.map((f) => f.code).sort();
  assert.deepEqual(codes, ['keras3-recompile-after-freeze', 'keras3-training-false-overridden']);
  const f = result.findings.find((x) => x.code === 'keras3-training-false-overridden')!;
  assert.deepEqual(f.fixes[0]!.edits, [{ kind: 'insert', path: ['freeze', 1], value: '^bn1$' }]);
  const fixed = analyze(model, config({ trainingOverrides: { bn1: false }, freeze: ['^conv1$', '^bn1$'] }));
  const bn1Fixed = fixed.batchNorms.find((b) => b.layer === 'bn1')!;
  assert.deepEqual([bn1Fixed.normalizesWith, bn1Fixed.movingStatsUpdate], ['moving', false]);
  void fixturePath;
});
