// The one model shape every format is normalized to. Analysis, CLI, extension and fine-tune read only
// this. Plain readonly data (JSON-serializable), so it crosses worker and webview boundaries unchanged.

/** What was opened. Detailed enough that the runtime can be chosen from it. */
export type ModelFormat =
  /** TF1 graph SavedModel (SavedModelBuilder / simple_save / Estimator export): no object graph. */
  | 'saved-model-tf1'
  /** TF2 SavedModel written by tf.keras 2.x / tf_keras `model.save(dir)`, Keras metadata present. */
  | 'saved-model-keras'
  /** Keras 3 `model.export(dir)` (or tf.saved_model.save of a Keras 3 model). */
  | 'saved-model-keras3-export'
  /** TF2 SavedModel of a tf.Module or other non-Keras trackable. */
  | 'saved-model-tf2'
  /** TF1 `.meta` graph + checkpoint (`.index` / `.data-*`). */
  | 'tf1-meta-checkpoint'
  /** Keras HDF5 (`model.save('x.h5')`, Keras 2). */
  | 'keras-h5'
  /** Keras 3 `.keras` zip archive. */
  | 'keras-v3';

export type VariableRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance' | 'other';

export type DType = string; // 'float32', 'int64', 'resource', ... (TensorFlow's names without 'DT_')

export interface Variable {
  /** Checkpoint key: variables.index key (SavedModel, TF1), HDF5 dataset path (.h5), weights path (.keras). Unique. */
  readonly key: string;
  /** TensorFlow's name: TF1 op name; Keras 2 `v.name` without ':0'; Keras 3 `v.path`. */
  readonly name: string;
  /** -1 for unknown dimensions; [] for scalars. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The flag the file records (SavedVariable.trainable, VariableDef.trainable); null when the format has none. Often wrong: see `trainable`. */
  readonly savedTrainable: boolean | null;
  /** Effective: a variable trains iff its layer and every parent are trainable (Keras) or it is in the trainable_variables collection (TF1). */
  readonly trainable: boolean;
  /** Owning layer path ('base/bn1', TF1: the scope of the variable, e.g. 'A/batch_normalization'), or null. */
  readonly layer: string | null;
  readonly role: VariableRole;
  /** True for optimizer slot variables (momentum, Adam m/v, ...) and optimizer state (iterations, ...). */
  readonly optimizerSlot: boolean;
  /** Number of elements, or null when a dimension is unknown. */
  readonly size: number | null;
}

export interface Layer {
  /** Unique path: nested model names joined with '/', without the root model's name, e.g. 'base/bn1'. The root model has path ''. */
  readonly path: string;
  readonly name: string;
  readonly className: string;
  /** The layer's own `trainable` flag as saved. */
  readonly configTrainable: boolean;
  /** Effective: false if the layer or any ancestor is non-trainable. */
  readonly trainable: boolean;
  /** Path of the parent layer/model, null for the root. */
  readonly parent: string | null;
  /** True for Functional/Sequential/subclassed models nested as layers (and the root). */
  readonly isModel: boolean;
  /** Keys of the variables this layer owns directly. */
  readonly variables: readonly string[];
  /**
   * The `training=` argument recorded for this layer's call in the saved functional graph
   * (e.g. `base(x, training=False)`): true/false, or null when not recorded.
   */
  readonly callTraining: boolean | null;
}

export interface BatchNormGraphInfo {
  /** The normalization op(s): FusedBatchNorm*/ /* or the moments form's mean op. */
  readonly normOps: readonly string[];
  /** Constant `is_training` attribute/flag of the op, or 'dynamic' when it depends on a tensor (cond/placeholder). */
  readonly isTraining: boolean | 'dynamic';
  /** The placeholder (or placeholder_with_default) node deciding training mode, when dynamic. */
  readonly trainingInput: string | null;
  /** The ops that write the moving statistics (AssignMovingAvg/AssignSub*, AssignVariableOp ...). */
  readonly movingMeanUpdates: readonly string[];
  readonly movingVarianceUpdates: readonly string[];
  /** 'fused' (FusedBatchNorm*) or 'moments' (non-fused: Mean/SquaredDifference/...). */
  readonly form: 'fused' | 'moments';
}

export interface BatchNorm {
  /** Layer path (Keras) or variable scope (TF1), e.g. 'A/batch_normalization'. */
  readonly layer: string;
  readonly className: string;
  readonly axis: readonly number[];
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly renorm: boolean;
  readonly synchronized: boolean;
  /** Keys of the four variables (null when absent, e.g. scale=false has no gamma). */
  readonly gamma: string | null;
  readonly beta: string | null;
  readonly movingMean: string | null;
  readonly movingVariance: string | null;
  /** Effective trainable of the layer (Keras), or whether gamma/beta are in trainable_variables (TF1). */
  readonly trainable: boolean;
  /** TF1 graphs only: the ops that implement this layer. */
  readonly graph: BatchNormGraphInfo | null;
}

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[] | null;
}

export interface Signature {
  readonly key: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

export interface MetaGraphSummary {
  readonly tags: readonly string[];
  readonly tensorflowVersion: string | null;
  readonly tensorflowGitVersion: string | null;
  readonly nodeCount: number;
  readonly functionCount: number;
  readonly signatures: readonly Signature[];
  readonly collections: readonly string[];
}

/** A simplified AttrValue: enough to resolve training flags and show op details; never large tensors. */
export type AttrValue =
  | { readonly kind: 'b'; readonly value: boolean }
  | { readonly kind: 'i'; readonly value: number }
  | { readonly kind: 'f'; readonly value: number }
  | { readonly kind: 's'; readonly value: string }
  | { readonly kind: 'type'; readonly value: DType }
  | { readonly kind: 'shape'; readonly value: readonly number[] | null }
  | { readonly kind: 'tensor'; readonly dtype: DType; readonly shape: readonly number[]; readonly values: readonly (number | boolean | string)[] | null }
  | { readonly kind: 'func'; readonly value: string }
  | { readonly kind: 'list'; readonly value: readonly (number | string | boolean)[] }
  | { readonly kind: 'other' };

export interface GraphNode {
  readonly name: string;
  readonly op: string;
  /** Raw inputs: 'x', 'x:1', '^ctrl'. */
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** TF1 graphs: what reachability analysis needs. */
export interface Tf1Graph {
  /** Tags of the meta graph this graph came from. */
  readonly tags: readonly string[];
  readonly nodes: readonly GraphNode[];
  /** Collections as node or tensor names (':0' kept as written): trainable_variables, variables, update_ops, train_op, ... */
  readonly collections: Readonly<Record<string, readonly string[]>>;
}

export type WarningCode =
  | 'missing-data-shard'
  | 'missing-checkpoint'
  | 'unmapped-variable'
  | 'saved-trainable-mismatch'
  | 'no-training-graph'
  | 'multiple-meta-graphs'
  | 'unknown-layer'
  | 'other';

export interface ModelWarning {
  readonly code: WarningCode;
  readonly message: string;
  readonly file?: string;
}

export interface Model {
  readonly format: ModelFormat;
  /** The path the user opened (file or folder), as given. */
  readonly path: string;
  readonly tensorflowVersion: string | null;
  readonly kerasVersion: string | null;
  /** Where the Keras layer structure came from: 'keras_metadata.pb', 'object-graph' (TF <= 2.4), 'h5-model_config', 'config.json', or null. */
  readonly kerasMetadataSource: string | null;
  readonly metaGraphs: readonly MetaGraphSummary[];
  readonly layers: readonly Layer[];
  readonly variables: readonly Variable[];
  readonly batchNorms: readonly BatchNorm[];
  /** Present for TF1 graphs (SavedModel or .meta): the graph used for update-op reachability. */
  readonly tf1Graph: Tf1Graph | null;
  /** Raw Keras model config (the JSON Keras itself wrote), for rebuilding the model in the fine-tune engine. */
  readonly kerasConfig: unknown | null;
  readonly warnings: readonly ModelWarning[];
}

/** Decoded tensor values (read lazily, only when asked). */
export interface TensorData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | string[];
}

/** An opened model plus lazy access to its variable values. */
export interface ModelHandle {
  readonly model: Model;
  /** Reads one variable's value by its key. Throws ModelReadError. */
  readTensor(key: string): Promise<TensorData>;
  close(): Promise<void>;
}

export function elementCount(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (d < 0) return null;
    n *= d;
  }
  return n;
}

/** Role of a variable from its last name component (Keras and TF1 naming). */
export function roleFromName(name: string): VariableRole {
  const last = name.split('/').pop() ?? name;
  const base = last.replace(/:\d+$/, '').replace(/_\d+$/, '');
  switch (base) {
    case 'kernel':
    case 'depthwise_kernel':
    case 'pointwise_kernel':
    case 'weights':
    case 'embeddings':
      return 'kernel';
    case 'bias':
    case 'biases':
      return 'bias';
    case 'gamma':
      return 'gamma';
    case 'beta':
      return 'beta';
    case 'moving_mean':
      return 'moving_mean';
    case 'moving_variance':
      return 'moving_variance';
    default:
      return 'other';
  }
}
