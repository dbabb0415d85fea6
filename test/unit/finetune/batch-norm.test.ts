// The BatchNorm gaps of tfjs-layers 4.22 (SEMANTICS F2, F4), measured on a real Keras config, and our
// per-layer semantics closing them; plus our closed-form batch-statistics gradient against autodiff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { generated } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { selectBackend } from '../../../src/core/finetune/tfjs/backend';
import { normalizeKerasConfig, toTfjsTopology } from '../../../src/core/finetune/tfjs/keras-config';
import { BatchNormController, type BnLayerLike } from '../../../src/core/finetune/tfjs/batch-norm';
import { leafLayers } from '../../../src/core/finetune/tfjs/tfjs-engine';
import { bnModeFor } from '../../../src/core/finetune/plan';

type Json = Record<string, unknown>;
const k2 = generated('k2_cnn_bn/saved_model');
const skip = !existsSync(k2) && 'fixture k2_cnn_bn absent';

async function realConfig(): Promise<Json> {
  const h = await openModel(k2);
  try {
    return normalizeKerasConfig(h.model.kerasConfig) as Json;
  } finally {
    await h.close();
  }
}

async function rebuild(cfg: Json): Promise<tfl.LayersModel> {
  return tfl.models.modelFromJSON({ modelTopology: toTfjsTopology(cfg) } as never);
}

function bnLayer(m: tfl.LayersModel, name: string): BnLayerLike & tfl.layers.Layer {
  return m.getLayer(name) as unknown as BnLayerLike & tfl.layers.Layer;
}

function batch(m: tfl.LayersModel): tf.Tensor {
  return tf.randomNormal([4, ...(m.inputs[0]!.shape.slice(1) as number[])], 0, 1, 'float32', 3);
}

test('F2 measured: stock tfjs keeps updating a frozen BN; ours leaves it alone (tf2-keras D2)', { skip }, async () => {
  await selectBackend({ prefer: 'cpu' });
  const cfg = await realConfig();
  const stock = await rebuild(cfg);
  stock.getLayer('bn1').trainable = false;
  const before = bnLayer(stock, 'bn1').movingMean.read().dataSync().slice();
  tf.tidy(() => {
    stock.apply(batch(stock), { training: true });
  });
  const after = bnLayer(stock, 'bn1').movingMean.read().dataSync();
  assert.ok(after.some((v, i) => v !== before[i]), 'tfjs-layers 4.22 updates a frozen BN (if this fails, tfjs fixed F2)');

  const ours = await rebuild(cfg);
  const ctl = new BatchNormController();
  for (const { path, layer } of leafLayers(ours)) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const trainable = path !== 'bn1';
    ctl.install({ path, layer: layer as unknown as BnLayerLike, mode: bnModeFor('tf2-keras', path, trainable, true, {}), unbiasedMovingVariance: true });
  }
  ctl.mode = 'train';
  const mm1 = bnLayer(ours, 'bn1').movingMean.read().dataSync().slice();
  const mm2 = bnLayer(ours, 'bn2').movingMean.read().dataSync().slice();
  tf.tidy(() => {
    ours.apply(batch(ours), { training: true });
  });
  assert.deepEqual(Array.from(bnLayer(ours, 'bn1').movingMean.read().dataSync()), Array.from(mm1));
  assert.ok(bnLayer(ours, 'bn2').movingMean.read().dataSync().some((v, i) => v !== mm2[i]));
});

test('F4 measured: stock tfjs crashes training a BN with scale=false, center=false; ours trains it', { skip }, async () => {
  await selectBackend({ prefer: 'cpu' });
  const cfg = structuredClone(await realConfig());
  const bn1 = ((cfg.config as Json).layers as Json[]).find((l) => l.name === 'bn1')!;
  Object.assign(bn1.config as Json, { scale: false, center: false });
  const stock = await rebuild(cfg);
  assert.throws(() => tf.tidy(() => {
    stock.apply(batch(stock), { training: true });
  }), /Cannot read properties of undefined/);

  const ours = await rebuild(cfg);
  const ctl = new BatchNormController();
  for (const { path, layer } of leafLayers(ours)) {
    if (layer.getClassName() === 'BatchNormalization') ctl.install({ path, layer: layer as unknown as BnLayerLike, mode: bnModeFor('tf2-keras', path, true, true, {}), unbiasedMovingVariance: true });
  }
  ctl.mode = 'train';
  const x = batch(ours);
  const y = tf.zerosLike(ours.apply(x) as tf.Tensor);
  const kernel = ours.getLayer('conv1').getWeights()[0]!.dataSync().slice();
  const opt = tf.train.sgd(0.1);
  const loss = opt.minimize(() => tf.losses.meanSquaredError(y, ours.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
  assert.ok(Number.isFinite(loss!.dataSync()[0]!));
  assert.ok(ours.getLayer('conv1').getWeights()[0]!.dataSync().some((v, i) => v !== kernel[i]), 'gradient reached conv1 through the scale-less BN');
});

test('closed-form batch-statistics gradient equals autodiff through moments (x, gamma, beta)', async () => {
  await selectBackend({ prefer: 'cpu' });
  const fakeVar = (t: tf.Tensor): { read(): tf.Tensor; write(v: tf.Tensor): void } => {
    const v = tf.variable(t);
    return { read: () => v, write: (n) => v.assign(n) };
  };
  for (const shape of [[4, 5, 6, 3], [7, 3]]) {
    const c = shape[shape.length - 1]!;
    const gamma = tf.variable(tf.randomUniform([c], 0.5, 1.5, 'float32', 1));
    const beta = tf.variable(tf.randomUniform([c], -0.5, 0.5, 'float32', 2));
    const layer: BnLayerLike = {
      name: 'bn', axis: -1, momentum: 0.9, epsilon: 1e-3,
      gamma: { read: () => gamma }, beta: { read: () => beta },
      movingMean: fakeVar(tf.zeros([c])), movingVariance: fakeVar(tf.ones([c])),
      call: () => tf.scalar(0),
    };
    const ctl = new BatchNormController();
    ctl.install({ path: 'bn', layer, mode: bnModeFor('tf2-keras', 'bn', true, true, {}), unbiasedMovingVariance: false });
    ctl.mode = 'probe'; // batch statistics, nothing written
    const x = tf.randomNormal(shape, 0, 2, 'float32', 5);
    const r = tf.randomNormal(shape, 0, 1, 'float32', 6);
    const ours = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const call = layer.call as unknown as (i: tf.Tensor) => tf.Tensor;
      gammaOverride.g = g;
      gammaOverride.b = b;
      return tf.sum(tf.mul(call(xx), r));
    });
    // Route gamma/beta through the grads() arguments.
    const gammaOverride: { g: tf.Tensor | null; b: tf.Tensor | null } = { g: null, b: null };
    layer.gamma = { read: () => gammaOverride.g ?? gamma };
    layer.beta = { read: () => gammaOverride.b ?? beta };
    const [gx, gg, gb] = ours([x, gamma, beta]);
    const reference = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const axes = shape.slice(0, -1).map((_, i) => i);
      const m = tf.moments(xx, axes);
      return tf.sum(tf.mul(tf.batchNorm(xx, m.mean, m.variance, b, g, 1e-3), r));
    });
    const [rx, rg, rb] = reference([x, gamma, beta]);
    for (const [a, b, what] of [[gx, rx, 'x'], [gg, rg, 'gamma'], [gb, rb, 'beta']] as const) {
      const err = tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]!;
      const scale = tf.max(tf.abs(b!)).dataSync()[0]!;
      assert.ok(err <= 1e-4 * Math.max(1, scale), `${what} ${JSON.stringify(shape)}: ${err}`);
    }
  }
});

test('moving statistics follow Keras: momentum average, unbiased variance for tf.keras fused (rank 4), biased for Keras 3', async () => {
  await selectBackend({ prefer: 'cpu' });
  for (const unbiased of [true, false]) {
    const mm = tf.variable(tf.tensor1d([0.5, -0.5]));
    const mv = tf.variable(tf.tensor1d([2, 3]));
    const layer: BnLayerLike = {
      name: 'bn', axis: -1, momentum: 0.9, epsilon: 1e-3, gamma: null, beta: null,
      movingMean: { read: () => mm, write: (v) => mm.assign(v as tf.Tensor1D) },
      movingVariance: { read: () => mv, write: (v) => mv.assign(v as tf.Tensor1D) },
      call: () => tf.scalar(0),
    };
    const ctl = new BatchNormController();
    ctl.install({ path: 'bn', layer, mode: bnModeFor('keras3', 'bn', true, true, {}), unbiasedMovingVariance: unbiased });
    ctl.mode = 'train';
    const data = [1, 10, 2, 20, 3, 30, 6, 40];
    const x = tf.tensor4d(data, [2, 2, 1, 2]);
    tf.tidy(() => (layer.call as unknown as (i: tf.Tensor) => tf.Tensor)(x));
    const c0 = [1, 2, 3, 6];
    const c1 = [10, 20, 30, 40];
    const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
    const varb = (a: number[]): number => a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / a.length;
    const k = unbiased ? 4 / 3 : 1;
    const expMean = [0.9 * 0.5 + 0.1 * mean(c0), 0.9 * -0.5 + 0.1 * mean(c1)];
    const expVar = [0.9 * 2 + 0.1 * varb(c0) * k, 0.9 * 3 + 0.1 * varb(c1) * k];
    Array.from(mm.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expMean[i]!) < 1e-5, `mean ${v} vs ${expMean[i]}`));
    Array.from(mv.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - expVar[i]!) < 1e-4, `var ${v} vs ${expVar[i]}`));
  }
});
