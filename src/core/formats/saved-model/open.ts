// SavedModel folder -> ModelHandle. Reads saved_model.pb(txt), keras_metadata.pb and the checkpoint INDEX
// (never variables.data: values are read only by readTensor). Dispatch:
//   no object graph                         -> 'saved-model-tf1' (tf1/build.ts)
//   keras_metadata.pb, or Keras metadata JSON
//   in SavedUserObject.metadata (TF <= 2.4) -> Keras 2 SavedModel (keras/saved-model-keras.ts)
//   root lists variables / trainable_variables
//   / non_trainable_variables               -> 'saved-model-keras3-export'
//   otherwise                               -> 'saved-model-tf2' (tf.Module, ...)
// Throws only ModelReadError.
import type { FileSource } from '../../io/file-source';
import { ModelReadError } from '../../io/errors';
import type { Model, ModelHandle, ModelWarning, TensorData } from '../../model/ir';
import type { KerasSavedObject, SavedObjectGraph } from '../proto/gen';
import { decodeKerasSavedMetadata } from '../proto/gen';
import { decodeMessage } from '../proto/wire';
import { opDefaultsFrom } from '../meta-graph/graph-nodes';
import { summarizeMetaGraph } from '../meta-graph/summary';
import { openCheckpointIfPresent, tensorReader } from '../meta-graph/checkpoint-index';
import { buildTf1Model } from '../tf1/build';
import { chooseMetaGraph, readSavedModelProto } from './read';
import { mapObjectGraph } from './object-graph';
import type { SavedModelParts } from './parts';
import { buildTf2ObjectModel, isKeras3Export } from './tf2-objects';

export const CHECKPOINT_PREFIX = 'variables/variables';
export const KERAS_METADATA_FILE = 'keras_metadata.pb';

/** `src` is rooted at the SavedModel folder; `display` is what the user opened (Model.path). */
export async function openSavedModel(src: FileSource, display: string): Promise<ModelHandle> {
  const parts = await readSavedModelParts(src, display);
  if ('tf1' in parts) return handleOf(parts.tf1, parts.readTensor);
  if (parts.kerasMetadata !== null || hasKerasObjectMetadata(parts.objectGraph)) {
    // Loaded on demand: only Keras 2 SavedModels need the Keras layer-tree code.
    const { buildKerasSavedModel } = await import('../keras/saved-model-keras');
    return buildKerasSavedModel(parts);
  }
  const model = buildTf2ObjectModel(parts, isKeras3Export(parts) ? 'saved-model-keras3-export' : 'saved-model-tf2');
  return handleOf(model, tensorReader(parts.checkpoint, display, CHECKPOINT_PREFIX));
}

/**
 * Decodes everything of a TF2 SavedModel into SavedModelParts; a TF1 SavedModel (no object graph) comes back
 * already built as `{ tf1: Model }`.
 */
export async function readSavedModelParts(
  src: FileSource,
  display: string,
): Promise<SavedModelParts | { tf1: Model; readTensor: (key: string) => Promise<TensorData> }> {
  const warnings: ModelWarning[] = [];
  const { file, savedModel } = await readSavedModelProto(src);
  const metaGraphs = savedModel.metaGraphs.map(summarizeMetaGraph);
  const metaGraph = chooseMetaGraph(savedModel, file, warnings);
  const checkpoint = await openCheckpointIfPresent(src, CHECKPOINT_PREFIX, warnings);
  const objectGraph = metaGraph.objectGraphDef;
  if (!objectGraph || objectGraph.nodes.length === 0) {
    const tf1 = buildTf1Model({ format: 'saved-model-tf1', path: display, file, metaGraphs, metaGraph, checkpoint, warnings });
    return { tf1, readTensor: tensorReader(checkpoint, display, CHECKPOINT_PREFIX) };
  }
  const objectMap = mapObjectGraph(objectGraph, { checkpointKeys: checkpoint ? new Set(checkpoint.keys()) : null });
  return {
    src,
    display,
    protoFile: file,
    savedModel,
    metaGraphs,
    metaGraph,
    objectGraph,
    objectMap,
    checkpoint,
    checkpointPrefix: CHECKPOINT_PREFIX,
    warnings,
    kerasMetadata: await readKerasMetadata(src),
    tensorflowVersion: metaGraph.metaInfoDef?.tensorflowVersion || null,
    opDefaults: opDefaultsFrom(metaGraph.metaInfoDef?.strippedOpList),
  };
}

/** keras_metadata.pb nodes, or null when the file is absent. */
export async function readKerasMetadata(src: FileSource): Promise<KerasSavedObject[] | null> {
  const st = await src.stat(KERAS_METADATA_FILE);
  if (!st || st.isDirectory) return null;
  const bytes = await src.read(KERAS_METADATA_FILE);
  const meta = decodeMessage(bytes, KERAS_METADATA_FILE, decodeKerasSavedMetadata);
  if (meta.nodes.length === 0) throw new ModelReadError(KERAS_METADATA_FILE, 'empty', 'holds no Keras object metadata');
  return meta.nodes;
}

/** TF <= 2.4 Keras SavedModels: the layers' metadata JSON lives in SavedUserObject.metadata ('_tf_keras_*' identifiers). */
export function hasKerasObjectMetadata(graph: SavedObjectGraph): boolean {
  return graph.nodes.some((n) => n.userObject !== undefined && n.userObject.identifier.startsWith('_tf_keras') && n.userObject.metadata !== '');
}

function handleOf(model: Model, readTensor: (key: string) => Promise<TensorData>): ModelHandle {
  return { model, readTensor, close: async () => {} };
}
