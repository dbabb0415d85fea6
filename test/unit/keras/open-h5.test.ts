// openKerasH5 on real Keras HDF5 files: the generated tf_keras 2.15 fixtures (checked field by field against
// the expected.json TensorFlow wrote), the MLPerf Tiny Keras 2.4 models, and damaged copies of them.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { ModelReadError } from '../../../src/core/io/errors';
import { openKerasH5 } from '../../../src/core/formats/keras/open-h5';
import { flattenKerasLayers, parseKerasModelConfig, type Json } from '../../../src/core/formats/keras/keras-config';
import { assignWeightOwners } from '../../../src/core/formats/keras/weight-owners';
import type { ModelHandle } from '../../../src/core/model/ir';
import { REAL, generatedFixture, readExpected } from './real-keras-files';
import { assertMatchesExpected } from './expected-compare';

function open(file: string): Promise<ModelHandle> {
  return openKerasH5(new NodeFileSource(path.dirname(file)), path.basename(file), file);
}

const H5_FIXTURES: [string, string][] = [
  ['k2_cnn_bn_h5', 'k2_cnn_bn.h5'],
  ['k2_nested_frozen_base_h5', 'k2_nested_frozen_base.h5'],
];

for (const [fixture, file] of H5_FIXTURES) {
  test(`${fixture}: variables, layers, BatchNorms and optimizer weights equal expected.json`, async (t) => {
    const dir = generatedFixture(fixture);
    if (!dir) return t.skip('generated fixture absent');
    const expected = readExpected(dir);
    const handle = await open(path.join(dir, file));
    const m = handle.model;
    assert.equal(m.format, 'keras-h5');
    assert.equal(m.kerasVersion, expected.keras);
    assert.equal(m.kerasMetadataSource, 'h5-model_config');
    assert.deepEqual(m.warnings, []);
    assertMatchesExpected(m, expected);
    const optimizer = m.variables.filter((v) => v.optimizerSlot);
    const expectedOptimizer = expected.checkpointKeys.filter((k) => k.key.startsWith('/optimizer_weights/'));
    assert.deepEqual(
      optimizer.map((v) => ({ key: v.key, shape: [...v.shape], dtype: v.dtype })).sort((a, b) => a.key.localeCompare(b.key)),
      expectedOptimizer.map((k) => ({ key: k.key, shape: k.shape, dtype: k.dtype })).sort((a, b) => a.key.localeCompare(b.key)),
    );
    assert.ok(optimizer.every((v) => !v.trainable && v.layer === null && v.savedTrainable === null));
    const root = m.layers.find((l) => l.path === '')!;
    assert.deepEqual([root.isModel, root.parent, root.className], [true, null, 'Functional']);
    // Values decode on demand with the shape and dtype the structure promised.
    const bn = m.batchNorms[0]!;
    const mv = await handle.readTensor(bn.movingVariance!);
    const v = m.variables.find((x) => x.key === bn.movingVariance)!;
    assert.deepEqual([mv.dtype, mv.shape], [v.dtype, v.shape]);
    await assert.rejects(handle.readTensor('nope'), (e: unknown) => e instanceof ModelReadError && e.message.endsWith('has no variable with key "nope"'));
    await handle.close();
  });
}

const REAL_H5: [string, string, number, number, number][] = [
  ['resnet8', REAL.resnet8, 48, 69, 7],
  ['vww mobilenet', REAL.vww, 164, 221, 27],
];

for (const [label, file, nVars, nOptimizer, nBn] of REAL_H5) {
  test(`MLPerf Tiny ${label} (Keras 2.4 .h5): ${nVars} variables, ${nBn} BatchNorms`, async (t) => {
    if (!existsSync(file)) return t.skip('shared real fixtures absent');
    const handle = await open(file);
    const m = handle.model;
    assert.equal(m.kerasVersion, '2.4.0');
    assert.deepEqual(m.warnings, []);
    const vars = m.variables.filter((v) => !v.optimizerSlot);
    assert.equal(vars.length, nVars);
    assert.equal(m.variables.length - vars.length, nOptimizer);
    assert.equal(m.batchNorms.length, nBn);
    for (const b of m.batchNorms) {
      assert.ok(b.gamma && b.beta && b.movingMean && b.movingVariance, b.layer);
      assert.equal(b.trainable, true);
    }
    // Nothing is frozen in these models: exactly the moving statistics are non-trainable.
    assert.deepEqual(
      vars.filter((v) => !v.trainable).map((v) => v.role).sort(),
      Array.from({ length: 2 * nBn }, (_, i) => (i < nBn ? 'moving_mean' : 'moving_variance')),
    );
    // Each variable sits in its own top-level layer group, named like the layer.
    for (const v of vars) assert.equal(v.key, `/model_weights/${v.layer}/${v.name}:0`);
    assert.ok(m.variables.some((v) => v.key === '/optimizer_weights/Adam/iter:0' && v.dtype === 'int64' && v.shape.length === 0));
    await handle.close();
  });
}

test('nested model weights: storage order gives the same owners when the names identify no layer', async (t) => {
  const dir = generatedFixture('k2_nested_frozen_base_h5');
  if (!dir) return t.skip('generated fixture absent');
  const handle = await open(path.join(dir, 'k2_nested_frozen_base.h5'));
  const m = handle.model;
  const root = parseKerasModelConfig(m.kerasConfig as Json, 'k2_nested_frozen_base.h5');
  const { layers } = flattenKerasLayers(root);
  const base = layers.find((l) => l.path === 'base')!;
  const baseVars = m.variables.filter((v) => v.key.startsWith('/model_weights/base/'));
  const names = baseVars.map((v) => v.key.slice('/model_weights/base/'.length));
  assert.deepEqual(assignWeightOwners(base, layers, names, 'keras2'), baseVars.map((v) => v.layer));
  // The same weights named without their layer ('kernel:0'): only the order can tell.
  const bare = names.map((n) => n.split('/').pop()!);
  assert.deepEqual(assignWeightOwners(base, layers, bare, 'keras2'), baseVars.map((v) => v.layer));
  // One weight too many: the order no longer fits the inferred weight lists, so nothing is guessed.
  assert.deepEqual(assignWeightOwners(base, layers, [...bare, 'extra:0'], 'keras2'), [...bare, 'extra:0'].map(() => null));
});

/** Copies a real file into a temp dir, replaces one same-length byte string in it, and returns the copy's path. */
function damagedCopy(source: string, from: string, to: string, t: { after: (fn: () => void) => void }): string {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-h5-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const target = path.join(dir, path.basename(source));
  const bytes = readFileSync(source);
  const at = bytes.indexOf(from);
  assert.ok(at >= 0, `"${from}" occurs in ${source}`);
  bytes.write(to, at);
  writeFileSync(target, bytes);
  return target;
}

test('damaged copies of a real .h5 give ModelReadError or a warning, never a crash', async (t) => {
  if (!existsSync(REAL.resnet8)) return t.skip('shared real fixtures absent');
  // model_config without a class_name for the root model.
  const noClass = damagedCopy(REAL.resnet8, '{"class_name": "Functional"', '{"class_nam!": "Functional"', t);
  await assert.rejects(open(noClass), (e: unknown) => e instanceof ModelReadError && e.message === `${noClass}: model_config: the root model has no class_name (found null)`);
  // A weight_names entry that names no dataset.
  const badWeight = damagedCopy(REAL.resnet8, 'conv2d_1/kernel:0', 'conv2d_1/kernEl:0', t);
  await assert.rejects(
    open(badWeight),
    (e: unknown) => e instanceof ModelReadError && e.message === `${badWeight}: model_weights/conv2d_1 lists weight "conv2d_1/kernEl:0" but has no dataset for it`,
  );
  // model_config that is not JSON.
  const notJson = damagedCopy(REAL.resnet8, '{"class_name": "Functional"', '{"class_name"; "Functional"', t);
  await assert.rejects(open(notJson), (e: unknown) => e instanceof ModelReadError && e.reason === 'bad-json' && e.message.startsWith(`${notJson}: model_config is not valid JSON`));
  // A config whose root lists no layers: weights are still listed, each flagged as belonging to no known layer.
  const noLayers = damagedCopy(REAL.resnet8, '"layers": [{"class_name": "InputLayer"', '"layerz": [{"class_name": "InputLayer"', t);
  const degraded = (await open(noLayers)).model;
  assert.equal(degraded.variables.filter((v) => !v.optimizerSlot).length, 48);
  assert.ok(degraded.variables.every((v) => v.layer === null));
  assert.deepEqual(degraded.warnings.map((w) => w.code), ['unknown-layer']);
  // Truncated file.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-h5-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const truncated = path.join(dir, 'truncated.h5');
  copyFileSync(REAL.resnet8, truncated);
  writeFileSync(truncated, readFileSync(truncated).subarray(0, 4096));
  await assert.rejects(open(truncated), (e: unknown) => e instanceof ModelReadError && e.file === truncated);
});

test('an HDF5 file that is not a Keras model is rejected by name', async (t) => {
  if (!existsSync(REAL.resnet8)) return t.skip('shared real fixtures absent');
  const renamed = damagedCopy(REAL.resnet8, 'model_config', 'model_confiX', t);
  await assert.rejects(open(renamed), (e: unknown) => e instanceof ModelReadError && e.reason === 'not-keras' && e.message === `${renamed}: is an HDF5 file but not a Keras model: it has no model_config attribute`);
});
