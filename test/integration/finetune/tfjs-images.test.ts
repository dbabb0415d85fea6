// The TensorFlow.js engine trains on a folder of images (config verify.data {"kind": "images"}): the committed
// image folder (test/fixtures/generated/images, PNG/JPEG/BMP/GIF written with TensorFlow) on the k2_cnn_bn
// fixture, whose input is (16, 16, 3) and output 4. Two class folders != 4 outputs: synthetic targets; the same
// files in four class folders: one-hot labels. The batches the engine builds are the decoded, resized images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { generated } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { defaultFreezeConfig } from '../../../src/core/analysis/freeze-config';
import { buildVerifyRequest } from '../../../src/core/finetune/plan';
import { loadUserData, takeBatch } from '../../../src/core/finetune/data';
import { makeBatches, runTfjsVerification } from '../../../src/core/finetune/tfjs/tfjs-engine';
import type { VerifyRequest } from '../../../src/core/finetune/types';

const k2 = generated('k2_cnn_bn/saved_model');
const images = generated('images/folder');
const skip = !(existsSync(k2) && existsSync(images)) && 'fixtures absent';

async function request(dataPath: string, freeze: string[] = []): Promise<VerifyRequest> {
  const h = await openModel(k2);
  try {
    const config = { ...defaultFreezeConfig(k2), freeze };
    return buildVerifyRequest({ requestId: 'img', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { steps: 3, batchSize: 4, optimizer: 'sgd', learningRate: 0.01, seed: 7, data: { kind: 'images', path: dataPath } } });
  } finally {
    await h.close();
  }
}

test('tfjs engine: the committed image folder (2 classes for 4 outputs: synthetic targets), run completes in agreement', { skip, timeout: 120_000 }, async () => {
  const d = await loadUserData('images', images, [16, 16, 3], [4]);
  assert.deepEqual(d.x.shape, [29, 16, 16, 3]);
  assert.equal(d.y, null, '2 sub-folders, 4 outputs: no labels');
  assert.ok(d.x.data.every((v) => v >= 0 && v <= 255) && d.x.data.some((v) => v > 200));
  const req = await request(images, ['conv1']);
  const r = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
  assert.equal(r.loss.length, 3);
  assert.ok(r.loss.every(Number.isFinite));
  assert.equal(r.data, `images: ${images}`);
  assert.equal(r.agreement, 1);
  assert.ok(!r.variables.find((v) => v.key.includes('layer_with_weights-0/kernel'))?.observed, 'frozen conv1 unchanged');
});

test('tfjs engine: four class folders give one-hot labels; the first batch is the first four images', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-img4-'));
  try {
    const src = ['cat', 'dog'].flatMap((c) => readdirSync(path.join(images, c)).sort().map((f) => path.join(images, c, f)));
    const classes = ['k0', 'k1', 'k2', 'k3'];
    for (const c of classes) mkdirSync(path.join(dir, c));
    src.forEach((f, i) => copyFileSync(f, path.join(dir, classes[i % 4]!, `${String(i).padStart(2, '0')}${path.extname(f)}`)));
    const d = await loadUserData('images', dir, [16, 16, 3], [4]);
    assert.deepEqual(d.y!.shape, [src.length, 4]);
    // files sorted by path: all of k0 first, then k1, ...
    const counts = classes.map((_, k) => src.filter((__, i) => i % 4 === k).length);
    let row = 0;
    counts.forEach((n, k) => {
      for (let i = 0; i < n; i++, row++) assert.deepEqual(Array.from(d.y!.data.subarray(row * 4, row * 4 + 4)), [0, 1, 2, 3].map((j) => (j === k ? 1 : 0)));
    });
    const req = await request(dir);
    const r = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
    assert.equal(r.agreement, 1);
    assert.ok(r.loss.every(Number.isFinite));
    // the engine's batches: (4, 16, 16, 3) images and their labels, cycling
    const model = { inputs: [{ shape: [null, 16, 16, 3] }], outputs: [{ shape: [null, 4] }] } as unknown as tfl.LayersModel; // what makeBatches reads
    const batches = await makeBatches(model, req);
    assert.equal(batches.length, 3);
    const x0 = batches[0]!.x as tf.Tensor;
    assert.deepEqual(x0.shape, [4, 16, 16, 3]);
    assert.deepEqual(Array.from(x0.dataSync()), Array.from(takeBatch(d.x, 4, 0, 16 * 16 * 3)));
    assert.deepEqual(Array.from(batches[0]!.y[0]!.dataSync()), Array.from(d.y!.data.subarray(0, 16)));
    for (const b of batches) tf.dispose([b.x, ...b.y]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
