// openKerasV3 on the Keras 3.15 `.keras` archives generated with real TensorFlow 2.21 / Keras 3, checked
// field by field against the expected.json Keras wrote, plus damaged copies.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { ModelReadError } from '../../../src/core/io/errors';
import { openKerasV3 } from '../../../src/core/formats/keras/open-keras-v3';
import { ZipArchive } from '../../../src/core/formats/zip/zip';
import { Hdf5File, Group } from '../../../src/core/formats/hdf5/file';
import { keras3LayerKeys, parseKerasModelConfig, parsePythonJson, type KerasLayerSpec } from '../../../src/core/formats/keras/keras-config';
import type { ModelHandle } from '../../../src/core/model/ir';
import { generatedFixture, readExpected } from './real-keras-files';
import { assertMatchesExpected } from './expected-compare';

function open(file: string): Promise<ModelHandle> {
  return openKerasV3(new NodeFileSource(path.dirname(file)), path.basename(file), file);
}

const K3 = ['k3_cnn_bn', 'k3_cnn_bn_frozen', 'k3_nested_frozen_base'];

for (const fixture of K3) {
  test(`${fixture} (.keras, Keras 3.15): variables, layers, BatchNorms and optimizer weights equal expected.json`, async (t) => {
    const dir = generatedFixture(fixture);
    if (!dir) return t.skip('generated fixture absent');
    const expected = readExpected(dir);
    const handle = await open(path.join(dir, `${fixture}.keras`));
    const m = handle.model;
    assert.equal(m.format, 'keras-v3');
    assert.equal(m.kerasVersion, expected.keras);
    assert.equal(m.kerasMetadataSource, 'config.json');
    assert.deepEqual(m.warnings, []);
    assertMatchesExpected(m, expected);
    const expectedKeys = (expected as unknown as { artifacts: { format: string; checkpointKeys: { key: string; shape: number[]; dtype: string; role: string }[] }[] }).artifacts
      .find((a) => a.format === 'keras3-keras')!.checkpointKeys;
    const optimizer = m.variables.filter((v) => v.optimizerSlot);
    assert.deepEqual(
      optimizer.map((v) => ({ key: v.key, shape: [...v.shape], dtype: v.dtype })).sort((a, b) => a.key.localeCompare(b.key)),
      expectedKeys.filter((k) => k.role.startsWith('optimizer')).map((k) => ({ key: k.key, shape: k.shape, dtype: k.dtype })).sort((a, b) => a.key.localeCompare(b.key)),
    );
    const bn = m.batchNorms.at(-1)!;
    const gamma = await handle.readTensor(bn.gamma!);
    assert.deepEqual([gamma.dtype, gamma.shape], ['float32', m.variables.find((v) => v.key === bn.gamma)!.shape]);
    await handle.close();
  });
}

test('keras3LayerKeys predicts the weight-file group of every layer (used when `vars` has no name attribute)', async (t) => {
  const dir = generatedFixture('k3_nested_frozen_base');
  if (!dir) return t.skip('generated fixture absent');
  const file = path.join(dir, 'k3_nested_frozen_base.keras');
  const zip = await ZipArchive.open(new NodeFileSource(dir), path.basename(file));
  const root = parseKerasModelConfig(parsePythonJson(new TextDecoder().decode(await zip.read('config.json')), file, 'config.json'), file);
  const h5 = await Hdf5File.open(zip.fileSource(), 'model.weights.h5');
  let checked = 0;
  const check = async (spec: KerasLayerSpec, prefix: string): Promise<void> => {
    const keys = keras3LayerKeys(spec.layers, spec.className === 'Sequential');
    for (let i = 0; i < keys.length; i++) {
      const vars = await h5.get(`${prefix}layers/${keys[i]}/vars`);
      assert.ok(vars instanceof Group, `${prefix}layers/${keys[i]}`);
      assert.equal((await vars.attrs())['name'], spec.layers[i]!.name);
      checked++;
      if (spec.layers[i]!.isModel) await check(spec.layers[i]!, `${prefix}layers/${keys[i]}/`);
    }
  };
  await check(root, '');
  assert.equal(checked, 17);
});

/** A temp copy of `source` with the first (or last) occurrence of `from` replaced by the same-length `to`. */
function damaged(source: string, from: string, to: string, t: { after: (fn: () => void) => void }, last = false): string {
  assert.equal(Buffer.byteLength(from), Buffer.byteLength(to));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-v3-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = readFileSync(source);
  const at = last ? bytes.lastIndexOf(from) : bytes.indexOf(from);
  assert.ok(at >= 0, `"${from}" occurs in ${source}`);
  bytes.write(to, at);
  const target = path.join(dir, path.basename(source));
  writeFileSync(target, bytes);
  return target;
}

test('damaged copies of a real .keras give ModelReadError or a warning, never a crash', async (t) => {
  const dir = generatedFixture('k3_nested_frozen_base');
  if (!dir) return t.skip('generated fixture absent');
  const file = path.join(dir, 'k3_nested_frozen_base.keras');
  // config.json bytes changed: the stored CRC-32 no longer matches.
  const crc = damaged(file, '"class_name": "Functional"', '"class_name": "Functionak"', t);
  await assert.rejects(open(crc), (e: unknown) => e instanceof ModelReadError && e.reason === 'crc-mismatch' && e.file === crc);
  // The weights entry renamed in the central directory: structure only, with a warning.
  const noWeights = damaged(file, 'model.weights.h5', 'model.weights.hX', t, true);
  const m = (await open(noWeights)).model;
  assert.equal(m.variables.length, 0);
  assert.equal(m.batchNorms.length, 4);
  assert.deepEqual(m.warnings.map((w) => w.code), ['missing-checkpoint']);
  // No config.json at all.
  const noConfig = damaged(file, 'config.json', 'config.jsoX', t, true);
  await assert.rejects(open(noConfig), (e: unknown) => e instanceof ModelReadError && e.message === `${noConfig}: is a zip archive without config.json, so not a Keras model`);
  // A truncated archive.
  const tdir = mkdtempSync(path.join(os.tmpdir(), 'fi-keras-v3-'));
  t.after(() => rmSync(tdir, { recursive: true, force: true }));
  const truncated = path.join(tdir, 'truncated.keras');
  writeFileSync(truncated, readFileSync(file).subarray(0, 20000));
  await assert.rejects(open(truncated), (e: unknown) => e instanceof ModelReadError && e.file === truncated);
});
