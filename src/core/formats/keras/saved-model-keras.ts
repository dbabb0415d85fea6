// tf.keras 2.x / tf_keras SavedModels (`model.save(dir)`, TF 2.0-2.15): the Keras layer tree from
// keras_metadata.pb (TF >= 2.5) or the object graph's user-object metadata (TF <= 2.4), variables from the
// object graph with the checkpoint keys the SavedModel reader computed. Effective trainability comes from
// the layers' `trainable` metadata; SavedVariable.trainable is only the creation-time flag (kept as
// savedTrainable, and reported when a frozen layer's variable still claims to be trainable).
import { ModelReadError } from '../../io/errors';
import type { ModelHandle, ModelWarning, TensorData } from '../../model/ir';
import type { SavedModelParts } from '../saved-model/parts';
import { assembleKerasModel, listSome } from './keras-model';
import { kerasLayersFromMetadata, kerasVariablesFromObjectGraph, metadataFromKerasProto, metadataFromObjectGraph } from './saved-model-layers';

/**
 * Builds the model of a Keras SavedModel from the decoded parts. Throws ModelReadError when the Keras
 * metadata is missing or malformed (a SavedModel without it is not a Keras one: see tf2-objects.ts).
 */
export function buildKerasSavedModel(parts: SavedModelParts): ModelHandle {
  const fromFile = parts.kerasMetadata !== null;
  const metadataFile = fromFile ? 'keras_metadata.pb' : parts.protoFile;
  const nodes = fromFile ? metadataFromKerasProto(parts.kerasMetadata!) : metadataFromObjectGraph(parts.objectGraph);
  if (nodes.length === 0) {
    throw new ModelReadError(metadataFile, 'no-keras-metadata', fromFile ? 'holds no Keras objects' : 'has no Keras metadata in its object graph');
  }
  const structure = kerasLayersFromMetadata(nodes, metadataFile);
  const mapped = kerasVariablesFromObjectGraph(
    parts.objectGraph,
    structure,
    (id) => {
      const v = parts.objectMap.byNode.get(id);
      return v ? { checkpointKey: v.checkpointKey === '' ? null : v.checkpointKey, optimizerSlot: v.optimizerSlot } : null;
    },
    parts.protoFile,
  );
  const model = assembleKerasModel(
    {
      format: 'saved-model-keras',
      path: parts.display,
      tensorflowVersion: parts.tensorflowVersion,
      kerasVersion: structure.kerasVersion,
      kerasMetadataSource: fromFile ? 'keras_metadata.pb' : 'object-graph',
      metaGraphs: parts.metaGraphs,
      layers: structure.layers,
      variables: mapped.variables,
      kerasConfig: structure.kerasConfig,
      warnings: [...parts.warnings, ...structure.warnings, ...mapped.warnings],
    },
    metadataFile,
  );

  // The flag TensorFlow saved says "trainable" for variables of frozen layers: say which ones, once.
  const stale = model.variables.filter((v) => v.savedTrainable === true && !v.trainable && !v.optimizerSlot);
  const warnings: ModelWarning[] = [...model.warnings];
  if (stale.length > 0) {
    warnings.push({
      code: 'saved-trainable-mismatch',
      message: `SavedVariable.trainable is true for ${stale.length} variable${stale.length === 1 ? '' : 's'} of non-trainable layers (${listSome(stale.map((v) => v.name))}): it records how they were created; the layers' trainable flags make them frozen`,
      file: parts.protoFile,
    });
  }

  const keys = new Set(model.variables.map((v) => v.key));
  return {
    model: { ...model, warnings },
    async readTensor(key: string): Promise<TensorData> {
      if (!keys.has(key)) throw new ModelReadError(parts.display, 'unknown-variable', `has no variable with key "${key}"`);
      if (!parts.checkpoint) throw new ModelReadError(parts.display, 'missing-checkpoint', `has no checkpoint (${parts.checkpointPrefix}.index), so variable values cannot be read`);
      return parts.checkpoint.readTensor(key);
    },
    async close(): Promise<void> {},
  };
}
