// keras-config.ts on the model configs real TensorFlow wrote: keras_metadata.pb (TF 2.8, TF 2.15), the object
// graph's user-object metadata (TF 2.4) and the generated tf_keras fixtures' expected.json (written by TF).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  batchNormParams,
  callTrainingOf,
  flattenKerasLayers,
  isBatchNormClass,
  kerasSnakeCase,
  parseKerasModelConfig,
  parsePythonJson,
  type FlatKerasLayer,
  type Json,
  type JsonObject,
} from '../../../src/core/formats/keras/keras-config';
import { ModelReadError } from '../../../src/core/io/errors';
import { REAL, generatedFixture, kerasMetadataNodes, objectGraphMetadata, readExpected } from './real-keras-files';

const LAYER_IDENTIFIERS = new Set(['_tf_keras_layer', '_tf_keras_network', '_tf_keras_sequential', '_tf_keras_model']);

function rootMetadata(dir: string): JsonObject {
  const root = kerasMetadataNodes(dir).find((n) => n.nodePath === 'root');
  assert.ok(root, 'keras_metadata.pb has a root node');
  return parsePythonJson(root.metadata, 'keras_metadata.pb', 'root metadata') as JsonObject;
}

/** Layer path of every metadata node, built from the names of its node_path ancestors. */
function metadataLayerPaths(dir: string): Map<string, { className: string; trainable: boolean }> {
  const nodes = kerasMetadataNodes(dir);
  const nameOf = new Map<string, string>();
  const meta = new Map<string, JsonObject>();
  for (const n of nodes) {
    const m = parsePythonJson(n.metadata, 'keras_metadata.pb', n.nodePath) as JsonObject;
    meta.set(n.nodePath, m);
    nameOf.set(n.nodePath, String(m['name']));
  }
  const out = new Map<string, { className: string; trainable: boolean }>();
  for (const n of nodes) {
    if (n.nodePath === 'root' || !LAYER_IDENTIFIERS.has(n.identifier)) continue;
    const parts = n.nodePath.split('.');
    const names: string[] = [];
    for (let i = 2; i <= parts.length; i++) names.push(nameOf.get(parts.slice(0, i).join('.'))!);
    const m = meta.get(n.nodePath)!;
    out.set(names.join('/'), { className: String(m['class_name']), trainable: m['trainable'] !== false });
  }
  return out;
}

test('openmv (TF 2.8): Sequential root holding a nested Sequential and a nested Functional', (t) => {
  if (!existsSync(REAL.openmv)) return t.skip('shared real fixtures absent');
  const root = parseKerasModelConfig(rootMetadata(REAL.openmv), 'keras_metadata.pb');
  assert.equal(root.className, 'Sequential');
  assert.equal(root.name, 'sequential_1');
  const { layers, duplicates } = flattenKerasLayers(root);
  assert.deepEqual(duplicates, []);
  assert.deepEqual(
    layers.filter((l) => l.parent === '').map((l) => [l.path, l.spec.className, l.spec.isModel]),
    [['sequential', 'Sequential', true], ['resizing', 'Resizing', false], ['model', 'Functional', true]],
  );
  assert.equal(layers.filter((l) => isBatchNormClass(l.spec.className)).length, 27);
  assert.ok(layers.every((l) => !l.spec.isInput), 'InputLayers are left out');
  // Every layer node TensorFlow recorded in keras_metadata.pb is in the tree with the same class and flag.
  const fromMetadata = metadataLayerPaths(REAL.openmv);
  assert.equal(fromMetadata.size, layers.length - 1);
  for (const [p, m] of fromMetadata) {
    const l = layers.find((x) => x.path === p);
    assert.ok(l, `layer ${p} from keras_metadata.pb`);
    assert.equal(l.spec.className, m.className, p);
    assert.equal(l.spec.configTrainable, m.trainable, p);
  }
  const bn = layers.find((l) => l.path === 'model/conv1_bn')!;
  assert.deepEqual(batchNormParams(bn.spec), { axis: [3], momentum: 0.99, epsilon: 0.001, center: true, scale: true, renorm: false, synchronized: false });
});

test('kws DS-CNN (TF 2.4): config from the object graph user-object metadata', (t) => {
  if (!existsSync(REAL.kws)) return t.skip('shared real fixtures absent');
  const metas = objectGraphMetadata(REAL.kws);
  const rootMeta = metas.find((m) => m.nodeId === 0)!;
  assert.equal(rootMeta.identifier, '_tf_keras_network');
  const root = parseKerasModelConfig(parsePythonJson(rootMeta.metadata, 'saved_model.pb', 'root metadata'), 'saved_model.pb');
  const { layers } = flattenKerasLayers(root);
  assert.equal(root.className, 'Functional');
  assert.equal(layers.filter((l) => isBatchNormClass(l.spec.className)).length, 9);
  assert.ok(layers.every((l) => l.trainable && l.spec.callTraining === null));
  // Each layer's own metadata in the object graph agrees with the root config.
  let checked = 0;
  for (const m of metas) {
    if (m.nodeId === 0 || m.identifier !== '_tf_keras_layer') continue;
    const j = parsePythonJson(m.metadata, 'saved_model.pb', `node ${m.nodeId}`) as JsonObject;
    const l = layers.find((x) => x.path === j['name']);
    assert.ok(l, `layer ${String(j['name'])}`);
    assert.equal(l.spec.className, j['class_name']);
    assert.equal(l.spec.configTrainable, j['trainable']);
    checked++;
  }
  assert.equal(checked, layers.length - 1);
});

function asExpectedLayers(layers: FlatKerasLayer[]): unknown[] {
  return layers
    .filter((l) => l.path !== '')
    .map((l) => ({
      path: l.path,
      class_name: l.spec.className,
      configTrainable: l.spec.configTrainable,
      effectiveTrainable: l.trainable,
      isModel: l.spec.isModel,
      parent: l.parent === '' ? null : l.parent,
    }));
}

for (const name of ['k2_cnn_bn', 'k2_cnn_bn_frozen', 'k2_nested_frozen_base']) {
  test(`${name} (tf_keras 2.15): layer tree and training= kwargs equal expected.json`, (t) => {
    const dir = generatedFixture(name);
    if (!dir) return t.skip('generated fixture absent');
    const expected = readExpected(dir);
    const root = parseKerasModelConfig(rootMetadata(`${dir}/saved_model`), 'keras_metadata.pb');
    const { layers } = flattenKerasLayers(root);
    assert.deepEqual(asExpectedLayers(layers), expected.layers);
    const calls = Object.fromEntries(layers.filter((l) => l.spec.callTraining !== null).map((l) => [l.path, l.spec.callTraining]));
    assert.deepEqual(calls, expected.callTrainingArgs ?? {});
    const bns = layers.filter((l) => isBatchNormClass(l.spec.className));
    assert.deepEqual(
      bns.map((l) => ({ layer: l.path, ...pick(batchNormParams(l.spec), ['momentum', 'epsilon', 'center', 'scale']), effectiveTrainable: l.trainable })),
      expected.batchNorms.map((b) => ({ layer: b.layer, momentum: b.momentum, epsilon: b.epsilon, center: b.center, scale: b.scale, effectiveTrainable: b.effectiveTrainable })),
    );
  });
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;
}

test('callTrainingOf: conflicting and missing training= values on a real inbound node', (t) => {
  const dir = generatedFixture('k2_nested_frozen_base');
  if (!dir) return t.skip('generated fixture absent');
  const layersJson = (rootMetadata(`${dir}/saved_model`)['config'] as JsonObject)['layers'] as JsonObject[];
  const base = layersJson.find((l) => l['name'] === 'base')!;
  const nodes = base['inbound_nodes'] as Json[];
  assert.deepEqual(callTrainingOf(nodes), { value: false, conflict: false });
  // A second call of the same layer with training=True: the recorded value is ambiguous.
  const flipped = JSON.parse(JSON.stringify(nodes).replace('"training":false', '"training":true')) as Json[];
  assert.deepEqual(callTrainingOf([...nodes, ...flipped]), { value: null, conflict: true });
  // training=None is "not recorded".
  const none = JSON.parse(JSON.stringify(nodes).replace('"training":false', '"training":null')) as Json[];
  assert.deepEqual(callTrainingOf(none), { value: null, conflict: false });
  assert.deepEqual(callTrainingOf(undefined), { value: null, conflict: false });
});

test('damaged real configs raise ModelReadError naming the file and the layer', (t) => {
  if (!existsSync(REAL.openmv)) return t.skip('shared real fixtures absent');
  const meta = rootMetadata(REAL.openmv);
  const damaged = JSON.parse(JSON.stringify(meta)) as JsonObject;
  const inner = ((damaged['config'] as JsonObject)['layers'] as JsonObject[])[3]!;
  delete ((inner['config'] as JsonObject)['layers'] as JsonObject[])[2]!['class_name'];
  assert.throws(
    () => parseKerasModelConfig(damaged, 'keras_metadata.pb'),
    (e: unknown) => e instanceof ModelReadError && e.message === 'keras_metadata.pb: model config: layer #2 of model has no class_name (found null)',
  );
  const notList = JSON.parse(JSON.stringify(meta)) as JsonObject;
  (notList['config'] as JsonObject)['layers'] = 'oops';
  assert.throws(() => parseKerasModelConfig(notList, 'keras_metadata.pb'), /"layers" of sequential_1 is not a list \(found "oops"\)/);
  assert.throws(
    () => parseKerasModelConfig([] as Json, 'x.h5'),
    (e: unknown) => e instanceof ModelReadError && e.message === 'x.h5: model config is not a JSON object (found a list)',
  );
});

test('parsePythonJson: NaN / Infinity tokens, depth limit, bad JSON', () => {
  assert.deepEqual(parsePythonJson('{"a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN Infinity \\"x"}', 'f', 'w'), {
    a: null,
    b: Infinity,
    c: -Infinity,
    s: 'NaN Infinity "x',
  });
  assert.throws(() => parsePythonJson('['.repeat(101) + ']'.repeat(101), 'm.h5', 'model_config'), (e: unknown) => e instanceof ModelReadError && e.reason === 'too-deep' && e.message.startsWith('m.h5: model_config nests deeper than 100'));
  assert.throws(() => parsePythonJson('{"a": ', 'm.h5', 'model_config'), (e: unknown) => e instanceof ModelReadError && e.reason === 'bad-json' && e.message.startsWith('m.h5: model_config is not valid JSON'));
});

test('parsePythonJson: escaped quotes and backslash runs inside strings do not end them early', () => {
  const text = JSON.stringify({ a: 'x\\', b: '"[{', c: '\\"{', d: ['q\\\\'] });
  assert.deepEqual(parsePythonJson(text, 'f', 'w'), JSON.parse(text));
  // Brackets inside strings do not count towards the depth limit; real ones after such strings do.
  const quoted = JSON.stringify({ s: '\\'.repeat(3) + '['.repeat(200) });
  assert.deepEqual(parsePythonJson(quoted, 'f', 'w'), JSON.parse(quoted));
  const deep = `["\\\\", ${'['.repeat(100)}${']'.repeat(100)}]`;
  assert.throws(() => parsePythonJson(deep, 'f', 'w'), (e: unknown) => e instanceof ModelReadError && e.reason === 'too-deep');
  assert.deepEqual(parsePythonJson('{"n": "\\"NaN", "v": NaN}', 'f', 'w'), { n: '"NaN', v: null });
});

test('kerasSnakeCase matches the group names Keras 3 writes', () => {
  const cases: [string, string][] = [
    ['BatchNormalization', 'batch_normalization'],
    ['Conv2D', 'conv2d'],
    ['DepthwiseConv2D', 'depthwise_conv2d'],
    ['GlobalAveragePooling2D', 'global_average_pooling2d'],
    ['InputLayer', 'input_layer'],
    ['SeparableConv2D', 'separable_conv2d'],
    ['Functional', 'functional'],
    ['ReLU', 're_lu'],
  ];
  for (const [cls, key] of cases) assert.equal(kerasSnakeCase(cls), key, cls);
});
