// Public types of the freeze analysis. The VS Code extension, the Python-script rules and the fine-tune
// verifier code against these; entry points live in ./index.ts. Plain JSON-serializable data.

/** How the model will be trained. Decides what "frozen" does to BatchNorm. */
export type Runtime = 'tf1-graph' | 'tf2-keras' | 'keras3';
export type RuntimeSetting = 'auto' | Runtime;

/**
 * How `freeze` / `train` patterns are read.
 * - regex: Python-style regular expression, searched anywhere in the target (re.search; what
 *   tf.contrib.framework.filter_variables does).
 * - prefix: the target starts with the pattern, literally (what `scope=` is used for).
 * - glob: fnmatch on the whole target; `*` also crosses '/'.
 */
export type PatternSyntax = 'regex' | 'prefix' | 'glob';

/** TF1: which UPDATE_OPS the train op depends on. Scopes filter like tf.get_collection(UPDATE_OPS, scope): re.match. */
export type UpdateOpsSetting = 'all' | 'none' | { readonly scopes: readonly string[] };

/**
 * Keras: where trainable flags start before `freeze`/`train` apply. 'saved': the model's saved flags;
 * 'all': every layer set trainable=True; 'model': only `model.trainable = True` on the outer model (tf_keras
 * recurses into every layer; Keras 3 does nothing when the outer model already is trainable).
 */
export type BaseTrainable = 'saved' | 'all' | 'model';

export type VerifyOptimizer = 'sgd' | 'momentum' | 'adam';

export type VerifyData =
  | { readonly kind: 'synthetic' }
  | { readonly kind: 'images'; readonly path: string }
  | { readonly kind: 'npy'; readonly path: string }
  | { readonly kind: 'csv'; readonly path: string };

export interface VerifySettings {
  readonly steps: number;
  readonly batchSize: number;
  readonly optimizer: VerifyOptimizer;
  readonly learningRate: number;
  readonly seed: number;
  readonly data: VerifyData;
}

/** A parsed `*.freeze.json`, defaults applied. */
export interface FreezeConfig {
  /** `model` exactly as written: relative to the config file. Resolve with resolveModelPath(). */
  readonly model: string;
  readonly runtime: RuntimeSetting;
  readonly patternSyntax: PatternSyntax;
  /** Excluded from training (exclude_patterns). TF1: matched against variable op names; Keras: layer paths. */
  readonly freeze: readonly string[];
  /** Allow-list (include_patterns); null (or [] in the file) = everything not frozen may train. */
  readonly train: readonly string[] | null;
  /** The training flag the model is called with (`is_training`, `training=`). Default true. */
  readonly training: boolean;
  /** `"training": null` in the file: the model is called without a training argument (Keras: inference mode; TF1: False is fed). */
  readonly trainingNotPassed?: boolean;
  /** Per-layer (Keras layer path) or per-scope (TF1) training flag, e.g. a base called with training=False. */
  readonly trainingOverrides: Readonly<Record<string, boolean>>;
  /** TF1: UPDATE_OPS the train op depends on. Default 'all' (minimize under `control_dependencies(UPDATE_OPS)`). */
  readonly updateOps: UpdateOpsSetting;
  /**
   * TF1: train with the train op saved in the graph (its var_list and its update-op dependencies, computed by
   * reachability on the real graph) instead of one built from freeze/train/updateOps. Default false.
   * true: the train_op-collection entry that runs all the others (slim's train tensor, not the optimizer's
   * apply op that apply_gradients registers first); 'collection[0]': exactly tf.get_collection('train_op')[0].
   */
  readonly useSavedTrainOp: boolean | 'collection[0]';
  /** Keras: where trainable flags start before `freeze`/`train` apply. Default 'saved'. */
  readonly baseTrainable: BaseTrainable;
  /** Short fine-tune settings (null when absent; defaults are applied by the verifier via defaultVerifySettings). */
  readonly verify: VerifySettings | null;
  /** Python training scripts linked to this config, relative to the config file. */
  readonly scripts: readonly string[];
}

export type Severity = 'error' | 'warning' | 'info';

export type ConfigDiagnosticCode =
  | 'invalid-json'
  | 'not-an-object'
  | 'duplicate-key'
  | 'unknown-key'
  | 'missing-key'
  | 'wrong-type'
  | 'invalid-value'
  | 'invalid-regex'
  | 'empty-pattern';

/** A problem in the config text, with its place: offset/length into the text and the JSON path. */
export interface ConfigDiagnostic {
  readonly code: ConfigDiagnosticCode | FindingCode;
  readonly severity: Severity;
  readonly message: string;
  readonly offset: number;
  readonly length: number;
  readonly path: readonly (string | number)[];
}

export interface ParsedFreezeConfig {
  /** Defaults applied; invalid values replaced by defaults (see diagnostics). null only when the text is not a JSON object. */
  readonly config: FreezeConfig | null;
  readonly diagnostics: readonly ConfigDiagnostic[];
}

/** Why a variable changes or not in one training step. */
export type ChangeReason =
  /** Trained by the optimizer. */
  | 'gradient'
  /** BatchNorm moving statistic updated by its moving-average op. */
  | 'moving-average'
  /** A step counter or other variable written by the train op (TF1 graph: global_step AssignAdd). */
  | 'written-by-train-op'
  /** TF1: an optimizer slot (Momentum, Adam m/v): changes iff the variable it belongs to is trained. */
  | 'optimizer-slot'
  /** Keras: the layer (or a parent) is trainable=False, set by the config or saved in the model. */
  | 'frozen'
  /** TF1: excluded from the optimizer's var_list by the config's freeze/train patterns. */
  | 'not-in-var-list'
  /** Not trainable in the model itself (TF1: not in trainable_variables; Keras: non-trainable weight). */
  | 'not-trainable'
  /** Moving statistic of a BatchNorm in inference mode (training=False, or a frozen Keras 2/3 layer). */
  | 'inference-mode'
  /** TF1: moving statistic of a BatchNorm in training mode whose update op the train op does not run. */
  | 'update-op-not-run';

export interface VariablePrediction {
  readonly key: string;
  readonly name: string;
  readonly layer: string | null;
  readonly role: string;
  /** Does one training step change this variable? */
  readonly changes: boolean;
  readonly reason: ChangeReason;
  readonly explanation: string;
}

export interface BatchNormPrediction {
  readonly layer: string;
  readonly normalizesWith: 'batch' | 'moving';
  readonly movingStatsUpdate: boolean;
  readonly gammaBetaTrained: boolean;
  readonly runtime: Runtime;
  /** Which training flag the layer ends up with, and where it came from. */
  readonly trainingMode: boolean;
  readonly explanation: string;
}

export type FindingCode =
  /** Frozen gamma/beta, but moving statistics still move (TF1 exclude_patterns + is_training=True + all UPDATE_OPS). */
  | 'frozen-bn-stats-drift'
  /** BN in training mode whose update ops never run: statistics never follow the data. */
  | 'bn-update-ops-not-run'
  /** gamma frozen and beta not, or the reverse. */
  | 'bn-half-frozen'
  /** A freeze/train pattern matches no variable/layer. */
  | 'pattern-matches-nothing'
  /** A frozen BN still normalizes with batch statistics: training and inference see different normalization. */
  | 'frozen-bn-batch-stats'
  /** Keras 3.0-3.15.1: a functional graph's recorded training=False is overridden by the outer training=True. */
  | 'keras3-training-false-overridden'
  /** Trainable BN inside a part called with training=False: gamma/beta train on moving statistics. */
  | 'trainable-bn-in-inference-call'
  /** Keras 3: trainable changes after a fit() need a recompile. */
  | 'keras3-recompile-after-freeze'
  /** TF1 graph: the config's training flag cannot change a BN whose is_training is a constant in the graph. */
  | 'training-flag-fixed-in-graph'
  /** Nothing trains at all with this config. */
  | 'nothing-trains';

/** A structured edit of the config, by JSON path. 'insert' inserts into an array at path's last index. */
export interface ConfigEdit {
  readonly kind: 'set' | 'insert' | 'remove';
  readonly path: readonly (string | number)[];
  readonly value?: unknown;
}

export interface Fix {
  readonly title: string;
  readonly isPreferred: boolean;
  readonly edits: readonly ConfigEdit[];
}

export interface FindingTarget {
  readonly kind: 'layer' | 'variable' | 'pattern' | 'config' | 'model';
  readonly name: string;
}

export interface Finding {
  readonly code: FindingCode;
  readonly severity: Severity;
  readonly message: string;
  readonly target: FindingTarget;
  readonly fixes: readonly Fix[];
  /** Where in the config the finding belongs (e.g. ['freeze', 2]), when it comes from a config entry. */
  readonly configPath?: readonly (string | number)[];
  /** offset/length of configPath's node in the config text, when analyze() was given the text. */
  readonly configRange?: { readonly offset: number; readonly length: number };
}

export interface AnalysisResult {
  readonly runtime: Runtime;
  /** Why this runtime (which versions/format decided it, or "set in the config"). */
  readonly runtimeWhy: string;
  readonly variables: readonly VariablePrediction[];
  readonly batchNorms: readonly BatchNormPrediction[];
  readonly findings: readonly Finding[];
}

/** What a pattern matched (hovers, pattern-matches-nothing). */
export interface PatternMatch {
  /** The string the pattern is matched against: 'variable op name' (TF1) or 'layer path' (Keras). */
  readonly target: 'variable-name' | 'layer-path';
  /** Keys of the matched variables (Keras: every variable of the matched layers and their sublayers). */
  readonly variables: readonly string[];
  /** Paths of the layers matched directly (Keras) or owning a matched variable (TF1). */
  readonly layers: readonly string[];
  /** Set when the pattern cannot be compiled. */
  readonly error?: string;
}

/** A text edit in the config text (offset/length into the original text). */
export interface TextEdit {
  readonly offset: number;
  readonly length: number;
  readonly newText: string;
}
