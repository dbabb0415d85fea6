// Real SavedModels from public repositories (../shared/fixtures/real), expected counts from its README.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { openSavedModel, readSavedModelParts } from '../../../src/core/formats/saved-model/open';
import type { ModelFormat } from '../../../src/core/model/ir';
import { hasSharedFixtures, sharedReal } from '../../helpers/paths';

interface Row { dir: string; format: ModelFormat; tf: string; variables: number; slots: number; bn: number }

// Models this reader builds itself (Keras 2 SavedModels go to the Keras builder: see object-graph tests).
// `variables` counts every non-slot variable (optimizer state such as iterations included), as the README does.
const ROWS: Row[] = [
  { dir: 'rust_regression_tf1_train', format: 'saved-model-tf1', tf: '1.7.0', variables: 2, slots: 0, bn: 0 },
  { dir: 'serving_half_plus_two_cpu', format: 'saved-model-tf1', tf: '1.14.0', variables: 5, slots: 0, bn: 0 },
  { dir: 'serving_counter', format: 'saved-model-tf1', tf: '1.5.0-rc1', variables: 1, slots: 0, bn: 0 },
  { dir: 'serving_half_plus_two_mkl', format: 'saved-model-tf1', tf: '1.12.0-rc0', variables: 9, slots: 0, bn: 0 },
  { dir: 'java_half_plus_two', format: 'saved-model-tf1', tf: '1.1.0-rc2', variables: 3, slots: 0, bn: 0 },
  { dir: 'vespa_modelv1', format: 'saved-model-tf1', tf: '1.12.0', variables: 29, slots: 0, bn: 0 },
  // The README lists 0 BN layers here, but the graph holds three tf.layers.batch_normalization layers
  // (gamma/beta/moving_mean/moving_variance variables, moments + AssignMovingAvg ops): we count 3.
  { dir: 'vespa_tf1_batchnorm_train', format: 'saved-model-tf1', tf: '1.4.1', variables: 18, slots: 0, bn: 3 },
  { dir: 'rust_regression_tf25_module', format: 'saved-model-tf2', tf: '2.5.0', variables: 6, slots: 0, bn: 0 },
  { dir: 'serving_half_plus_two_tf2_cpu', format: 'saved-model-tf2', tf: '2.14.0', variables: 3, slots: 0, bn: 0 },
  { dir: 'tfjs_times_three_float', format: 'saved-model-tf2', tf: '2.0.0-beta1', variables: 1, slots: 0, bn: 0 },
  { dir: 'tfjs_module_with_multiple_signatures', format: 'saved-model-tf2', tf: '2.0.0-beta1', variables: 2, slots: 0, bn: 0 },
  { dir: 'tfjs_model_multi_output', format: 'saved-model-tf2', tf: '2.0.0', variables: 2, slots: 0, bn: 0 },
  { dir: 'tfjs_int64_multiply', format: 'saved-model-tf2', tf: '2.3.1', variables: 2, slots: 0, bn: 0 },
];

for (const row of ROWS) {
  test(`real ${row.dir}: ${row.format}, TF ${row.tf}, ${row.variables} variables, ${row.bn} BN`, async (t) => {
    const dir = sharedReal(row.dir);
    if (!hasSharedFixtures || !existsSync(dir)) return t.skip('shared real fixtures absent');
    const h = await openSavedModel(new NodeFileSource(dir), dir);
    const m = h.model;
    assert.equal(m.format, row.format);
    assert.equal(m.tensorflowVersion, row.tf);
    const slots = m.variables.filter((v) => v.optimizerSlot && v.role === 'other' && /OPTIMIZER_SLOT/.test(v.key));
    assert.equal(m.variables.length - slots.length, row.variables);
    assert.equal(slots.length, row.slots);
    assert.equal(m.batchNorms.length, row.bn);
    assert.deepEqual(m.warnings.filter((w) => w.code === 'unmapped-variable' || w.code === 'missing-data-shard'), []);
    // every variable can be read back from the checkpoint with the shape the structure reports
    for (const v of m.variables) {
      const td = await h.readTensor(v.key);
      assert.deepEqual([...td.shape], [...v.shape], v.key);
      assert.equal(td.dtype, v.dtype, v.key);
    }
  });
}

test('real vespa_tf1_batchnorm_train (text saved_model.pbtxt): BatchNorm switched by a placeholder_with_default', async (t) => {
  const dir = sharedReal('vespa_tf1_batchnorm_train');
  if (!hasSharedFixtures || !existsSync(dir)) return t.skip('shared real fixtures absent');
  const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
  assert.deepEqual(m.batchNorms.map((b) => b.layer), ['batch_normalization', 'batch_normalization_1', 'batch_normalization_2']);
  for (const b of m.batchNorms) {
    assert.equal(b.momentum, 0.9);
    assert.equal(b.epsilon, 0.001);
    assert.equal(b.trainable, true);
    assert.equal(b.graph?.form, 'moments');
    assert.equal(b.graph?.isTraining, 'dynamic');
    assert.equal(b.graph?.trainingInput, 'training');
    assert.equal(b.graph?.movingMeanUpdates.length, 1);
    assert.equal(b.graph?.movingVarianceUpdates.length, 1);
  }
  // the layers are called under the name scope 'dnn': ops and variables live in different scopes
  assert.deepEqual(m.batchNorms[1].graph?.normOps, ['dnn/batch_normalization_2/moments/mean']);
  assert.deepEqual(m.batchNorms[1].graph?.movingMeanUpdates, ['dnn/batch_normalization_2/AssignMovingAvg']);
  // TF 1.4 writes VariableDef.trainable=false: membership in trainable_variables decides
  assert.ok(m.variables.every((v) => v.savedTrainable === false));
  assert.equal(m.variables.filter((v) => v.trainable).length, 12);
  assert.deepEqual(m.tf1Graph?.collections['update_ops']?.length, 6);
});

test('real rust_regression_tf1_train: both tags, training graph chosen', async (t) => {
  const dir = sharedReal('rust_regression_tf1_train');
  if (!hasSharedFixtures || !existsSync(dir)) return t.skip('shared real fixtures absent');
  const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
  assert.deepEqual(m.metaGraphs.map((g) => g.tags), [['train', 'serve']]);
  assert.deepEqual(m.tf1Graph?.tags, ['train', 'serve']);
  assert.ok((m.tf1Graph?.collections['train_op']?.length ?? 0) > 0);
  assert.ok(!m.warnings.some((w) => w.code === 'no-training-graph'));
});

test('real rust_regression_tf25_module: SGD optimizer state is marked, model variables are not', async (t) => {
  const dir = sharedReal('rust_regression_tf25_module');
  if (!hasSharedFixtures || !existsSync(dir)) return t.skip('shared real fixtures absent');
  const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
  assert.deepEqual(m.variables.filter((v) => !v.optimizerSlot).map((v) => v.key), ['w/.ATTRIBUTES/VARIABLE_VALUE', 'b/.ATTRIBUTES/VARIABLE_VALUE']);
  assert.deepEqual(m.variables.filter((v) => v.optimizerSlot).map((v) => v.name).sort(), ['SGD/decay', 'SGD/iter', 'SGD/learning_rate', 'SGD/momentum']);
});

test('real Keras 2 SavedModels: parts for the Keras builder (metadata source, object map)', async (t) => {
  if (!hasSharedFixtures) return t.skip('shared real fixtures absent');
  const cases = [
    { dir: 'openmv_mobilenet_bn', meta: 97, tf: '2.8.2' },
    { dir: 'kws_dscnn_bn_tf24', meta: null, tf: '2.3.2' },
    { dir: 'java_saved_model_using_python', meta: null, tf: '2.4.1' },
  ];
  for (const c of cases) {
    const dir = sharedReal(c.dir);
    if (!existsSync(dir)) continue;
    const parts = await readSavedModelParts(new NodeFileSource(dir), dir);
    assert.ok(!('tf1' in parts), c.dir);
    if ('tf1' in parts) continue;
    assert.equal(parts.kerasMetadata?.length ?? null, c.meta, c.dir);
    assert.equal(parts.tensorflowVersion, c.tf, c.dir);
    assert.ok(parts.objectGraph.nodes.some((n) => n.userObject?.identifier.startsWith('_tf_keras')), c.dir);
  }
});
