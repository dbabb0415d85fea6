// Every model we have, opened through the public entry point, checked against facts established
// independently of our readers: expected.json written by TensorFlow itself when each generated fixture
// was made, and for ../shared/fixtures/real the facts TensorFlow/h5py listed (shared-real-expected.json)
// plus the counts in that folder's README.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../../src/core/open';
import type { Model } from '../../../src/core/model/ir';
import { generatedFixtures, hasSharedFixtures, repoRoot, sharedReal } from '../../helpers/paths';

interface ExpectedVariable { name: string; key?: string; shape: number[]; dtype: string; trainable: boolean; layer?: string | null }
interface ExpectedLayer { path: string; class_name: string; configTrainable: boolean; effectiveTrainable: boolean; isModel: boolean; parent: string | null }
interface ExpectedBatchNorm { layer: string; momentum: number; epsilon: number; center: boolean; scale: boolean; effectiveTrainable?: boolean; gamma: string | null; beta: string | null; moving_mean: string; moving_variance: string }
interface Expected {
  fixture: string; path: string; format: string; tensorflow: string; keras?: string | null;
  variables: ExpectedVariable[]; layers?: ExpectedLayer[]; batchNorms?: ExpectedBatchNorm[];
  checkpointKeys?: { key: string; shape: number[]; dtype: string; role: 'variable' | 'optimizerSlot' | 'optimizerState' | 'metric' | 'objectGraph' }[];
}

function modelVariables(model: Model) {
  return model.variables.filter((v) => !v.optimizerSlot);
}

const fixtureDirs = existsSync(generatedFixtures)
  ? readdirSync(generatedFixtures).filter((d) => existsSync(path.join(generatedFixtures, d, 'expected.json'))).sort()
  : [];

test('generated fixtures exist', () => {
  assert.ok(fixtureDirs.length >= 10, `expected the committed generated fixtures, found ${fixtureDirs.length}`);
});

for (const dir of fixtureDirs) {
  const expected = JSON.parse(readFileSync(path.join(generatedFixtures, dir, 'expected.json'), 'utf8')) as Expected;
  test(`generated/${dir}: variables, layers and BatchNorms match what TensorFlow listed`, async () => {
    const handle = await openModel(path.join(repoRoot, expected.path));
    try {
      const model = handle.model;
      // Versions as the file records them: SavedModels and .meta carry TensorFlow's, Keras files Keras'.
      const kerasFile = model.format === 'keras-h5' || model.format === 'keras-v3';
      assert.equal(model.tensorflowVersion, kerasFile ? null : expected.tensorflow, 'tensorflowVersion');
      if (kerasFile || model.format === 'saved-model-keras') assert.equal(model.kerasVersion, expected.keras, 'kerasVersion');
      const vars = new Map(modelVariables(model).map((v) => [v.name, v]));
      assert.deepEqual([...vars.keys()].sort(), expected.variables.map((v) => v.name).sort(), 'variable names');
      for (const ev of expected.variables) {
        const v = vars.get(ev.name)!;
        assert.deepEqual(v.shape, ev.shape, `${ev.name} shape`);
        assert.equal(v.dtype, ev.dtype, `${ev.name} dtype`);
        assert.equal(v.trainable, ev.trainable, `${ev.name} effective trainable`);
        if (ev.key) assert.equal(v.key, ev.key, `${ev.name} checkpoint key`);
        if (ev.layer !== undefined && ev.layer !== null) assert.equal(v.layer, ev.layer, `${ev.name} layer`);
      }
      if (expected.layers) {
        const layers = new Map(model.layers.map((l) => [l.path, l]));
        for (const el of expected.layers) {
          const l = layers.get(el.path);
          assert.ok(l, `layer ${el.path} missing (have ${[...layers.keys()].join(', ')})`);
          assert.equal(l.className, el.class_name, `${el.path} class`);
          assert.equal(l.configTrainable, el.configTrainable, `${el.path} configTrainable`);
          assert.equal(l.trainable, el.effectiveTrainable, `${el.path} effective trainable`);
        }
      }
      const byKey = new Map(model.variables.map((v) => [v.key, v]));
      const nameOf = (key: string | null) => (key === null ? null : byKey.get(key)?.name ?? `?${key}`);
      const expectedBns = expected.batchNorms ?? [];
      assert.deepEqual(model.batchNorms.map((b) => b.layer).sort(), expectedBns.map((b) => b.layer).sort(), 'BatchNorm layers');
      for (const eb of expectedBns) {
        const b = model.batchNorms.find((x) => x.layer === eb.layer)!;
        assert.equal(b.momentum, eb.momentum, `${eb.layer} momentum`);
        assert.equal(b.epsilon, eb.epsilon, `${eb.layer} epsilon`);
        assert.equal(b.center, eb.center, `${eb.layer} center`);
        assert.equal(b.scale, eb.scale, `${eb.layer} scale`);
        // TF1 graphs have no layer flag: a BN is trainable when its gamma/beta are in trainable_variables.
        const gammaOrBeta = expected.variables.find((v) => v.name === (eb.gamma ?? eb.beta));
        assert.equal(b.trainable, eb.effectiveTrainable ?? gammaOrBeta?.trainable, `${eb.layer} trainable`);
        assert.equal(nameOf(b.gamma), eb.gamma, `${eb.layer} gamma`);
        assert.equal(nameOf(b.beta), eb.beta, `${eb.layer} beta`);
        assert.equal(nameOf(b.movingMean), eb.moving_mean, `${eb.layer} moving_mean`);
        assert.equal(nameOf(b.movingVariance), eb.moving_variance, `${eb.layer} moving_variance`);
      }
      if (expected.checkpointKeys) {
        for (const ck of expected.checkpointKeys) {
          if (ck.role === 'objectGraph' || ck.role === 'metric') continue;
          const v = byKey.get(ck.key);
          assert.ok(v, `checkpoint key ${ck.key} has no variable`);
          assert.deepEqual(v.shape, ck.shape, `${ck.key} shape`);
          assert.equal(v.optimizerSlot, ck.role !== 'variable', `${ck.key} optimizerSlot`);
        }
      }
    } finally {
      await handle.close();
    }
  });
}

// Counts from ../shared/fixtures/README.md: variables (+ optimizer slots), BatchNorm layers, TF version.
const sharedTable: [string, string, number, number, number][] = [
  ['openmv_mobilenet_bn', '2.8.2', 150, 166, 27],
  ['kws_dscnn_bn_tf24', '2.3.2', 65, 76, 9],
  ['rust_regression_tf1_train', '1.7.0', 2, 0, 0],
  ['rust_regression_tf25_module', '2.5.0', 6, 0, 0],
  ['java_saved_model_using_python', '2.4.1', 1, 0, 0],
  ['serving_half_plus_two_cpu', '1.14.0', 5, 0, 0],
  ['serving_half_plus_two_tf2_cpu', '2.14.0', 3, 0, 0],
  ['serving_counter', '1.5.0-rc1', 1, 0, 0],
  ['serving_half_plus_two_mkl', '1.12.0-rc0', 9, 0, 0],
  ['java_half_plus_two', '1.1.0-rc2', 3, 0, 0],
  ['tfjs_times_three_float', '2.0.0-beta1', 1, 0, 0],
  ['tfjs_module_with_multiple_signatures', '2.0.0-beta1', 2, 0, 0],
  ['tfjs_model_multi_output', '2.0.0', 2, 0, 0],
  ['tfjs_int64_multiply', '2.3.1', 2, 0, 0],
  ['h5_tiny_resnet8_bn', '', 48, 0, 7],
  ['h5_tiny_vww_mobilenet_bn', '', 164, 0, 27],
  ['vespa_tf1_batchnorm_train', '1.4.1', 18, 0, 3], // README says 0 BN layers; the graph has 3 (tf.layers.batch_normalization, moments form),
  ['vespa_modelv1', '1.12.0', 29, 0, 0],
];

interface SharedFacts {
  kind: 'h5' | 'saved-model';
  file?: string;
  keras_version?: string;
  datasets?: { key: string; shape: number[]; dtype: string }[];
  checkpoint?: { key: string; shape: number[]; dtype: string }[];
}
const sharedFacts = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/shared-real-expected.json'), 'utf8')) as Record<string, SharedFacts>;

/** What the checkpoint entry is, by TensorFlow's own key conventions (independent of our readers). */
function entryKind(key: string): 'metric' | 'optimizer' | 'variable' {
  if (key.startsWith('keras_api/metrics/') || key === 'save_counter/.ATTRIBUTES/VARIABLE_VALUE') return 'metric';
  if (key.includes('.OPTIMIZER_SLOT') || key.startsWith('optimizer/')) return 'optimizer';
  return 'variable';
}

for (const [name, tfVersion, readmeTotal, readmeSlots, nBn] of sharedTable) {
  test(`shared/${name}: counts and checkpoint entries`, { skip: hasSharedFixtures ? false : 'shared fixtures absent' }, async () => {
    const facts = sharedFacts[name]!;
    const target = facts.kind === 'h5' ? sharedReal(name, facts.file!) : sharedReal(name);
    const handle = await openModel(target);
    try {
      const model = handle.model;
      if (tfVersion) assert.equal(model.tensorflowVersion, tfVersion);
      else assert.equal(model.kerasVersion, facts.keras_version);
      let entries: { key: string; shape: number[]; dtype: string; kind: 'metric' | 'optimizer' | 'variable' }[];
      if (facts.kind === 'h5') {
        entries = (facts.datasets ?? []).map((d) => ({ ...d, dtype: d.dtype, kind: d.key.startsWith('/optimizer_weights/') ? 'optimizer' : 'variable' }));
      } else {
        entries = (facts.checkpoint ?? []).map((e) => ({ ...e, kind: entryKind(e.key) }));
        // The README counts every checkpoint entry: model variables + metrics + optimizer state, then the slots.
        assert.equal(entries.length, readmeTotal + readmeSlots, 'README total vs TensorFlow listing');
      }
      const expectVars = entries.filter((e) => e.kind === 'variable');
      const expectSlots = entries.filter((e) => e.kind === 'optimizer');
      if (facts.kind === 'h5') assert.equal(expectVars.length, readmeTotal, 'README count vs h5py listing');
      const vars = modelVariables(model);
      assert.equal(vars.length, expectVars.length, 'model variables');
      assert.equal(model.variables.length - vars.length, expectSlots.length, 'optimizer slots and state');
      assert.equal(model.batchNorms.length, nBn, 'BatchNorm layers');
      const byKey = new Map(model.variables.map((v) => [v.key, v]));
      for (const e of [...expectVars, ...expectSlots]) {
        const v = byKey.get(e.key);
        assert.ok(v, `entry ${e.key} has no variable`);
        assert.deepEqual(v.shape, e.shape, `${e.key} shape`);
        if (facts.kind !== 'h5') assert.equal(v.dtype, e.dtype, `${e.key} dtype`);
        assert.equal(v.optimizerSlot, e.kind === 'optimizer', `${e.key} optimizerSlot`);
      }
      for (const bn of model.batchNorms) {
        for (const k of [bn.gamma, bn.beta, bn.movingMean, bn.movingVariance]) if (k !== null) assert.ok(byKey.has(k), `${bn.layer}: ${k}`);
      }
    } finally {
      await handle.close();
    }
  });
}
