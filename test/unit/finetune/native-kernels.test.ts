// The channel kernels on tfjs-node's backend (TensorFlow's FusedBatchNormV3, FusedBatchNormGradV3, ReluGrad,
// BiasAddGrad) against the same kernels on the cpu backend (plain loops, float64 totals). Runs where
// @tensorflow/tfjs-node is built (npm run build:tfjs-node); it cannot install on a machine without the
// TensorFlow wheel, and these tests say so when they skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, tfjsNodeInstalled } from '../../../src/core/finetune/tfjs/backend';
import { mulberry32 } from '../../../src/core/finetune/plan';
import { batchNormGrad, batchNormTrain, channelSum } from '../../../src/core/finetune/kernels/channel-kernels';

const nativeMissing = !tfjsNodeInstalled() && '@tensorflow/tfjs-node is not built here (npm run build:tfjs-node)';

function random(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale + shift);
}

interface Case {
  shape: number[];
  gamma: boolean;
}

/** Runs the four kernels on the active backend; returns every output as plain arrays. */
function runAll(c: Case, seed: number): Float32Array[] {
  const n = c.shape.reduce((a, d) => a * d, 1);
  const ch = c.shape[c.shape.length - 1]!;
  return tf.tidy(() => {
    const x = tf.tensor(random(n, seed, 3, 0.5), c.shape);
    const dy = tf.tensor(random(n, seed + 1), c.shape);
    const gamma = tf.tensor(c.gamma ? random(ch, seed + 2, 1, 1.5) : new Float32Array(ch).fill(1), [ch]);
    const beta = tf.tensor(random(ch, seed + 3), [ch]);
    const { y, mean, variance, rstd } = batchNormTrain(x, gamma, beta, 1e-3);
    const k = c.gamma ? tf.mul(rstd, gamma) : rstd;
    const { dx, dgamma, dbeta } = batchNormGrad(dy, x, mean, rstd, k);
    const relu = tf.engine().runKernel('FIReluGrad', { dy, x }) as tf.Tensor | tf.Tensor[];
    const sum = channelSum(dy);
    const grads = [dx, dgamma, dbeta, Array.isArray(relu) ? relu[0]! : relu];
    return [y, mean, variance, rstd, ...grads, sum].map((t) => Float32Array.from(t.dataSync()));
  });
}

const NAMES = ['y', 'mean', 'variance', 'rstd', 'dx', 'dgamma', 'dbeta', 'reluGrad', 'channelSum'];
const CASES: Case[] = [
  { shape: [4, 6, 6, 8], gamma: true },
  { shape: [4, 6, 6, 8], gamma: false },
  { shape: [3, 5, 7, 3], gamma: true },
  { shape: [16, 12], gamma: true },
  { shape: [2, 4, 4, 3, 5], gamma: true },
];

for (const c of CASES) {
  test(`tfjs-node channel kernels equal the cpu loops: ${JSON.stringify(c.shape)}${c.gamma ? '' : ', no gamma'}`, { skip: nativeMissing }, async () => {
    const native = await selectBackend({ prefer: 'tensorflow' });
    assert.deepEqual([...native.ourKernels].sort(), ['FIBatchNormGrad', 'FIBatchNormTrain', 'FIChannelSum', 'FIReluGrad']);
    const before = tf.memory().numTensors;
    const got = runAll(c, 11);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    await selectBackend({ prefer: 'cpu' });
    const want = runAll(c, 11);
    got.forEach((g, i) => {
      const w = want[i]!;
      assert.equal(g.length, w.length, NAMES[i]);
      let err = 0;
      let scale = 1e-3;
      for (let j = 0; j < g.length; j++) {
        err = Math.max(err, Math.abs(g[j]! - w[j]!));
        scale = Math.max(scale, Math.abs(w[j]!));
      }
      assert.ok(err <= 2e-5 * scale, `${NAMES[i]}: max |tfjs-node - cpu| ${err} (scale ${scale})`);
    });
  });
}

test('tfjs-node backend without the fast paths: none of our kernels', { skip: nativeMissing }, async () => {
  const stock = await selectBackend({ prefer: 'tensorflow', fastPaths: false });
  assert.deepEqual(stock.ourKernels, []);
  assert.equal(tf.getKernel('FIBatchNormTrain', 'tensorflow'), undefined);
  const ours = await selectBackend({ prefer: 'tensorflow' });
  assert.equal(ours.ourKernels.length, 4);
});
