// Assembles the IR Model from what a Keras reader found: the flattened layer tree and the variables with
// their owning layer. Shared by the .h5, .keras and Keras SavedModel readers so that effective
// trainability, layer variable lists and BatchNorm records are computed one way for all of them.
import { ModelReadError } from '../../io/errors';
import {
  elementCount,
  roleFromName,
  type BatchNorm,
  type DType,
  type Layer,
  type MetaGraphSummary,
  type Model,
  type ModelFormat,
  type ModelHandle,
  type TensorData,
  type ModelWarning,
  type Variable,
} from '../../model/ir';
import type { Dataset } from '../hdf5/file';
import { batchNormParams, isBatchNormClass, type FlatKerasLayer } from './keras-config';

/** A variable as a reader found it, before effective trainability is decided. */
export interface KerasVariableDraft {
  readonly key: string;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The flag the file records (SavedVariable.trainable), null when the format has none. */
  readonly savedTrainable: boolean | null;
  /** Whether Keras created it trainable (false for moving statistics); ignored for optimizer variables. */
  readonly createdTrainable: boolean;
  /** Owning layer path, or null when it could not be mapped (a warning says so). */
  readonly layer: string | null;
  readonly optimizerSlot: boolean;
}

export interface KerasModelParts {
  readonly format: ModelFormat;
  readonly path: string;
  readonly tensorflowVersion: string | null;
  readonly kerasVersion: string | null;
  readonly kerasMetadataSource: string | null;
  readonly metaGraphs: readonly MetaGraphSummary[];
  /** Pre-order, root (path '') first. */
  readonly layers: readonly FlatKerasLayer[];
  readonly variables: readonly KerasVariableDraft[];
  readonly kerasConfig: unknown | null;
  readonly warnings: readonly ModelWarning[];
}

/**
 * Builds the Model. A variable trains iff it is not optimizer state, Keras created it trainable, and its layer
 * and every ancestor are trainable. Throws ModelReadError (reason 'internal') if two variables share a key.
 */
export function assembleKerasModel(parts: KerasModelParts, file: string): Model {
  const layerTrainable = new Map<string, boolean>();
  for (const l of parts.layers) layerTrainable.set(l.path, l.trainable);
  const rootTrainable = layerTrainable.get('') ?? true;

  const seenKeys = new Set<string>();
  const variables: Variable[] = parts.variables.map((d) => {
    if (seenKeys.has(d.key)) throw new ModelReadError(file, 'internal', `two variables share the key "${d.key}"`);
    seenKeys.add(d.key);
    const owner = d.layer === null ? rootTrainable : (layerTrainable.get(d.layer) ?? rootTrainable);
    return {
      key: d.key,
      name: d.name,
      shape: d.shape,
      dtype: d.dtype,
      savedTrainable: d.savedTrainable,
      trainable: !d.optimizerSlot && d.createdTrainable && owner,
      layer: d.optimizerSlot ? null : d.layer,
      role: roleFromName(d.name),
      optimizerSlot: d.optimizerSlot,
      size: elementCount(d.shape),
    };
  });

  const owned = new Map<string, Variable[]>();
  for (const v of variables) {
    if (v.layer === null) continue;
    const list = owned.get(v.layer);
    if (list) list.push(v);
    else owned.set(v.layer, [v]);
  }

  const layers: Layer[] = parts.layers.map((l) => ({
    path: l.path,
    name: l.spec.name,
    className: l.spec.className,
    configTrainable: l.spec.configTrainable,
    trainable: l.trainable,
    parent: l.parent,
    isModel: l.path === '' || l.spec.isModel,
    variables: (owned.get(l.path) ?? []).map((v) => v.key),
    callTraining: l.spec.callTraining,
  }));

  const batchNorms: BatchNorm[] = [];
  for (const l of parts.layers) {
    if (l.path === '' || !isBatchNormClass(l.spec.className)) continue;
    const p = batchNormParams(l.spec);
    const mine = owned.get(l.path) ?? [];
    const byRole = (role: Variable['role']): string | null => mine.find((v) => v.role === role)?.key ?? null;
    batchNorms.push({
      layer: l.path,
      className: l.spec.className,
      axis: p.axis,
      momentum: p.momentum,
      epsilon: p.epsilon,
      center: p.center,
      scale: p.scale,
      renorm: p.renorm,
      synchronized: p.synchronized,
      gamma: byRole('gamma'),
      beta: byRole('beta'),
      movingMean: byRole('moving_mean'),
      movingVariance: byRole('moving_variance'),
      trainable: l.trainable,
      graph: null,
    });
  }

  const warnings: ModelWarning[] = [...parts.warnings];
  const conflicts = parts.layers.filter((l) => l.spec.callTrainingConflict).map((l) => l.path);
  if (conflicts.length > 0) {
    warnings.push({
      code: 'other',
      message: `${listSome(conflicts)} ${conflicts.length === 1 ? 'is' : 'are'} called more than once with different training= arguments; callTraining is left unknown`,
      file,
    });
  }

  return {
    format: parts.format,
    path: parts.path,
    tensorflowVersion: parts.tensorflowVersion,
    kerasVersion: parts.kerasVersion,
    kerasMetadataSource: parts.kerasMetadataSource,
    metaGraphs: parts.metaGraphs,
    layers,
    variables,
    batchNorms,
    tf1Graph: null,
    kerasConfig: parts.kerasConfig,
    warnings,
  };
}

/** 'a, b, c and 4 more' for warning messages. */
export function listSome(items: readonly string[], max = 3): string {
  const quoted = items.slice(0, max).map((s) => `"${s}"`);
  return items.length > max ? `${quoted.join(', ')} and ${items.length - max} more` : quoted.join(', ');
}

/** A ModelHandle whose variable values are HDF5 datasets (Keras .h5, and model.weights.h5 inside .keras), by key. */
export function hdf5DatasetHandle(model: Model, datasets: Map<string, Dataset>, display: string): ModelHandle {
  return {
    model,
    async readTensor(key: string): Promise<TensorData> {
      const ds = datasets.get(key);
      if (!ds) throw new ModelReadError(display, 'unknown-variable', `has no variable with key "${key}"`);
      return ds.read();
    },
    async close(): Promise<void> {
      datasets.clear();
    },
  };
}
