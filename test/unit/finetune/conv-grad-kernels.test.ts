// Our convolution-gradient kernels against (1) the cpu backend's own reference kernels (naive loops) and
// (2) finite differences, on the cpu and wasm backends, over strides, paddings, kernel sizes, channel
// multipliers and dilations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/core/finetune/tfjs/backend';
import { referenceKernel, registerGradientKernels, setDepthwiseStrategy, setFilterStrategy, type GradientKernelName } from '../../../src/core/finetune/kernels/register';
import {
  conv2dBackpropFilterViaConv,
  conv2dBackpropFilterViaMatMul,
  conv2dBackpropInputViaConv,
  depthwiseBackpropFilter,
  depthwiseBackpropFilterViaConv,
  depthwiseBackpropInput,
} from '../../../src/core/finetune/kernels/conv-grad-math';

type S4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase { name: string; x: S4; k: [number, number]; co: number; s: [number, number]; pad: Pad }
const convCases: ConvCase[] = [
  { name: '3x3 s1 same', x: [2, 7, 6, 3], k: [3, 3], co: 4, s: [1, 1], pad: 'same' },
  { name: '3x3 s2 same (odd input)', x: [2, 9, 7, 3], k: [3, 3], co: 5, s: [2, 2], pad: 'same' },
  { name: '3x3 s2 valid (remainder)', x: [1, 8, 8, 2], k: [3, 3], co: 3, s: [2, 2], pad: 'valid' },
  { name: '1x1 s1', x: [3, 5, 5, 6], k: [1, 1], co: 4, s: [1, 1], pad: 'valid' },
  { name: '1x1 s2', x: [2, 6, 5, 4], k: [1, 1], co: 3, s: [2, 2], pad: 'same' },
  { name: '5x3 s(2,1) same', x: [2, 11, 8, 2], k: [5, 3], co: 3, s: [2, 1], pad: 'same' },
  { name: '3x3 explicit pad', x: [1, 6, 6, 2], k: [3, 3], co: 2, s: [1, 1], pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  { name: '7x7 s2 same (stem)', x: [2, 16, 16, 3], k: [7, 7], co: 8, s: [2, 2], pad: 'same' },
  // Output channels in multiples of 8: wasm's SIMD filter-gradient loop (conv-filter-simd.ts) by default.
  { name: '1x1 s1, 6 -> 16 channels (rows 4 + 2)', x: [3, 5, 5, 6], k: [1, 1], co: 16, s: [1, 1], pad: 'valid' },
  { name: '1x1 s2 same, 4 -> 8 channels', x: [2, 6, 5, 4], k: [1, 1], co: 8, s: [2, 2], pad: 'same' },
  { name: '3x3 s2 same, 3 -> 8 channels (an image stem)', x: [2, 9, 7, 3], k: [3, 3], co: 8, s: [2, 2], pad: 'same' },
  { name: '3x3 explicit pad, 1 -> 24 channels', x: [1, 6, 6, 1], k: [3, 3], co: 24, s: [1, 1], pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  { name: '3x3 s2 valid, 6 -> 16 channels (rows 4 + 2)', x: [2, 9, 8, 6], k: [3, 3], co: 16, s: [2, 2], pad: 'valid' },
  { name: '5x3 s(1,2) same, 9 -> 8 channels', x: [2, 7, 9, 9], k: [5, 3], co: 8, s: [1, 2], pad: 'same' },
  // Input channels in multiples of 8: wasm's SIMD input-gradient loop (conv-input-simd.ts) by default.
  { name: '3x3 s2 same, 8 -> 5 channels (odd input)', x: [2, 9, 7, 8], k: [3, 3], co: 5, s: [2, 2], pad: 'same' },
  { name: '3x3 s1 same, 16 -> 16 channels', x: [2, 6, 7, 16], k: [3, 3], co: 16, s: [1, 1], pad: 'same' },
  { name: '1x1 s2 valid, 8 -> 12 channels (a shortcut)', x: [2, 7, 6, 8], k: [1, 1], co: 12, s: [2, 2], pad: 'valid' },
  { name: '3x2 s(2,3) explicit pad, 8 -> 3 channels', x: [1, 8, 10, 8], k: [3, 2], co: 3, s: [2, 3], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

interface DwCase { name: string; x: S4; k: [number, number]; m: number; s: [number, number]; d: [number, number]; pad: Pad }
const dwCases: DwCase[] = [
  { name: 'dw 3x3 s1 same m1', x: [2, 7, 7, 4], k: [3, 3], m: 1, s: [1, 1], d: [1, 1], pad: 'same' },
  { name: 'dw 3x3 s2 same m1', x: [2, 9, 8, 3], k: [3, 3], m: 1, s: [2, 2], d: [1, 1], pad: 'same' },
  { name: 'dw 3x3 s2 valid m2', x: [1, 8, 8, 3], k: [3, 3], m: 2, s: [2, 2], d: [1, 1], pad: 'valid' },
  { name: 'dw 5x5 s1 same m3', x: [2, 6, 7, 2], k: [5, 5], m: 3, s: [1, 1], d: [1, 1], pad: 'same' },
  { name: 'dw 3x3 dilation 2', x: [1, 9, 9, 2], k: [3, 3], m: 1, s: [1, 1], d: [2, 2], pad: 'same' },
];

let seed = 7;
function rand(shape: number[]): tf.Tensor {
  seed += 1;
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** Runs a kernel config's kernelFunc directly (so the reference and ours can be called side by side). */
function runRef(name: GradientKernelName, backendName: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Float32Array {
  const k = referenceKernel(name, backendName);
  assert.ok(k, `reference ${name} on ${backendName}`);
  const out = k.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() }) as tf.TensorInfo;
  const values = tf.backend().readSync(out.dataId) as Float32Array;
  tf.backend().disposeData(out.dataId);
  return Float32Array.from(values);
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths');
  let scale = 1e-6;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e / scale;
}

function convOutShape(c: ConvCase): S4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], c.co], c.s, 1, c.pad, undefined, false);
  return [c.x[0], info.outHeight, info.outWidth, c.co];
}
function dwOutShape(c: DwCase): S4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], c.m], c.s, c.d, c.pad, undefined, true);
  return [c.x[0], info.outHeight, info.outWidth, c.x[3] * c.m];
}

test('cpu: our conv gradients equal the cpu backend reference kernels', async (t) => {
  await selectBackend({ prefer: 'cpu' });
  for (const c of convCases) {
    await t.test(c.name, () => {
      tf.tidy(() => {
        const fShape: S4 = [c.k[0], c.k[1], c.x[3], c.co];
        const x = rand(c.x) as tf.Tensor4D;
        const dy = rand(convOutShape(c)) as tf.Tensor4D;
        const w = rand(fShape) as tf.Tensor4D;
        const attrsF = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape };
        const refF = runRef('Conv2DBackpropFilter', 'cpu', { x, dy }, attrsF);
        const viaConv = conv2dBackpropFilterViaConv({ x, dy, filterShape: fShape, strides: c.s, pad: c.pad });
        const viaMatMul = conv2dBackpropFilterViaMatMul({ x, dy, filterShape: fShape, strides: c.s, pad: c.pad });
        assert.deepEqual(viaConv.shape, fShape);
        assert.ok(maxRelErr(viaConv.dataSync(), refF) < 1e-5, `filter via conv err ${maxRelErr(viaConv.dataSync(), refF)}`);
        assert.ok(maxRelErr(viaMatMul.dataSync(), refF) < 1e-5, `filter via matmul err ${maxRelErr(viaMatMul.dataSync(), refF)}`);
        const attrsI = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
        const refI = runRef('Conv2DBackpropInput', 'cpu', { dy, filter: w }, attrsI);
        const dx = conv2dBackpropInputViaConv({ dy, filter: w, inputShape: c.x, strides: c.s, pad: c.pad });
        assert.deepEqual(dx.shape, c.x);
        assert.ok(maxRelErr(dx.dataSync(), refI) < 1e-5, `input err ${maxRelErr(dx.dataSync(), refI)}`);
      });
    });
  }
  for (const c of dwCases) {
    await t.test(c.name, () => {
      tf.tidy(() => {
        const fShape: S4 = [c.k[0], c.k[1], c.x[3], c.m];
        const x = rand(c.x) as tf.Tensor4D;
        const dy = rand(dwOutShape(c)) as tf.Tensor4D;
        const w = rand(fShape) as tf.Tensor4D;
        // tfjs's cpu reference ignores dilations (its gradient refuses them): dilated cases are checked by finite differences below.
        if (c.d[0] > 1 || c.d[1] > 1) return;
        const refF = runRef('DepthwiseConv2dNativeBackpropFilter', 'cpu', { x, dy }, { strides: c.s, dilations: c.d, pad: c.pad, filterShape: fShape });
        const ours = depthwiseBackpropFilter({ x, dy, filterShape: fShape, strides: c.s, dilations: c.d, pad: c.pad });
        assert.deepEqual(ours.shape, fShape);
        assert.ok(maxRelErr(ours.dataSync(), refF) < 1e-5, `dw filter err ${maxRelErr(ours.dataSync(), refF)}`);
        const viaConv = depthwiseBackpropFilterViaConv({ x, dy, filterShape: fShape, strides: c.s, dilations: c.d, pad: c.pad });
        assert.deepEqual(viaConv.shape, fShape);
        assert.ok(maxRelErr(viaConv.dataSync(), refF) < 1e-5, `dw filter via conv err ${maxRelErr(viaConv.dataSync(), refF)}`);
        const refI = runRef('DepthwiseConv2dNativeBackpropInput', 'cpu', { dy, filter: w }, { strides: c.s, dilations: c.d, pad: c.pad, inputShape: c.x });
        const dx = depthwiseBackpropInput({ dy, filter: w, inputShape: c.x, strides: c.s, dilations: c.d, pad: c.pad });
        assert.deepEqual(dx.shape, c.x);
        assert.ok(maxRelErr(dx.dataSync(), refI) < 1e-5, `dw input err ${maxRelErr(dx.dataSync(), refI)}`);
      });
    });
  }
});

/** Gradients of L = sum(conv(x, w) * r) by autodiff on the current backend. */
function autodiff(kind: 'conv' | 'dw', x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor4D, s: [number, number], pad: Pad, d: [number, number]): [Float32Array, Float32Array] {
  const f = (xx: tf.Tensor, ww: tf.Tensor): tf.Scalar => {
    const y = kind === 'conv' ? tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad) : tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad, 'NHWC', d);
    return tf.sum(tf.mul(y, r));
  };
  const [gx, gw] = tf.grads(f)([x, w]);
  return [gx!.dataSync() as Float32Array, gw!.dataSync() as Float32Array];
}

/** Central finite difference of L in float64 on the host (L is linear in each argument, so this is exact up to rounding). */
function fdLoss(kind: 'conv' | 'dw', x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor4D, s: [number, number], pad: Pad, d: [number, number]): number {
  return tf.tidy(() => {
    const y = kind === 'conv' ? tf.conv2d(x, w, s, pad) : tf.depthwiseConv2d(x, w, s, pad, 'NHWC', d);
    return tf.sum(tf.mul(y, r)).dataSync()[0]!;
  });
}

for (const [backendName, strategy, dwStrategy] of [
  ['cpu', 'matmul', 'slices'],
  ['wasm', 'conv', 'conv'],
  ['wasm', 'matmul', 'slices'],
  ['cpu', 'conv', 'conv'],
  // The defaults: the SIMD filter loop where it applies, else 1x1 filters by matMul and larger ones by convolution;
  // depthwise filters by loops over memory.
  ['wasm', 'auto', 'js'],
  ['cpu', 'matmul', 'js'],
] as const) {
  test(`${backendName} (${strategy} formulation, depthwise ${dwStrategy}): autodiff through our kernels matches the cpu reference and finite differences`, async (t) => {
    for (const c of [...convCases.map((cc) => ({ kind: 'conv' as const, ...cc, m: 0, d: [1, 1] as [number, number] })), ...dwCases.map((dc) => ({ kind: 'dw' as const, ...dc, co: 0 }))]) {
      await t.test(c.name, async () => {
        // Reference values on cpu with the backend's own kernels.
        await selectBackend({ prefer: 'cpu' });
        const fShape: S4 = c.kind === 'conv' ? [c.k[0], c.k[1], c.x[3], c.co] : [c.k[0], c.k[1], c.x[3], c.m];
        const yShape = c.kind === 'conv' ? convOutShape(c as ConvCase) : dwOutShape(c as DwCase);
        const xv = rand(c.x).dataSync().slice();
        const wv = rand(fShape).dataSync().slice();
        const rv = rand(yShape).dataSync().slice();
        const names: GradientKernelName[] = c.kind === 'conv' ? ['Conv2DBackpropInput', 'Conv2DBackpropFilter'] : ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];
        const refs = tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, fShape);
          const r = tf.tensor4d(rv, yShape);
          const attrsCommon = c.kind === 'conv' ? { strides: c.s, pad: c.pad, dataFormat: 'NHWC' } : { strides: c.s, pad: c.pad, dilations: c.d };
          return [
            runRef(names[0]!, 'cpu', { dy: r, filter: w }, { ...attrsCommon, inputShape: c.x }),
            runRef(names[1]!, 'cpu', { x, dy: r }, { ...attrsCommon, filterShape: fShape }),
          ];
        });
        await selectBackend({ prefer: backendName });
        setFilterStrategy(backendName, strategy);
        setDepthwiseStrategy(backendName, dwStrategy);
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, fShape);
        const r = tf.tensor4d(rv, yShape);
        try {
          const [gx, gw] = autodiff(c.kind, x, w, r, c.s, c.pad, c.d);
          const dilated = c.d[0] > 1 || c.d[1] > 1;
          if (!dilated) {
            // tfjs's reference kernels ignore dilation; dilated cases rest on finite differences alone.
            assert.ok(maxRelErr(gx, refs[0]!) < 1e-4, `dx vs reference: ${maxRelErr(gx, refs[0]!)}`);
            assert.ok(maxRelErr(gw, refs[1]!) < 1e-4, `dw vs reference: ${maxRelErr(gw, refs[1]!)}`);
          }
          // Finite differences: every filter entry when dilated (no reference), else a sample.
          const wIdx = dilated ? [...Array(wv.length).keys()] : [0, Math.floor(wv.length / 2), wv.length - 1];
          // Finite differences on a few filter and input entries.
          const eps = 0.5;
          for (const idx of wIdx) {
            const plus = wv.slice(); plus[idx]! += eps;
            const minus = wv.slice(); minus[idx]! -= eps;
            const fd = (fdLoss(c.kind, x, tf.tensor4d(plus, fShape), r, c.s, c.pad, c.d) - fdLoss(c.kind, x, tf.tensor4d(minus, fShape), r, c.s, c.pad, c.d)) / (2 * eps);
            assert.ok(Math.abs(fd - gw[idx]!) <= 1e-3 * Math.max(1, Math.abs(fd)), `dW[${idx}] fd ${fd} vs ${gw[idx]}`);
          }
          for (const idx of dilated ? [...Array(xv.length).keys()].filter((i) => i % 7 === 0) : [0, Math.floor(xv.length / 3), xv.length - 1]) {
            const plus = xv.slice(); plus[idx]! += eps;
            const minus = xv.slice(); minus[idx]! -= eps;
            const fd = (fdLoss(c.kind, tf.tensor4d(plus, c.x), w, r, c.s, c.pad, c.d) - fdLoss(c.kind, tf.tensor4d(minus, c.x), w, r, c.s, c.pad, c.d)) / (2 * eps);
            assert.ok(Math.abs(fd - gx[idx]!) <= 1e-3 * Math.max(1, Math.abs(fd)), `dX[${idx}] fd ${fd} vs ${gx[idx]}`);
          }
        } finally {
          tf.disposeVariables();
        }
      });
    }
  });
}

test('both Conv2DBackpropFilter formulations are installed and agree on wasm', async () => {
  await selectBackend({ prefer: 'wasm' });
  assert.deepEqual(registerGradientKernels('wasm'), ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
  const c = convCases[1]!;
  const fShape: S4 = [c.k[0], c.k[1], c.x[3], c.co];
  const x = rand(c.x) as tf.Tensor4D;
  const dy = rand(convOutShape(c)) as tf.Tensor4D;
  const run = (): tf.Tensor => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor;
  setFilterStrategy('wasm', 'conv');
  const a = (run() as unknown as tf.Tensor).dataSync();
  setFilterStrategy('wasm', 'matmul');
  const b = (run() as unknown as tf.Tensor).dataSync();
  setFilterStrategy('wasm', 'auto');
  assert.ok(maxRelErr(a, b) < 1e-5);
});

test('wasm: the default Conv2DBackpropFilter reads x and dy in place where the SIMD loop applies (no transpose, no matMul)', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  setFilterStrategy('wasm', 'auto');
  for (const [xShape, f, strides, expectDirect] of [
    [[4, 12, 12, 32], [1, 1, 32, 64], 1, true],
    [[4, 24, 24, 3], [3, 3, 3, 16], 2, true],
    [[4, 12, 12, 32], [3, 3, 32, 16], 1, true], // a 3x3 filter over 32 channels: the segment table
    [[4, 12, 12, 256], [1, 1, 256, 16], 1, false], // 1x1 over 256 channels: XNNPACK's matMul
    [[4, 12, 12, 32], [1, 1, 32, 12], 1, false], // 12 output channels: not whole pairs of vectors
  ] as [S4, S4, number, boolean][]) {
    const x = rand(xShape) as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(xShape, f, strides, 1, 'same');
    const dy = rand([xShape[0], info.outHeight, info.outWidth, f[3]]) as tf.Tensor4D;
    const attrs = { strides, pad: 'same', dataFormat: 'NHWC', filterShape: f } as unknown as tf.NamedAttrMap;
    const prof = await tf.profile(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as unknown as tf.Tensor);
    const inner = prof.kernels.map((k) => k.name).filter((n) => n !== 'Conv2DBackpropFilter');
    assert.equal(inner.length === 0, expectDirect, `${xShape} ${f}: ${inner.join(' ')}`);
    const ours = (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as unknown as tf.Tensor).dataSync();
    const ref = tf.tidy(() => conv2dBackpropFilterViaConv({ x, dy, filterShape: f, strides, pad: 'same' }).dataSync());
    assert.ok(maxRelErr(ours, ref) < 1e-5, `${xShape} ${f}: ${maxRelErr(ours, ref)}`);
    tf.dispose([x, dy]);
  }
});

test('wasm: the default Conv2DBackpropInput reads dy and the filter in place where the SIMD loop applies (no zero-stuffing, no flip)', async () => {
  await selectBackend({ prefer: 'wasm', wasmThreads: 1 });
  for (const [xShape, f, strides, expectDirect] of [
    [[4, 12, 12, 16], [3, 3, 16, 32], 2, true],
    [[4, 12, 12, 16], [3, 3, 16, 32], 1, true],
    [[4, 12, 12, 16], [1, 1, 16, 32], 2, true], // a strided 1x1 shortcut
    [[4, 12, 12, 16], [1, 1, 16, 32], 1, false], // 1x1 stride 1: one XNNPACK matMul
    [[4, 12, 12, 12], [3, 3, 12, 16], 2, false], // 12 input channels: not whole pairs of vectors
  ] as [S4, S4, number, boolean][]) {
    const w = rand(f) as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(xShape, f, strides, 1, 'same');
    const dy = rand([xShape[0], info.outHeight, info.outWidth, f[3]]) as tf.Tensor4D;
    const attrs = { strides, pad: 'same', dataFormat: 'NHWC', inputShape: xShape } as unknown as tf.NamedAttrMap;
    const prof = await tf.profile(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as unknown as tf.Tensor);
    const inner = prof.kernels.map((k) => k.name).filter((n) => n !== 'Conv2DBackpropInput');
    assert.equal(inner.length === 0, expectDirect, `${xShape} ${f} s${strides}: ${inner.join(' ')}`);
    const ours = (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as unknown as tf.Tensor).dataSync();
    const ref = tf.tidy(() => conv2dBackpropInputViaConv({ dy, filter: w, inputShape: xShape, strides, pad: 'same' }).dataSync());
    assert.ok(maxRelErr(ours, ref) < 1e-5, `${xShape} ${f}: ${maxRelErr(ours, ref)}`);
    tf.dispose([w, dy]);
  }
});
