// Support check and topology conversion on real Keras configs (tf_keras SavedModel metadata, .h5, Keras 3
// .keras), plus copies of them with one option changed to something tfjs would silently ignore.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { generated, sharedReal } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { checkSupport, normalizeKerasConfig, recordedTrainingKwargs, toTfjsTopology } from '../../../src/core/finetune/tfjs/keras-config';

type Json = Record<string, unknown>;

async function configOf(p: string): Promise<Json> {
  const h = await openModel(p);
  try {
    return h.model.kerasConfig as Json;
  } finally {
    await h.close();
  }
}

function layers(cfg: Json): Json[] {
  return ((cfg.config as Json).layers as Json[]);
}

function findLayer(cfg: Json, name: string): Json {
  for (const l of layers(cfg)) {
    if (l.name === name || (l.config as Json).name === name) return l;
    if (Array.isArray((l.config as Json).layers)) {
      const inner = (l.config as Json).layers as Json[];
      const hit = inner.find((x) => x.name === name);
      if (hit) return hit;
    }
  }
  throw new Error(`no layer ${name}`);
}

const sources = [
  ['tf_keras SavedModel (keras_metadata.pb)', generated('k2_nested_frozen_base/saved_model')],
  ['tf_keras .h5', generated('k2_nested_frozen_base_h5/k2_nested_frozen_base.h5')],
  ['Keras 3 .keras', generated('k3_nested_frozen_base')],
  ['MobileNet .h5 (shared)', sharedReal('h5_tiny_vww_mobilenet_bn/vww_96.h5')],
  ['ResNet8 .h5 (shared)', sharedReal('h5_tiny_resnet8_bn/pretrainedResnet.h5')],
] as const;

for (const [what, p] of sources) {
  test(`real config is supported as written: ${what}`, { skip: !existsSync(p) && `${p} absent` }, async () => {
    const cfg = await configOf(p);
    assert.deepEqual(checkSupport(cfg), []);
    const topo = toTfjsTopology(cfg);
    // Tuples decoded, Keras 3 nodes converted to Keras 2 lists, BN axis an integer.
    assert.doesNotMatch(JSON.stringify(topo), /__tuple__|__keras_tensor__|"batch_shape"/);
    const json = JSON.stringify(topo);
    assert.doesNotMatch(json, /"axis":\[\d+\]/);
  });
}

test('recorded training=False of a nested call is found (tf_keras metadata and Keras 3)', async (t) => {
  for (const p of [generated('k2_nested_frozen_base/saved_model'), generated('k3_nested_frozen_base')]) {
    if (!existsSync(p)) {
      t.diagnostic(`${p} absent`);
      continue;
    }
    assert.deepEqual(recordedTrainingKwargs(await configOf(p)), { base: false }, p);
  }
});

test('options tfjs would silently ignore are refused, with the layer path', { skip: !existsSync(generated('k2_nested_frozen_base/saved_model')) && 'fixture absent' }, async () => {
  const base = normalizeKerasConfig(await configOf(generated('k2_nested_frozen_base/saved_model'))) as Json;
  const damaged = structuredClone(base);
  (findLayer(damaged, 'conv1').config as Json).groups = 2;
  (findLayer(damaged, 'relu1').config as Json).negative_slope = 0.1;
  (findLayer(damaged, 'bn2').config as Json).renorm = true;
  (findLayer(damaged, 'fc').config as Json).kernel_constraint = { class_name: 'MaxNorm', config: { max_value: 2 } };
  (findLayer(damaged, 'head').config as Json).activation = 'hard_sigmoid';
  (findLayer(damaged, 'fc').config as Json).dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'mixed_float16' } };
  const got = checkSupport(damaged).map((u) => `${u.layer} ${u.className} ${u.what}`);
  assert.deepEqual(got.sort(), [
    'base/bn2 BatchNormalization renorm=True',
    'base/conv1 Conv2D groups=2',
    'base/relu1 ReLU negative_slope=0.1',
    'fc Dense dtype="mixed_float16"',
    'fc Dense kernel_constraint',
    'head Dense activation=hard_sigmoid',
  ]);
});

test('an unknown layer class and a subclassed model are listed by name', { skip: !existsSync(generated('k2_cnn_bn/saved_model')) && 'fixture absent' }, async () => {
  const cfg = normalizeKerasConfig(await configOf(generated('k2_cnn_bn/saved_model'))) as Json;
  const damaged = structuredClone(cfg);
  findLayer(damaged, 'relu1').class_name = 'Lambda';
  assert.deepEqual(checkSupport(damaged), [{ layer: 'relu1', className: 'Lambda', what: 'layer class Lambda' }]);
  assert.deepEqual(checkSupport({ class_name: 'SmallNet', config: {} }), [{ layer: '', className: 'SmallNet', what: 'model class SmallNet (only Functional and Sequential models can be rebuilt)' }]);
  assert.equal(checkSupport(null)[0]!.what, 'no Keras model config in this file');
});

test('L2 regularizers become tfjs L1L2; per-node training kwargs are removed from the topology', { skip: !existsSync(sharedReal('h5_tiny_resnet8_bn/pretrainedResnet.h5')) && 'shared fixture absent' }, async () => {
  const topo = toTfjsTopology(await configOf(sharedReal('h5_tiny_resnet8_bn/pretrainedResnet.h5')));
  const json = JSON.stringify(topo);
  assert.match(json, /"kernel_regularizer":\{"class_name":"L1L2","config":\{"l1":0,"l2":/);
  assert.doesNotMatch(json, /"class_name":"L2"/);
});
