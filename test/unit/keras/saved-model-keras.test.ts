// Keras 2 SavedModels through the real SavedModel reader (openSavedModel -> buildKerasSavedModel): generated
// tf_keras 2.15 fixtures checked against the expected.json TensorFlow wrote, the TF 2.8 / TF 2.4 real models
// (keras_metadata.pb and object-graph metadata), a subclassed model, and damaged copies.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { ModelReadError } from '../../../src/core/io/errors';
import { openSavedModel } from '../../../src/core/formats/saved-model/open';
import { CheckpointReader } from '../../../src/core/formats/checkpoint/checkpoint';
import type { ModelHandle } from '../../../src/core/model/ir';
import { REAL, generatedFixture, readExpected } from './real-keras-files';
import { assertMatchesExpected } from './expected-compare';

function open(dir: string): Promise<ModelHandle> {
  return openSavedModel(new NodeFileSource(dir), dir);
}

const K2 = ['k2_cnn_bn', 'k2_cnn_bn_frozen', 'k2_nested_frozen_base', 'k2_subclassed'];

for (const fixture of K2) {
  test(`${fixture} (tf_keras 2.15 SavedModel): variables, layers, BatchNorms and keys equal expected.json`, async (t) => {
    const dir = generatedFixture(fixture);
    if (!dir) return t.skip('generated fixture absent');
    const expected = readExpected(dir);
    const handle = await open(path.join(dir, 'saved_model'));
    const m = handle.model;
    assert.equal(m.format, 'saved-model-keras');
    assert.equal(m.kerasVersion, expected.keras);
    assert.equal(m.tensorflowVersion, expected.tensorflow);
    assert.equal(m.kerasMetadataSource, 'keras_metadata.pb');
    assertMatchesExpected(m, expected);
    // Every checkpoint key is a model variable, an optimizer variable, a metric or the object graph.
    const byRole = (roles: string[]): string[] => expected.checkpointKeys.filter((k) => roles.includes(k.role ?? '')).map((k) => k.key).sort();
    assert.deepEqual(m.variables.filter((v) => !v.optimizerSlot).map((v) => v.key).sort(), byRole(['variable']));
    assert.deepEqual(m.variables.filter((v) => v.optimizerSlot).map((v) => v.key).sort(), byRole(['optimizerSlot', 'optimizerState']));
    // SavedVariable.trainable is the creation flag: true for every kernel/gamma/beta, frozen or not.
    for (const v of m.variables.filter((x) => !x.optimizerSlot)) {
      const e = expected.variables.find((x) => x.key === v.key)!;
      assert.equal(v.savedTrainable, e.createdTrainable, v.name);
    }
    const stale = expected.variables.filter((v) => v.createdTrainable && !v.trainable).map((v) => v.name);
    const warning = m.warnings.find((w) => w.code === 'saved-trainable-mismatch');
    if (stale.length === 0) assert.equal(warning, undefined);
    else assert.match(warning!.message, new RegExp(`^SavedVariable\\.trainable is true for ${stale.length} variables of non-trainable layers \\("${stale[0]}"`));
    assert.deepEqual(m.warnings.filter((w) => w.code !== 'saved-trainable-mismatch'), []);
    // Values come from the checkpoint on demand.
    const bn = m.batchNorms[0]!;
    const mean = await handle.readTensor(bn.movingMean!);
    assert.deepEqual([mean.dtype, mean.shape], ['float32', m.variables.find((v) => v.key === bn.movingMean)!.shape]);
    await assert.rejects(handle.readTensor('keras_api/metrics/0/count/.ATTRIBUTES/VARIABLE_VALUE'), (e: unknown) => e instanceof ModelReadError && e.reason === 'unknown-variable');
  });
}

/** Keys of variables.index, through the project's checkpoint reader. */
async function checkpointKeys(dir: string): Promise<string[]> {
  const ckpt = await CheckpointReader.open(new NodeFileSource(dir), 'variables/variables');
  return ckpt.keys();
}

test('openmv MobileNet (TF 2.8, keras_metadata.pb): nested Sequential + Functional, 27 BatchNorms', async (t) => {
  if (!existsSync(REAL.openmv)) return t.skip('shared real fixtures absent');
  const m = (await open(REAL.openmv)).model;
  assert.deepEqual([m.format, m.kerasMetadataSource, m.kerasVersion, m.tensorflowVersion], ['saved-model-keras', 'keras_metadata.pb', '2.8.0', '2.8.2']);
  assert.deepEqual(m.warnings, []);
  const vars = m.variables.filter((v) => !v.optimizerSlot);
  // 137 weights plus the 4 random-augmentation layers' generator states, owned by those layers.
  assert.equal(vars.length, 141);
  assert.deepEqual(
    vars.filter((v) => v.role === 'other').map((v) => `${v.layer}:${v.name}`),
    ['sequential/random_flip:random_flip/StateVar', 'sequential/random_rotation:random_rotation/StateVar', 'sequential/random_zoom:random_zoom/StateVar', 'sequential/random_contrast:random_contrast/StateVar'],
  );
  const optimizer = m.variables.filter((v) => v.optimizerSlot);
  assert.equal(optimizer.filter((v) => v.key.includes('/.OPTIMIZER_SLOT/')).length, 166);
  assert.deepEqual(optimizer.filter((v) => !v.key.includes('/.OPTIMIZER_SLOT/')).map((v) => v.name).sort(), ['Adam/iter', 'beta_1', 'beta_2', 'decay', 'learning_rate']);
  assert.equal(m.batchNorms.length, 27);
  assert.ok(m.batchNorms.every((b) => b.layer.startsWith('model/') && b.gamma && b.beta && b.movingMean && b.movingVariance && b.trainable));
  assert.ok(vars.every((v) => v.layer !== null && m.layers.find((l) => l.path === v.layer)!.variables.includes(v.key)));
  // Nothing escapes: the checkpoint holds exactly these variables, 4 metric values and the object graph.
  const all = new Set(await checkpointKeys(REAL.openmv));
  for (const v of m.variables) assert.ok(all.has(v.key), v.key);
  const rest = [...all].filter((k) => !m.variables.some((v) => v.key === k));
  assert.deepEqual(rest.sort(), ['_CHECKPOINTABLE_OBJECT_GRAPH', ...[0, 1].flatMap((i) => [`keras_api/metrics/${i}/count/.ATTRIBUTES/VARIABLE_VALUE`, `keras_api/metrics/${i}/total/.ATTRIBUTES/VARIABLE_VALUE`])].sort());
});

test('kws DS-CNN (TF 2.4): Keras metadata from the object graph, 9 BatchNorms', async (t) => {
  if (!existsSync(REAL.kws)) return t.skip('shared real fixtures absent');
  const handle = await open(REAL.kws);
  const m = handle.model;
  assert.deepEqual([m.format, m.kerasMetadataSource, m.kerasVersion, m.tensorflowVersion], ['saved-model-keras', 'object-graph', '2.4.0', '2.3.2']);
  assert.deepEqual(m.warnings, []);
  assert.equal(m.variables.filter((v) => !v.optimizerSlot).length, 56);
  assert.equal(m.variables.filter((v) => v.optimizerSlot).length, 81);
  assert.equal(m.batchNorms.length, 9);
  assert.equal(m.layers.filter((l) => l.parent === '').length, m.layers.length - 1);
  const bn = m.batchNorms[0]!;
  assert.deepEqual([bn.layer, bn.gamma], ['batch_normalization', 'layer_with_weights-1/gamma/.ATTRIBUTES/VARIABLE_VALUE']);
  const gamma = await handle.readTensor(bn.gamma!);
  assert.deepEqual(gamma.shape, [64]);
});

test('subclassed tf.keras model (TF 2.4, tensorflow/java test data): the variable belongs to the root model', async (t) => {
  if (!existsSync(REAL.javaSubclassed)) return t.skip('shared real fixtures absent');
  const m = (await open(REAL.javaSubclassed)).model;
  assert.equal(m.format, 'saved-model-keras');
  assert.deepEqual(
    m.layers.map((l) => [l.path, l.className, l.isModel, l.variables]),
    [['', 'MyModel', true, ['variable/.ATTRIBUTES/VARIABLE_VALUE']]],
  );
  assert.deepEqual(
    m.variables.map((v) => [v.name, v.layer, v.trainable, v.optimizerSlot]),
    [['Variable', '', true, false]],
  );
});

/** Copy of a SavedModel folder with one same-length byte string replaced in `file`. */
function damagedCopy(dir: string, file: string, from: string, to: string, t: { after: (fn: () => void) => void }): string {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-sm-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const target = path.join(tmp, path.basename(dir));
  cpSync(dir, target, { recursive: true });
  const p = path.join(target, file);
  const bytes = readFileSync(p);
  const at = bytes.indexOf(from);
  assert.ok(at >= 0, `"${from}" occurs in ${file}`);
  bytes.write(to, at);
  writeFileSync(p, bytes);
  return target;
}

test('damaged keras_metadata.pb copies: bad JSON is a ModelReadError, a frozen root freezes everything', async (t) => {
  if (!existsSync(REAL.openmv)) return t.skip('shared real fixtures absent');
  const badJson = damagedCopy(REAL.openmv, 'keras_metadata.pb', '"name": "sequential_1", "trainable"', '"name": "sequential_1"; "trainable"', t);
  await assert.rejects(
    open(badJson),
    (e: unknown) => e instanceof ModelReadError && e.reason === 'bad-json' && e.message.startsWith('keras_metadata.pb: Keras metadata of root is not valid JSON'),
  );
  const frozen = damagedCopy(REAL.openmv, 'keras_metadata.pb', '"name": "sequential_1", "trainable": true,', '"name": "sequential_1", "trainable":false,', t);
  const m = (await open(frozen)).model;
  assert.ok(m.layers.every((l) => !l.trainable));
  assert.ok(m.batchNorms.every((b) => !b.trainable));
  assert.ok(m.variables.every((v) => !v.trainable));
  assert.deepEqual(m.warnings.map((w) => w.code), ['saved-trainable-mismatch']);
  assert.match(m.warnings[0]!.message, /^SavedVariable\.trainable is true for 83 variables of non-trainable layers/);
});
