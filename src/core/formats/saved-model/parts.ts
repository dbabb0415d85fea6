// Everything the SavedModel reader decodes, handed to the Keras SavedModel builder
// (src/core/formats/keras/saved-model-keras.ts: `buildKerasSavedModel(parts)`).
import type { FileSource } from '../../io/file-source';
import type { MetaGraphSummary, ModelWarning } from '../../model/ir';
import type { CheckpointReader } from '../checkpoint/checkpoint';
import type { KerasSavedObject, MetaGraphDef, SavedModel, SavedObjectGraph } from '../proto/gen';
import type { OpDefaults } from '../meta-graph/graph-nodes';
import type { ObjectGraphMap } from './object-graph';
import type { SavedModelFile } from './read';

export interface SavedModelParts {
  /** Rooted at the SavedModel folder. */
  readonly src: FileSource;
  /** What the user opened (Model.path). */
  readonly display: string;
  /** 'saved_model.pb' or 'saved_model.pbtxt'. */
  readonly protoFile: SavedModelFile;
  /** The whole decoded proto (function bodies stay lazy: graphDef.library). */
  readonly savedModel: SavedModel;
  /** Summaries of every meta graph, in file order (Model.metaGraphs). */
  readonly metaGraphs: readonly MetaGraphSummary[];
  /** The meta graph holding the object graph (the 'serve' one when there are several). */
  readonly metaGraph: MetaGraphDef;
  readonly objectGraph: SavedObjectGraph;
  /** Checkpoint key, object paths and optimizer role of every SavedVariable node (see object-graph.ts). */
  readonly objectMap: ObjectGraphMap;
  /** Opened on 'variables/variables' (index only), or null when the checkpoint is missing. */
  readonly checkpoint: CheckpointReader | null;
  /** 'variables/variables'. */
  readonly checkpointPrefix: string;
  /** Warnings so far (missing checkpoint / shard, unmapped variables, several meta graphs). */
  readonly warnings: readonly ModelWarning[];
  /** keras_metadata.pb nodes when the file exists (TF >= 2.5), else null (TF <= 2.4 keeps the JSON in objectGraph user objects). */
  readonly kerasMetadata: readonly KerasSavedObject[] | null;
  /** meta_info_def.tensorflow_version of the chosen meta graph, or null. */
  readonly tensorflowVersion: string | null;
  /** OpDef defaults of this meta graph, for turning function-body NodeDefs into GraphNodes (meta-graph/graph-nodes.ts toGraphNode). */
  readonly opDefaults: OpDefaults;
}
