// TF2 SavedModels this reader builds itself (tf.Module, Keras 3 export), compared with expected.json.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { openSavedModel } from '../../../src/core/formats/saved-model/open';
import { generated } from '../../helpers/paths';

interface ExpVar { name: string; key: string; shape: number[]; dtype: string; trainable: boolean; layer: string | null; createdTrainable: boolean; keys?: { export?: string[] } }
interface ExpBn { layer: string; gamma: string | null; beta: string | null; moving_mean: string; moving_variance: string; epsilon: number; effectiveTrainable?: boolean }
interface Exp { variables: ExpVar[]; batchNorms: ExpBn[]; tensorflow: string }

function load(fx: string): Exp | null {
  const p = generated(fx, 'expected.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Exp) : null;
}

test('tf_module: tf.Module variables, trainability from SavedVariable.trainable', async (t) => {
  const exp = load('tf_module');
  if (!exp) return t.skip('generated fixture absent');
  const dir = generated('tf_module', 'saved_model');
  const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
  assert.equal(m.format, 'saved-model-tf2');
  assert.equal(m.tensorflowVersion, exp.tensorflow);
  assert.deepEqual(m.variables.map((v) => v.name).sort(), exp.variables.map((v) => v.name).sort());
  for (const e of exp.variables) {
    const v = m.variables.find((x) => x.name === e.name)!;
    assert.equal(v.key, e.key);
    assert.deepEqual(v.shape, e.shape);
    assert.equal(v.dtype, e.dtype);
    assert.equal(v.trainable, e.trainable);
    assert.equal(v.savedTrainable, e.createdTrainable);
    assert.equal(v.layer, e.layer);
  }
  assert.deepEqual(m.batchNorms, []);
});

for (const fx of ['k3_cnn_bn', 'k3_cnn_bn_frozen', 'k3_nested_frozen_base']) {
  test(`${fx}/export: Keras 3 export, effective trainable from the root's trainable_variables`, async (t) => {
    const exp = load(fx);
    const dir = generated(fx, 'export');
    if (!exp || !existsSync(path.join(dir, 'saved_model.pb'))) return t.skip('generated fixture absent');
    const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
    assert.equal(m.format, 'saved-model-keras3-export');
    assert.deepEqual(m.variables.map((v) => v.name).sort(), exp.variables.map((v) => v.name).sort());
    for (const e of exp.variables) {
      const v = m.variables.find((x) => x.name === e.name)!;
      assert.equal(v.key, e.keys?.export?.[0], e.name);
      assert.deepEqual(v.shape, e.shape, e.name);
      assert.equal(v.dtype, e.dtype, e.name);
      assert.equal(v.trainable, e.trainable, e.name);
      assert.equal(v.savedTrainable, e.createdTrainable, e.name);
      // an export does not record nested models: 'base/bn1' shows as 'bn1'
      assert.equal(v.layer, e.layer?.split('/').pop() ?? null, e.name);
    }
    const leaf = (p: string): string => p.split('/').pop()!;
    assert.deepEqual(m.batchNorms.map((b) => b.layer).sort(), exp.batchNorms.map((b) => leaf(b.layer)).sort());
    for (const e of exp.batchNorms) {
      const b = m.batchNorms.find((x) => x.layer === leaf(e.layer))!;
      const keyOf = (name: string | null): string | null => (name === null ? null : m.variables.find((v) => v.name === name)!.key);
      assert.equal(b.gamma, keyOf(e.gamma));
      assert.equal(b.beta, keyOf(e.beta));
      assert.equal(b.movingMean, keyOf(e.moving_mean));
      assert.equal(b.movingVariance, keyOf(e.moving_variance));
      assert.equal(b.epsilon, e.epsilon);
      assert.equal(b.trainable, e.effectiveTrainable);
    }
  });
}
