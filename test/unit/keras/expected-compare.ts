// Compares an opened Model with the expected.json TensorFlow wrote for a generated fixture.
import assert from 'node:assert/strict';
import type { Model } from '../../../src/core/model/ir';
import type { Expected } from './real-keras-files';

/** Exact equality of model variables (keys included), layers, BatchNorm layers and training= kwargs with expected.json. */
export function assertMatchesExpected(model: Model, expected: Expected): void {
  const modelVars = model.variables.filter((v) => !v.optimizerSlot);
  assert.deepEqual(
    modelVars.map((v) => ({ name: v.name, key: v.key, shape: [...v.shape], dtype: v.dtype, trainable: v.trainable, layer: v.layer })),
    expected.variables.map((v) => ({ name: v.name, key: v.key, shape: v.shape, dtype: v.dtype, trainable: v.trainable, layer: v.layer })),
    'variables',
  );
  assert.deepEqual(
    model.layers
      .filter((l) => l.path !== '')
      .map((l) => ({
        path: l.path,
        class_name: l.className,
        configTrainable: l.configTrainable,
        effectiveTrainable: l.trainable,
        isModel: l.isModel,
        parent: l.parent === '' ? null : l.parent,
      })),
    expected.layers,
    'layers',
  );
  const nameOf = new Map(model.variables.map((v) => [v.key, v.name]));
  const name = (key: string | null): string | null => (key === null ? null : (nameOf.get(key) ?? `?${key}`));
  assert.deepEqual(
    model.batchNorms.map((b) => ({
      layer: b.layer,
      class_name: b.className,
      momentum: b.momentum,
      epsilon: b.epsilon,
      center: b.center,
      scale: b.scale,
      effectiveTrainable: b.trainable,
      gamma: name(b.gamma),
      beta: name(b.beta),
      moving_mean: name(b.movingMean),
      moving_variance: name(b.movingVariance),
    })),
    expected.batchNorms.map((b) => ({
      layer: b.layer,
      class_name: b.class_name,
      momentum: b.momentum,
      epsilon: b.epsilon,
      center: b.center,
      scale: b.scale,
      effectiveTrainable: b.effectiveTrainable,
      gamma: b.gamma,
      beta: b.beta,
      moving_mean: b.moving_mean,
      moving_variance: b.moving_variance,
    })),
    'batchNorms',
  );
  const calls = Object.fromEntries(model.layers.filter((l) => l.callTraining !== null).map((l) => [l.path, l.callTraining]));
  assert.deepEqual(calls, expected.callTrainingArgs ?? {}, 'callTraining');
  // Every variable a layer lists is one it owns, and every owned variable is listed.
  for (const l of model.layers) {
    assert.deepEqual(l.variables, modelVars.filter((v) => v.layer === l.path).map((v) => v.key), `variables of layer "${l.path}"`);
  }
}
