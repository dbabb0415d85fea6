// IR for TF2 SavedModels without Keras 2 metadata:
// - 'saved-model-tf2' (tf.Module and other trackables): variables from the object graph; name =
//   SavedVariable.name (else the object path); layer = the object path's parent ('' -> null); effective
//   trainable = SavedVariable.trainable (a tf.Module's trainable_variables are exactly those).
// - 'saved-model-keras3-export' (Keras 3 `model.export()`): the root's `trainable_variables` list reflects
//   the freeze (SEMANTICS.md 1.3, gotcha 3) and decides effective trainable; name = SavedVariable.name
//   (Keras 3 `v.path`, e.g. 'bn1/gamma'); layer = its scope. Nested models are not recorded in an export:
//   a variable of 'base/bn1' appears as 'bn1/gamma' with layer 'bn1'. The export tracks every variable twice
//   (root `variables` and `_all_variables`); the `variables` entry is kept.
import type { Model, ModelFormat, ModelWarning, Variable } from '../../model/ir';
import { elementCount, roleFromName } from '../../model/ir';
import { dtypeName } from '../proto/dtype';
import { shapeDims } from '../meta-graph/graph-nodes';
import { scopeOf } from '../tf1/graph-index';
import { scopeLayers } from '../tf1/scope-layers';
import type { SavedModelParts } from './parts';
import { childByName, type ObjectGraphVariable } from './object-graph';
import { batchNormsFromVariableNames } from './scoped-batch-norms';

/** Root children that mark a Keras 3 `model.export()` archive. */
export function isKeras3Export(parts: Pick<SavedModelParts, 'objectGraph'>): boolean {
  const g = parts.objectGraph;
  const lists = ['variables', 'trainable_variables', 'non_trainable_variables'].map((n) => childByName(g, 0, n));
  return lists.every((id) => id !== undefined && g.nodes[id]?.userObject?.identifier === 'trackable_list_wrapper');
}

export function buildTf2ObjectModel(parts: SavedModelParts, format: Extract<ModelFormat, 'saved-model-tf2' | 'saved-model-keras3-export'>): Model {
  const warnings: ModelWarning[] = [...parts.warnings];
  const g = parts.objectGraph;
  let trainableIds: Set<number> | null = null;
  let duplicateOf: (ov: ObjectGraphVariable) => boolean = () => false;
  if (format === 'saved-model-keras3-export') {
    const listed = (name: string): number[] => {
      const id = childByName(g, 0, name);
      return id === undefined ? [] : g.nodes[id].children.map((c) => c.nodeId);
    };
    trainableIds = new Set(listed('trainable_variables'));
    // The export tracks each variable twice (root `variables` and `_all_variables`, saved under two keys):
    // keep the `variables` entry (its key is the first breadth-first path).
    const modelIds = new Set(listed('variables'));
    const modelNames = new Set(parts.objectMap.variables.filter((v) => modelIds.has(v.nodeId)).map((v) => v.fullName));
    duplicateOf = (ov) => !modelIds.has(ov.nodeId) && ov.fullName !== null && modelNames.has(ov.fullName);
  }

  const unmapped: string[] = [];
  const variables: Variable[] = [];
  for (const ov of parts.objectMap.variables) {
    if (duplicateOf(ov)) continue;
    if (ov.checkpointKey === '') {
      unmapped.push(`node ${ov.nodeId}`);
      continue;
    }
    if (ov.inCheckpoint === false) unmapped.push(ov.checkpointKey);
    variables.push(toVariable(ov, parts, format, trainableIds));
  }
  if (unmapped.length > 0) {
    warnings.push({
      code: 'unmapped-variable',
      message: `${unmapped.length} object-graph variable${unmapped.length > 1 ? 's have' : ' has'} no value in the checkpoint: ${unmapped.slice(0, 8).join(', ')}${unmapped.length > 8 ? ' …' : ''}`,
      file: parts.checkpoint?.indexFile,
    });
  }

  const { batchNorms, defaultedEpsilon } = batchNormsFromVariableNames(variables, parts.metaGraph.graphDef);
  if (batchNorms.length > 0) {
    warnings.push({
      code: 'other',
      message: `BatchNorm momentum is not recorded in this ${format === 'saved-model-keras3-export' ? 'export' : 'SavedModel'}: Keras' default 0.99 shown${defaultedEpsilon.length ? `; epsilon not found for ${defaultedEpsilon.join(', ')} (0.001 shown)` : ''}`,
    });
  }
  const bnScopes = new Set(batchNorms.map((b) => b.layer));
  const layers = scopeLayers(variables, (s) => (bnScopes.has(s) ? 'BatchNormalization' : format === 'saved-model-tf2' ? 'Module' : 'Layer'));
  return {
    format,
    path: parts.display,
    tensorflowVersion: parts.tensorflowVersion,
    kerasVersion: null,
    kerasMetadataSource: null,
    metaGraphs: parts.metaGraphs,
    layers,
    variables,
    batchNorms,
    tf1Graph: null,
    kerasConfig: null,
    warnings,
  };
}

function toVariable(ov: ObjectGraphVariable, parts: SavedModelParts, format: ModelFormat, trainableIds: Set<number> | null): Variable {
  const sv = ov.variable;
  const entry = parts.checkpoint?.entry(ov.checkpointKey);
  let shape = shapeDims(sv.shape);
  if ((shape === null || shape.some((d) => d < 0)) && entry) shape = [...entry.shape];
  const s = shape ?? [];
  const name = ov.fullName ?? ov.objectPath ?? `node_${ov.nodeId}`;
  let layer: string | null;
  if (ov.slot) {
    const orig = parts.objectMap.byNode.get(ov.slot.originalNodeId);
    layer = orig ? layerOf(orig, format) : null;
  } else layer = ov.optimizerSlot ? null : layerOf(ov, format);
  const trainable = !ov.optimizerSlot && (trainableIds ? trainableIds.has(ov.nodeId) : sv.trainable);
  return {
    key: ov.checkpointKey,
    name,
    shape: s,
    dtype: sv.dtype ? dtypeName(sv.dtype) : (entry?.dtype ?? 'invalid'),
    savedTrainable: sv.trainable,
    trainable,
    layer,
    role: ov.optimizerSlot ? 'other' : roleFromName(name),
    optimizerSlot: ov.optimizerSlot,
    size: shape === null ? null : elementCount(s),
  };
}

function layerOf(ov: ObjectGraphVariable, format: ModelFormat): string | null {
  if (format === 'saved-model-keras3-export') return ov.fullName ? scopeOf(ov.fullName) || null : null;
  return ov.objectPath !== null ? scopeOf(ov.objectPath) || null : null;
}
