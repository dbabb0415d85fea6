// The `inspect --json` contract (documented in README.md): every other tool reads this shape.
import type { Model } from '../../core/model/ir';
import { summarize } from './inspect';

export function toInspectJson(model: Model) {
  return {
    path: model.path,
    format: model.format,
    tensorflowVersion: model.tensorflowVersion,
    kerasVersion: model.kerasVersion,
    kerasMetadataSource: model.kerasMetadataSource,
    summary: summarize(model),
    metaGraphs: model.metaGraphs,
    layers: model.layers.map((l) => ({
      path: l.path,
      name: l.name,
      className: l.className,
      trainable: l.trainable,
      configTrainable: l.configTrainable,
      parent: l.parent,
      isModel: l.isModel,
      callTraining: l.callTraining,
      variables: l.variables,
    })),
    variables: model.variables.map((v) => ({
      key: v.key,
      name: v.name,
      shape: v.shape,
      dtype: v.dtype,
      savedTrainable: v.savedTrainable,
      trainable: v.trainable,
      layer: v.layer,
      role: v.role,
      optimizerSlot: v.optimizerSlot,
      size: v.size,
    })),
    batchNorms: model.batchNorms.map((b) => ({
      layer: b.layer,
      className: b.className,
      trainable: b.trainable,
      axis: b.axis,
      momentum: b.momentum,
      epsilon: b.epsilon,
      center: b.center,
      scale: b.scale,
      renorm: b.renorm,
      synchronized: b.synchronized,
      gamma: b.gamma,
      beta: b.beta,
      movingMean: b.movingMean,
      movingVariance: b.movingVariance,
      graph: b.graph,
    })),
    warnings: model.warnings,
  };
}
