// The engine's speed work, each piece against the plain tfjs computation it replaces:
//  - per-channel kernels (BatchNorm statistics and gradient, bias sums) vs tfjs ops, on cpu and wasm;
//  - the BatchNorm controller with and without those kernels: same outputs, moving statistics and gradients;
//  - the zero-copy Identity: clones share the buffer and outlive the original;
//  - Conv2D layers computing only the gradients a step uses: same gradients as tfjs-layers' own path, fewer kernels;
//  - the SIMD loops (simd.wat) against the JavaScript loops they stand in for;
//  - the threaded wasm build under Node: starts with 2 threads, computes what 1 thread computes, and the process ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, wantedThreads } from '../../../src/core/finetune/tfjs/backend';
import { batchNormGrad, batchNormTrain, channelSum, registerChannelKernels, unregisterChannelKernels } from '../../../src/core/finetune/kernels/channel-kernels';
import { registerZeroCopyIdentity, unregisterZeroCopyIdentity } from '../../../src/core/finetune/kernels/identity';
import { BatchNormController, type BnLayerLike } from '../../../src/core/finetune/tfjs/batch-norm';
import { bnModeFor } from '../../../src/core/finetune/plan';
import { installSelectiveConvGradients, needsOwnDepthwise } from '../../../src/core/finetune/tfjs/conv-gradients';
import { setSimdEnabled, simdFor } from '../../../src/core/finetune/kernels/simd';
import { avgPoolGradGeometry, isBiasAdd, registerWasmOverrides, sumPath, unregisterWasmOverrides } from '../../../src/core/finetune/kernels/wasm-overrides';

const SHAPES = [[4, 5, 6, 3], [2, 3, 3, 10], [7, 5], [3, 4, 4, 16]];

function maxErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
function maxAbs(a: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]!);
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: channel kernels equal tfjs ops (BatchNorm forward and statistics, sums, BatchNorm gradient), channel counts not multiples of 4 included`, async () => {
    await selectBackend({ prefer: backend, wasmThreads: 1 });
    assert.ok(registerChannelKernels(backend));
    for (const shape of SHAPES) {
      tf.tidy(() => {
        const c = shape[shape.length - 1]!;
        const axes = shape.slice(0, -1).map((_, i) => i);
        const x = tf.randomNormal(shape, 1.5, 2, 'float32', 11);
        const dy = tf.randomNormal(shape, 0, 1, 'float32', 12);
        const c0 = x.shape[x.shape.length - 1]!;
        const m = batchNormTrain(x, tf.ones([c0]), tf.zeros([c0]), 1e-3);
        const ref = tf.moments(x, axes);
        const refY = tf.mul(tf.sub(x, ref.mean), tf.rsqrt(tf.add(ref.variance, 1e-3)));
        assert.ok(maxErr(m.y, refY) < 1e-4 * Math.max(1, maxAbs(refY)), `normalized ${shape}`);
        assert.ok(maxErr(m.mean, ref.mean) < 1e-5, `mean ${shape}`);
        assert.ok(maxErr(m.variance, ref.variance) < 1e-4, `variance ${shape}`);
        assert.ok(maxErr(channelSum(dy), tf.sum(dy, axes)) < 1e-4, `sum ${shape}`);
        const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', 13);
        const rstd = tf.rsqrt(tf.add(ref.variance, 1e-3));
        const g = batchNormGrad(dy, x, ref.mean, rstd, tf.mul(gamma, rstd));
        // Reference: autodiff through the normalization with the statistics as functions of x.
        const [rx, rg, rb] = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
          const mm = tf.moments(xx, axes);
          return tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(xx, mm.mean), tf.rsqrt(tf.add(mm.variance, 1e-3))), gg), bb), dy));
        })([x, gamma, tf.zeros([c])]);
        assert.ok(maxErr(g.dx, rx!) <= 1e-4 * Math.max(1, maxAbs(rx!)), `dx ${shape}: ${maxErr(g.dx, rx!)}`);
        assert.ok(maxErr(g.dgamma, rg!) <= 1e-4 * Math.max(1, maxAbs(rg!)), `dgamma ${shape}`);
        assert.ok(maxErr(g.dbeta, rb!) <= 1e-4 * Math.max(1, maxAbs(rb!)), `dbeta ${shape}`);
      });
    }
  });
}

test('wasm: the SIMD loops give what the JavaScript loops give (BatchNorm forward and gradient, depthwise gradients)', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  assert.ok(simdFor('wasm', tf.backend()), 'dist/fi-simd.wasm is built by `npm run build`');
  const shape: [number, number, number, number] = [3, 7, 5, 12]; // 105 pixels: not a whole block; 12 channels: three vectors of 4
  const run = (): Float32Array[] =>
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0.3, 1.7, 'float32', 21) as tf.Tensor4D;
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 22) as tf.Tensor4D;
      const gamma = tf.randomUniform([12], 0.5, 1.5, 'float32', 23);
      const beta = tf.randomUniform([12], -1, 1, 'float32', 24);
      const f = batchNormTrain(x, gamma, beta, 1e-3);
      const g = batchNormGrad(dy, x, f.mean, f.rstd, tf.mul(f.rstd, gamma));
      const dyS2 = tf.randomNormal([3, 4, 3, 12], 0, 1, 'float32', 25) as tf.Tensor4D;
      const filt = tf.randomNormal([3, 3, 12, 1], 0, 1, 'float32', 26) as tf.Tensor4D;
      const dwF = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy: dyS2 }, { strides: 2, pad: 'same', dilations: 1, filterShape: [3, 3, 12, 1] } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dwI = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dyS2, filter: filt }, { strides: 2, pad: 'same', dilations: 1, inputShape: shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [f.y, f.mean, f.variance, f.rstd, g.dx, g.dgamma, g.dbeta, dwF, dwI].map((t) => Float32Array.from(t.dataSync()));
    });
  const vector = run();
  setSimdEnabled(false);
  let scalar: Float32Array[];
  try {
    scalar = run();
  } finally {
    setSimdEnabled(true);
  }
  vector.forEach((a, i) => {
    const b = scalar[i]!;
    let err = 0;
    let scale = 1;
    for (let k = 0; k < a.length; k++) {
      err = Math.max(err, Math.abs(a[k]! - b[k]!));
      scale = Math.max(scale, Math.abs(b[k]!));
    }
    assert.ok(err <= 2e-5 * scale, `output #${i}: ${err}`);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  test(`${backend}: the ReLU gradient through FIReluGrad equals tfjs's formula (odd sizes, zeros and negatives)`, async () => {
    await selectBackend({ prefer: backend, wasmThreads: 1 });
    for (const shape of [[2, 5, 3, 7], [4, 8], [3]]) {
      tf.tidy(() => {
        const x = tf.reshape(tf.concat([tf.randomNormal([shape.reduce((a, b) => a * b, 1) - 1], 0, 1, 'float32', 31), tf.zeros([1])]), shape);
        const dy = tf.randomNormal(shape, 0, 1, 'float32', 32);
        const prof = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.relu(xx), dy)));
        const ours = prof(x);
        const ref = tf.mul(dy, tf.cast(tf.step(x), 'float32'));
        const a = ours.dataSync();
        const b = ref.dataSync();
        // Equal values (0 and -0 alike: tfjs's dy * 0 gives -0 where dy < 0).
        assert.ok(a.length === b.length && a.every((v, i) => v === b[i]), `${shape}`);
      });
    }
    const kernels = (await tf.profile(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.relu(xx)))(tf.ones([8])))).kernels.map((k) => k.name);
    assert.ok(kernels.includes('FIReluGrad') && !kernels.includes('Step'), kernels.join(' '));
  });
}

/** `run` with our wasm kernel replacements, then with the stock kernels (put back afterwards). */
function oursAndStock<T>(run: () => T): { ours: T; stock: T } {
  registerWasmOverrides('wasm');
  const ours = run();
  unregisterWasmOverrides();
  try {
    return { ours, stock: run() };
  } finally {
    registerWasmOverrides('wasm');
  }
}

test('wasm: our Sum equals the stock kernel bit for bit (channels-last bias sums, extent-1 reductions) and leaves the rest to it', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  const cases: { shape: number[]; axis: number | number[]; keepDims?: boolean; path: string | null }[] = [
    { shape: [32, 6, 6, 128], axis: [0, 1, 2], path: 'channels' },
    { shape: [3, 7, 5, 12], axis: [0, 1, 2], keepDims: true, path: 'channels' }, // 105 pixels: less than a block
    { shape: [3, 7, 5, 12], axis: [2, 0, 1], path: null }, // stock walks pixels in the axes' order: left to it
    { shape: [1000, 8], axis: 0, path: 'channels' },
    { shape: [1], axis: 0, path: 'reshape' },
    { shape: [4, 1, 6], axis: 1, keepDims: true, path: 'reshape' },
    { shape: [3, 7, 5, 10], axis: [0, 1, 2], path: null }, // 10 channels: not whole vectors
    { shape: [3, 7, 5, 12], axis: 3, path: null },
    { shape: [3, 7, 5, 12], axis: [0, 2], path: null },
  ];
  const run = (): Float32Array[] =>
    cases.map((k, i) => tf.tidy(() => Float32Array.from(tf.sum(tf.randomNormal(k.shape, 0.1, 3, 'float32', 40 + i), k.axis, k.keepDims).dataSync())));
  for (const k of cases) assert.equal(sumPath(k.shape, 'float32', k.axis), k.path, `${k.shape} ${k.axis}`);
  assert.equal(sumPath([4, 8], 'int32', 0), null);
  assert.deepEqual(registerWasmOverrides('wasm'), ['Sum', 'Relu', 'Add', 'AvgPoolGrad']);
  const kernels = (await tf.profile(() => tf.sum(tf.ones([2, 3, 8]), [0, 1]))).kernels.map((k) => k.name);
  const { ours, stock } = oursAndStock(run);
  assert.deepEqual(kernels, ['Sum']);
  ours.forEach((a, i) => assert.deepEqual(a, stock[i], `${cases[i]!.shape} ${cases[i]!.axis}`));
  // Shapes: keepDims and not.
  tf.tidy(() => {
    assert.deepEqual(tf.sum(tf.ones([2, 3, 8]), [0, 1], true).shape, [1, 1, 8]);
    assert.deepEqual(tf.sum(tf.ones([2, 3, 8]), [0, 1]).shape, [8]);
    assert.deepEqual(Array.from(tf.sum(tf.ones([2, 3, 8]), [0, 1]).dataSync()), new Array(8).fill(6));
  });
  // The reshape path shares the buffer and outlives its input.
  const x = tf.tensor1d([2.5]);
  const s = tf.sum(x, 0);
  x.dispose();
  assert.deepEqual(Array.from(s.dataSync()), [2.5]);
  s.dispose();
});

test('wasm: our Relu equals the stock kernel (odd sizes, zeros, negatives, NaN) and runs as one kernel', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  const values = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? 0 : i % 13 === 0 ? NaN : Math.sin(i) * 3));
  const run = (): Float32Array[] => [[3], [5, 7], [2, 3, 4, 8], [1, 1001]].map((shape) => tf.tidy(() => Float32Array.from(tf.relu(tf.tensor(values(shape.reduce((a, b) => a * b, 1)), shape)).dataSync())));
  assert.ok(registerWasmOverrides('wasm').includes('Relu'));
  const kernels = (await tf.profile(() => tf.relu(tf.ones([4, 4])))).kernels.map((k) => k.name);
  const { ours, stock } = oursAndStock(run);
  assert.deepEqual(kernels, ['Relu']);
  // Equal values; 0 and -0 alike.
  ours.forEach((a, i) => assert.ok(a.length === stock[i]!.length && a.every((v, k) => v === stock[i]![k] || (Number.isNaN(v) && Number.isNaN(stock[i]![k]!))), `case ${i}`));
});

test('wasm: our bias Add equals the stock kernel bit for bit, either operand order, and leaves other adds to it', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  const cases: [number[], number[], boolean][] = [
    [[32, 6, 6, 128], [128], true],
    [[3, 5, 8], [1, 1, 8], true],
    [[8], [8, 2, 3, 8], false], // the bias first: isBiasAdd(a, b) says no, the kernel then asks isBiasAdd(b, a)
    [[3, 5, 12], [3, 5, 12], false],
    [[3, 5, 10], [10], false], // 10 channels: not whole vectors
    [[3, 5, 8], [5, 8], false],
  ];
  const info = (shape: number[]): tf.TensorInfo => ({ dataId: {}, shape, dtype: 'float32' });
  for (const [a, b, expected] of cases) assert.equal(isBiasAdd(info(a), info(b)), expected, `${a} + ${b}`);
  const run = (): Float32Array[] =>
    [...cases, [[8], [2, 3, 8], true] as [number[], number[], boolean]].map(([a, b], i) =>
      tf.tidy(() => Float32Array.from(tf.add(tf.randomNormal(a, 0, 3, 'float32', 60 + i), tf.randomNormal(b, 0, 3, 'float32', 80 + i)).dataSync())),
    );
  assert.ok(registerWasmOverrides('wasm').includes('Add'));
  const { ours, stock } = oursAndStock(run);
  ours.forEach((a, i) => assert.deepEqual(a, stock[i], `case ${i}`));
});

test('wasm: our AvgPoolGrad equals the stock kernel (global, strided, overlapping windows) and leaves padded pools to it', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  const cases: [[number, number, number, number], number | [number, number], number | [number, number], 'valid' | 'same'][] = [
    [[4, 8, 8, 64], 8, 8, 'valid'],
    [[2, 9, 7, 5], [3, 2], [3, 2], 'valid'],
    [[2, 9, 7, 3], 3, 2, 'valid'], // overlapping windows
    [[2, 9, 7, 3], 3, 2, 'same'], // padded: the stock kernel
  ];
  const run = (): Float32Array[] =>
    cases.map(([shape, f, st, pad], i) =>
      tf.tidy(() => {
        const x = tf.randomNormal(shape, 0, 1, 'float32', 90 + i) as tf.Tensor4D;
        const y = tf.avgPool(x, f, st, pad);
        const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 95 + i);
        return Float32Array.from(tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(xx as tf.Tensor4D, f, st, pad), dy)))(x).dataSync());
      }),
    );
  cases.forEach(([shape, filterSize, strides, pad]) => assert.equal(avgPoolGradGeometry(shape, 'float32', { filterSize, strides, pad }) !== null, pad === 'valid', `${shape} ${pad}`));
  assert.ok(registerWasmOverrides('wasm').includes('AvgPoolGrad'));
  const { ours, stock } = oursAndStock(run);
  ours.forEach((a, i) => {
    const err = a.reduce((m, v, k) => Math.max(m, Math.abs(v - stock[i]![k]!)), 0);
    assert.ok(a.length === stock[i]!.length && err < 1e-6, `case ${i}: ${err}`);
  });
});

test('wasm: the SIMD channel sum (conv bias gradients) is the float32 JavaScript sum bit for bit', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  for (const shape of [[3, 7, 5, 12], [2, 300, 8], [1, 1, 4]]) {
    const x = tf.randomNormal(shape, 1e3, 1, 'float32', 50); // large mean: float32 round-off is visible in the sums
    const vector = Float32Array.from(channelSum(x).dataSync());
    setSimdEnabled(false);
    let scalar: Float32Array;
    try {
      scalar = Float32Array.from(channelSum(x).dataSync());
    } finally {
      setSimdEnabled(true);
    }
    x.dispose();
    assert.deepEqual(vector, scalar, `${shape}`);
  }
});

test('channel kernels refuse non-float inputs instead of reading the wrong memory', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  assert.throws(() => channelSum(tf.tensor2d([[1, 2]], [1, 2], 'int32')), /float32 inputs only, got int32/);
});

/** One BN layer's outputs, moving statistics and gradients (x, gamma, beta) in a mode, through the controller. */
function bnRun(shape: number[], mode: 'train' | 'inference', trainable: boolean): Float32Array[] {
  return tf.tidy(() => {
    const c = shape[shape.length - 1]!;
    const gamma = tf.variable(tf.randomUniform([c], 0.5, 1.5, 'float32', 1), trainable);
    const beta = tf.variable(tf.randomUniform([c], -0.5, 0.5, 'float32', 2), trainable);
    const mm = tf.variable(tf.randomUniform([c], -0.2, 0.2, 'float32', 3), false);
    const mv = tf.variable(tf.randomUniform([c], 0.5, 2, 'float32', 4), false);
    const layer: BnLayerLike = {
      name: 'bn', axis: -1, momentum: 0.9, epsilon: 1e-3,
      gamma: Object.assign({ read: () => gamma }, { trainable }), beta: Object.assign({ read: () => beta }, { trainable }),
      movingMean: { read: () => mm, write: (v) => mm.assign(v) },
      movingVariance: { read: () => mv, write: (v) => mv.assign(v) },
      call: () => tf.scalar(0),
    };
    const ctl = new BatchNormController();
    ctl.install({ path: 'bn', layer, mode: bnModeFor('keras3', 'bn', trainable, true, {}), unbiasedMovingVariance: false });
    ctl.mode = mode;
    const x = tf.randomNormal(shape, 0.5, 2, 'float32', 5);
    const r = tf.randomNormal(shape, 0, 1, 'float32', 6);
    const call = layer.call as unknown as (i: tf.Tensor) => tf.Tensor;
    const y = call(x);
    const grads = trainable ? tf.variableGrads(() => tf.sum(tf.mul(call(x), r)) as tf.Scalar, [gamma, beta]).grads : {};
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(call(xx), r)))(x);
    const out = [y, mm, mv, gx, ...Object.values(grads)].map((t) => Float32Array.from(t.dataSync()));
    tf.dispose([gamma, beta, mm, mv]);
    return out;
  });
}

test('BatchNorm controller: the channel-kernel path equals the tfjs-ops path (train and inference modes, outputs, moving statistics, gradients)', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  for (const shape of [[4, 5, 6, 3], [2, 4, 4, 12], [6, 7]]) {
    for (const [mode, trainable] of [['train', true], ['inference', false], ['inference', true]] as const) {
      registerChannelKernels('wasm');
      let fast: Float32Array[] = [];
      const prof = await tf.profile(() => {
        fast = bnRun(shape, mode, trainable);
      });
      // The channel-kernel path is the one taken (not just registered): batch statistics through FIBatchNormTrain.
      const kernels = new Set(prof.kernels.map((k) => k.name));
      if (mode === 'train' && shape.length === 4) assert.ok(kernels.has('FIBatchNormTrain') && kernels.has('FIBatchNormGrad') && !kernels.has('Mean'), [...kernels].join(' '));
      unregisterChannelKernels('wasm');
      const slow = bnRun(shape, mode, trainable);
      registerChannelKernels('wasm');
      assert.equal(fast.length, slow.length);
      fast.forEach((a, i) => {
        const b = slow[i]!;
        let err = 0;
        let scale = 1;
        for (let k = 0; k < a.length; k++) {
          err = Math.max(err, Math.abs(a[k]! - b[k]!));
          scale = Math.max(scale, Math.abs(b[k]!));
        }
        assert.ok(err <= 1e-4 * scale, `${mode} trainable=${trainable} ${shape} output #${i}: ${err}`);
      });
    }
  }
});

test('zero-copy Identity on wasm: a clone shares the buffer and outlives the original', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  assert.ok(registerZeroCopyIdentity('wasm'));
  const buffers = (): number => tf.backend().numDataIds();
  const before = buffers();
  const a = tf.tensor1d([1, 2, 3, 4]);
  const b = tf.clone(a);
  assert.equal(buffers() - before, 1, 'one buffer for both');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4]);
  b.dispose();
  assert.equal(buffers(), before);
  unregisterZeroCopyIdentity();
  const c = tf.tensor1d([5, 6]);
  const d = tf.clone(c);
  assert.deepEqual(Array.from(d.dataSync()), [5, 6]);
  tf.dispose([c, d]);
  assert.ok(registerZeroCopyIdentity('wasm'));
  assert.equal(registerZeroCopyIdentity('cpu'), false);
});

/** One gradient step of `m` on `x` with a layer frozen; gradients of the trainable weights and the kernels it ran. */
async function gradStep(m: tfl.Sequential, x: tf.Tensor, selective: boolean, frozen: string | null): Promise<{ grads: Map<string, Float32Array>; kernels: string[] }> {
  if (frozen) for (const w of m.getLayer(frozen).trainableWeights) w.trainable = false;
  const trainVars = m.trainableWeights.filter((w) => w.trainable).map((w) => w.read() as tf.Variable);
  if (selective) installSelectiveConvGradients(m.layers.map((layer) => ({ layer })), (v) => trainVars.includes(v));
  let grads = new Map<string, Float32Array>();
  const prof = await tf.profile(() => {
    const g = tf.variableGrads(() => tf.sum(tf.square(m.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, trainVars);
    grads = new Map(Object.entries(g.grads).map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    tf.dispose(Object.values(g.grads));
    g.value.dispose();
  });
  m.dispose();
  x.dispose();
  return { grads, kernels: prof.kernels.map((k) => k.name) };
}

/** The same variables (tfjs numbers repeated names) with the same gradients, within `tol` of the largest value. */
function assertSameGrads(ours: Map<string, Float32Array>, stock: Map<string, Float32Array>, tol: number): void {
  const base = (k: string): string => k.replace(/_\d+$/, '');
  assert.deepEqual([...ours.keys()].map(base).sort(), [...stock.keys()].map(base).sort());
  const stockByName = new Map([...stock].map(([k, v]) => [base(k), v]));
  for (const [k, v] of ours) {
    const ref = stockByName.get(base(k))!;
    let err = 0;
    let scale = 1;
    for (let i = 0; i < v.length; i++) {
      err = Math.max(err, Math.abs(v[i]! - ref[i]!));
      scale = Math.max(scale, Math.abs(ref[i]!));
    }
    assert.ok(err < tol * scale, `${k}: ${err}`);
  }
}

/** Three convolutions (3x3 strided, 1x1, 3x3 with ReLU). */
function convStep(selective: boolean, frozen: string | null): Promise<{ grads: Map<string, Float32Array>; kernels: string[] }> {
  const m = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [9, 9, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'c1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 1, name: 'c2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones' }),
      tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'valid', activation: 'relu', name: 'c3', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'ones' }),
    ],
  });
  return gradStep(m, tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 7), selective, frozen);
}

// Kernels run per step, stock tfjs-layers vs ours. Stock: a linear-activation Conv2D (fused, one custom-gradient
// node) computes its input and filter gradients whenever either is needed; c3 (relu: not fused under a tape)
// is pruned normally. Ours: the input gradient only when a layer before trains, the filter gradient only when
// the kernel trains.
const expected: Record<string, { stock: [number, number]; ours: [number, number] }> = {
  none: { stock: [3, 3], ours: [2, 3] },
  c1: { stock: [2, 2], ours: [1, 2] },
  c2: { stock: [3, 3], ours: [2, 2] },
};
for (const frozen of ['none', 'c1', 'c2']) {
  test(`Conv2D computes only the gradients the step uses, with the same values (frozen: ${frozen})`, async () => {
    await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
    const stock = await convStep(false, frozen === 'none' ? null : frozen);
    const ours = await convStep(true, frozen === 'none' ? null : frozen);
    assertSameGrads(ours.grads, stock.grads, 1e-4);
    const counts = (ks: string[]): [number, number] => [ks.filter((k) => k === 'Conv2DBackpropInput').length, ks.filter((k) => k === 'Conv2DBackpropFilter').length];
    assert.deepEqual(counts(stock.kernels), expected[frozen]!.stock, 'stock [input, filter] gradient kernels');
    assert.deepEqual(counts(ours.kernels), expected[frozen]!.ours, 'our [input, filter] gradient kernels');
  });
}

/** Depthwise, pointwise, depthwise (with biases). */
function depthwiseStep(selective: boolean, frozen: string | null): Promise<{ grads: Map<string, Float32Array>; kernels: string[] }> {
  const m = tfl.sequential({
    layers: [
      tfl.layers.depthwiseConv2d({ inputShape: [9, 9, 4], kernelSize: 3, strides: 2, padding: 'same', name: 'dw1', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 1, name: 'pw', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }), biasInitializer: 'ones' }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', activation: 'relu', name: 'dw2', depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'ones' }),
    ],
  });
  return gradStep(m, tf.randomNormal([2, 9, 9, 4], 0, 1, 'float32', 7), selective, frozen);
}

for (const frozen of ['none', 'dw1', 'pw', 'dw2']) {
  test(`DepthwiseConv2D: one fused forward kernel, the same gradients, the bias add and its gradient ops gone (frozen: ${frozen})`, async () => {
    await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
    const stock = await depthwiseStep(false, frozen === 'none' ? null : frozen);
    const ours = await depthwiseStep(true, frozen === 'none' ? null : frozen);
    assertSameGrads(ours.grads, stock.grads, 1e-5);
    const count = (ks: string[], name: string): number => ks.filter((k) => k === name).length;
    for (const name of ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter']) {
      assert.equal(count(ours.kernels, name), count(stock.kernels, name), name);
    }
    // Profiles list nested kernels too (our depthwise input gradient runs forward depthwise convolutions).
    assert.equal(count(ours.kernels, 'FusedDepthwiseConv2D'), 2, 'bias fused into the forward kernel');
    assert.equal(count(stock.kernels, 'DepthwiseConv2dNative') - count(ours.kernels, 'DepthwiseConv2dNative'), 2);
    assert.equal(count(stock.kernels, 'Add') - count(ours.kernels, 'Add'), 2, 'no separate bias Add');
    assert.ok(ours.kernels.length < stock.kernels.length, `${ours.kernels.length} kernels against ${stock.kernels.length}`);
  });
}

test('a dilated DepthwiseConv2D (tfjs-layers drops the dilation) runs dilated, with exact gradients', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  const layer = tfl.layers.depthwiseConv2d({ inputShape: [9, 9, 2], kernelSize: 3, padding: 'same', dilationRate: 2, depthMultiplier: 2, depthwiseInitializer: tfl.initializers.glorotUniform({ seed: 4 }), biasInitializer: 'ones' } as Parameters<typeof tfl.layers.depthwiseConv2d>[0]);
  const m = tfl.sequential({ layers: [layer] });
  const x = tf.randomNormal([2, 9, 9, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
  const r = tf.randomNormal([2, 9, 9, 4], 0, 1, 'float32', 6);
  const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
  const expected = tf.add(tf.depthwiseConv2d(x, kernel, 1, 'same', 'NHWC', 2), bias);
  const stock = m.apply(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(stock, expected))).dataSync()[0]! > 0.1, 'tfjs-layers alone ignores the dilation');
  const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  assert.equal(installSelectiveConvGradients([{ layer }], () => true, needsOwnDepthwise), 1);
  const ours = m.apply(x) as tf.Tensor;
  assert.ok(tf.max(tf.abs(tf.sub(ours, expected))).dataSync()[0]! < 1e-5, 'forward with the dilation');
  // The loss sum(y * r) is linear in the kernel and the bias: a unit step in one entry changes it by exactly
  // that entry's gradient (up to float32 rounding of the sums).
  const loss = (k: tf.Tensor4D, b: tf.Tensor1D): number => {
    const y = tf.mul(tf.add(tf.depthwiseConv2d(x, k, 1, 'same', 'NHWC', 2), b), r).dataSync();
    let t = 0;
    for (const v of y) t += v;
    return t;
  };
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(m.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, vars);
  const [gk, gb] = vars.map((v) => grads[v.name]!.dataSync());
  const base = loss(kernel, bias);
  const kv = kernel.dataSync();
  for (let i = 0; i < kv.length; i++) {
    const bumped = Float32Array.from(kv);
    bumped[i] = bumped[i]! + 1;
    const want = loss(tf.tensor4d(bumped, kernel.shape), bias) - base;
    assert.ok(Math.abs(gk![i]! - want) < 1e-3 * Math.max(1, Math.abs(want)), `kernel[${i}]: ${gk![i]} vs ${want}`);
  }
  const bv = bias.dataSync();
  for (let i = 0; i < bv.length; i++) {
    const bumped = Float32Array.from(bv);
    bumped[i] = bumped[i]! + 1;
    const want = loss(kernel, tf.tensor1d(bumped)) - base;
    assert.ok(Math.abs(gb![i]! - want) < 1e-3 * Math.max(1, Math.abs(want)), `bias[${i}]: ${gb![i]} vs ${want}`);
  }
  m.dispose();
});

test('wasm threads: the default leaves small machines single-threaded; options and the environment override it', () => {
  const saved = process.env.FREEZE_INSPECTOR_WASM_THREADS;
  delete process.env.FREEZE_INSPECTOR_WASM_THREADS;
  try {
    assert.equal(wantedThreads(undefined, 2), 1);
    assert.equal(wantedThreads(undefined, 4), 3);
    assert.equal(wantedThreads(undefined, 32), 8);
    assert.equal(wantedThreads(2, 2), 2);
    process.env.FREEZE_INSPECTOR_WASM_THREADS = '2';
    assert.equal(wantedThreads(undefined, 2), 2);
  } finally {
    if (saved === undefined) delete process.env.FREEZE_INSPECTOR_WASM_THREADS;
    else process.env.FREEZE_INSPECTOR_WASM_THREADS = saved;
  }
});

test('wasm threads under Node: 2 threads start, agree with 1 thread, and the process exits by itself', () => {
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    const { selectBackend } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/core/finetune/tfjs/backend'))});
    const { simdFor } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/core/finetune/kernels/simd'))});
    (async () => {
      const c = await selectBackend({ prefer: 'wasm' });
      const x = tf.randomNormal([4, 17, 17, 8], 0, 1, 'float32', 1);
      const f = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2);
      const y = tf.conv2d(x, f, 1, 'same');
      process.stdout.write(JSON.stringify({ reason: c.reason, sum: tf.sum(tf.abs(y)).dataSync()[0], simd: simdFor('wasm', tf.backend()) !== null }) + '\\n');
    })();`;
  const run = (threads: number): { reason: string; sum: number; simd: boolean } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(__dirname, '../../..'), encoding: 'utf8', timeout: 60_000, env: { ...process.env, FREEZE_INSPECTOR_WASM_THREADS: String(threads) } });
    assert.equal(r.status, 0, `exit ${r.status} signal ${r.signal} (a hang ends in SIGTERM): ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { reason: string; sum: number; simd: boolean };
  };
  const two = run(2);
  const one = run(1);
  assert.match(two.reason, /SIMD, 2 threads/);
  assert.match(one.reason, /SIMD, 1 thread\b/);
  assert.ok(Math.abs(two.sum - one.sum) <= 1e-4 * one.sum, `${two.sum} vs ${one.sum}`);
  // Our SIMD loops load on both builds (fi-simd.wasm, and fi-simd-shared.wasm on the threaded build's memory).
  assert.ok(one.simd && two.simd, JSON.stringify({ one: one.simd, two: two.simd }));
});
