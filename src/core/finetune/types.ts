// Verification by fine-tuning: the request, the streamed events and the result. Plain JSON data: these cross
// the worker boundary (tfjs engine), the stdio boundary (Python runner, JSON lines) and the webview boundary
// unchanged. src/shared/protocol.ts re-exports them.
import type { Runtime, VerifySettings } from '../analysis/types';

export type EngineKind = 'tfjs' | 'python';

/** What the engine trains, decided before it starts (see plan.ts). */
export interface VerifyRequest {
  readonly requestId: string;
  /** The model as the user opened it (file or folder). Never written to. */
  readonly modelPath: string;
  /** The `*.freeze.json` the config came from (the Python runner re-reads it, as the oracle does), or null. */
  readonly configPath: string | null;
  readonly runtime: Runtime;
  readonly settings: VerifySettings;
  /** Keras layer path -> effective trainable after the config is applied (and every ancestor). */
  readonly layerTrainable: Readonly<Record<string, boolean>>;
  /** The `training` flag the model is called with, and per-layer overrides (config `trainingOverrides`, recorded `training=` kwargs). */
  readonly training: boolean;
  readonly trainingOverrides: Readonly<Record<string, boolean>>;
  /** Per-variable predictions from the analysis, by checkpoint key (what the observation is compared with). */
  readonly predictions: readonly PredictedVariable[];
  /** The model's variables as the reader named them: the Python runner maps its own variables to these keys. */
  readonly modelVariables: readonly RequestVariable[];
}

export interface RequestVariable {
  readonly key: string;
  readonly name: string;
  readonly layer: string | null;
  readonly role: string;
  readonly shape: readonly number[];
}

export interface PredictedVariable {
  readonly key: string;
  readonly changes: boolean;
  readonly reason: string;
}

export type VerifyPhase = 'starting' | 'loading-model' | 'rebuilding' | 'loading-weights' | 'preparing-data' | 'training' | 'measuring' | 'done';

/** Sent to the engine (worker message / runner stdin line). */
export type EngineCommand =
  | { readonly type: 'verify'; readonly request: VerifyRequest }
  | { readonly type: 'cancel'; readonly requestId: string };

/** Streamed by the engine (worker message / runner stdout line). Exactly one 'result' or 'error' ends a run. */
export type EngineEvent =
  | { readonly type: 'progress'; readonly requestId: string; readonly phase: VerifyPhase; readonly message: string; readonly step?: number; readonly totalSteps?: number }
  | { readonly type: 'step'; readonly requestId: string; readonly step: number; readonly loss: number; readonly ms: number }
  | { readonly type: 'result'; readonly requestId: string; readonly result: VerifyResult }
  | { readonly type: 'error'; readonly requestId: string; readonly error: EngineErrorInfo };

export type EngineErrorReason =
  /** Layers or options the engine cannot rebuild faithfully (listed in `unsupported`). */
  | 'unsupported-model'
  /** The format has no Keras structure to rebuild (TF1 graphs, plain tf.Module SavedModels) */
  | 'not-rebuildable'
  | 'cancelled'
  | 'no-python'
  | 'no-tensorflow'
  | 'data'
  | 'engine-failure';

export interface EngineErrorInfo {
  readonly reason: EngineErrorReason;
  readonly message: string;
  /** For 'unsupported-model': one entry per offending layer. */
  readonly unsupported?: readonly UnsupportedLayer[];
}

export interface UnsupportedLayer {
  readonly layer: string;
  readonly className: string;
  /** What is unsupported: the class itself, or an option (e.g. 'groups=2'). */
  readonly what: string;
}

export interface VariableObservation {
  readonly key: string;
  readonly name: string;
  readonly layer: string | null;
  readonly role: string;
  /** From the analysis: does a step change it? null when the analysis has no prediction for this key. */
  readonly predicted: boolean | null;
  readonly predictedReason: string | null;
  /** Did it change over the run? (maxAbsDelta > tolerance) */
  readonly observed: boolean;
  readonly maxAbsDelta: number;
  /** max|delta| / max(max|before|, tiny). */
  readonly relativeDelta: number;
  /** predicted === observed (a null prediction never agrees). */
  readonly agree: boolean;
  /** Why a disagreement may be float rounding rather than semantics (e.g. a bias followed by a batch-mode BatchNorm has zero gradient). */
  readonly note?: string;
}

export interface BatchNormObservation {
  readonly layer: string;
  /** How the engine ran this layer: with batch or moving statistics, updating the moving ones or not. */
  readonly normalizedWith: 'batch' | 'moving';
  readonly updatedMovingStats: boolean;
  /** max |moving_mean after - before| (0 when the layer has none). */
  readonly movingMeanDrift: number;
  readonly movingVarianceDrift: number;
  /**
   * Mean |BN(x, batch stats) - BN(x, moving stats)| on this layer's input for the same batch, before and after the
   * run: how differently the layer behaves in training and in inference (the symptom users see).
   */
  readonly trainInferenceGapBefore: number;
  readonly trainInferenceGapAfter: number;
}

export interface VerifyResult {
  readonly engine: EngineKind;
  /** tfjs: backend ('wasm', 'cpu', 'tensorflow') and versions; python: TensorFlow / Keras versions and interpreter. */
  readonly engineDetail: string;
  readonly runtime: Runtime;
  readonly steps: number;
  readonly batchSize: number;
  readonly data: string;
  readonly loss: readonly number[];
  readonly stepMs: readonly number[];
  /** From start to the end of the first training step (model rebuild + weight load + first step). */
  readonly timeToFirstStepMs: number;
  readonly variables: readonly VariableObservation[];
  readonly batchNorms: readonly BatchNormObservation[];
  /** Mean |model(x, training) - model(x, inference)| on the probe batch, before and after. */
  /** Absent when no model output could be identified (some TF1 graphs). */
  readonly modelTrainInferenceGapBefore?: number;
  readonly modelTrainInferenceGapAfter?: number;
  /** Fraction of variables with a prediction whose observation agrees (1 when all agree). */
  readonly agreement: number;
  readonly disagreements: number;
  readonly tolerance: number;
  readonly warnings: readonly string[];
}

/** A change smaller than this (absolute, float32 round-off of a no-op) is "unchanged". */
export const CHANGE_TOLERANCE = 0;
