// Backend selection: tfjs-node when it loads, else wasm (binaries next to the bundle or in node_modules), else
// cpu; every fallback says why. tfjs-node is not installable here, so its loader is injected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { locateWasmDir, selectBackend } from '../../../src/core/finetune/tfjs/backend';

test('no tfjs-node: auto falls back to wasm and says why, with our gradient kernels installed', async () => {
  const choice = await selectBackend({
    loadNative: () => {
      throw new Error("Cannot find module '@tensorflow/tfjs-node'");
    },
  });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(choice.reason, /@tensorflow\/tfjs-node not available \(Cannot find module/);
  assert.deepEqual([...choice.ourKernels].sort(), ['Add', 'AvgPoolGrad', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'FIBatchNormGrad', 'FIBatchNormTrain', 'FIChannelSum', 'FIReluGrad', 'Identity', 'Relu', 'Sum']);
});

test('tfjs-node loads but registers no backend (e.g. a second tfjs-core copy): fall back, never crash', async () => {
  const choice = await selectBackend({ loadNative: () => ({}) });
  assert.equal(choice.name, 'wasm');
  assert.match(choice.reason, /tfjs-node not available/);
});

test('prefer tensorflow without tfjs-node is an error naming the cause', async () => {
  await assert.rejects(selectBackend({ prefer: 'tensorflow', loadNative: () => { throw new Error('libtensorflow.so.2: cannot open shared object file'); } }), /libtensorflow\.so\.2/);
});

test('no wasm binaries anywhere: cpu, with the folders searched in the reason', async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'fi-wasm-'));
  try {
    const choice = await selectBackend({ wasmDirs: [empty], wasmDirsOnly: true, loadNative: () => { throw new Error('absent'); } });
    assert.equal(choice.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.ok(choice.reason.includes(`tfjs-backend-wasm.wasm not found in ${empty}`), choice.reason);
    assert.deepEqual([...choice.ourKernels].sort(), ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'FIBatchNormGrad', 'FIBatchNormTrain', 'FIChannelSum', 'FIReluGrad']);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('the binaries next to the bundle win over node_modules', () => {
  const dist = mkdtempSync(path.join(os.tmpdir(), 'fi-dist-'));
  try {
    const nm = locateWasmDir();
    assert.ok(nm, 'tfjs-backend-wasm binaries in node_modules');
    copyFileSync(path.join(nm, 'tfjs-backend-wasm.wasm'), path.join(dist, 'tfjs-backend-wasm.wasm'));
    assert.notEqual(locateWasmDir([dist]), dist, 'one binary is not enough');
    copyFileSync(path.join(nm, 'tfjs-backend-wasm-simd.wasm'), path.join(dist, 'tfjs-backend-wasm-simd.wasm'));
    assert.equal(locateWasmDir([dist]), dist);
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
});
