// Pure planning: from a model, a freeze config and the analysis, what the verifier runs and how each
// BatchNorm layer must behave in the runtime being verified. No tfjs, no I/O.
//
// BN rules (docs: /work/shared/SEMANTICS.md rows D1-D6 and E1-E5):
// - tf2-keras (tf.keras 2.x / tf_keras): a layer normalizes with batch statistics and updates its moving ones
//   iff its `training` flag is true AND it is trainable (frozen => inference mode, D2/D3). The flag is the one
//   passed explicitly to the nearest enclosing call (a recorded `base(x, training=False)`, D5), else the
//   flag the model is called with.
// - keras3 (3.0-3.15.1): same trainable rule (E2/E3), but a functional graph's recorded training=False is
//   overridden by the outer call's flag (E5).
import path from 'node:path';
import type { Model } from '../model/ir';
import type { AnalysisResult, FreezeConfig, Runtime, VerifySettings } from '../analysis/types';
import { indexModel } from '../analysis/model-index';
import { selectTrained } from '../analysis/selection';
import type { VerifyRequest } from './types';

/**
 * TF1 graphs: what the Python engine (python/engine/tf1_engine.py) needs beyond the common request. It applies
 * the config itself, as the oracle does (filter_variables on variable op names, UPDATE_OPS by scope, the saved
 * train op), and discovers inputs and loss in the graph; the reader's findings are passed along so both agree.
 */
export interface Tf1VerifyInfo {
  readonly patternSyntax: FreezeConfig['patternSyntax'];
  readonly freeze: readonly string[];
  /** Allow-list; [] = everything not frozen. */
  readonly train: readonly string[];
  readonly updateOps: FreezeConfig['updateOps'];
  readonly useSavedTrainOp: FreezeConfig['useSavedTrainOp'];
  /** The placeholders deciding BatchNorm training mode, as the reader found them (`graph.trainingInput`). */
  readonly trainingInputs: readonly string[];
  /** BatchNorm layers with their variables' TF names (for drift and the train/inference gap). */
  readonly batchNorms: readonly Tf1BatchNormInfo[];
}

export interface Tf1BatchNormInfo {
  readonly layer: string;
  readonly epsilon: number;
  readonly gamma: string | null;
  readonly beta: string | null;
  readonly movingMean: string | null;
  readonly movingVariance: string | null;
}

/** The request as sent over the runner's stdio: TF1 graphs carry `tf1`. */
export type PlannedVerifyRequest = VerifyRequest & { readonly tf1?: Tf1VerifyInfo };

export function tf1InfoOf(model: Model, config: FreezeConfig): Tf1VerifyInfo {
  const nameOf = new Map(model.variables.map((v) => [v.key, v.name]));
  const name = (key: string | null): string | null => (key === null ? null : (nameOf.get(key) ?? key));
  const inputs = new Set<string>();
  for (const b of model.batchNorms) if (b.graph?.trainingInput) inputs.add(b.graph.trainingInput);
  return {
    patternSyntax: config.patternSyntax,
    freeze: config.freeze,
    train: config.train ?? [],
    updateOps: config.updateOps,
    useSavedTrainOp: config.useSavedTrainOp,
    trainingInputs: [...inputs].sort(),
    batchNorms: model.batchNorms.map((b) => ({ layer: b.layer, epsilon: b.epsilon, gamma: name(b.gamma), beta: name(b.beta), movingMean: name(b.movingMean), movingVariance: name(b.movingVariance) })),
  };
}

export interface BnMode {
  readonly normalizesWith: 'batch' | 'moving';
  readonly updatesMovingStats: boolean;
  /** The training flag the layer ends up with, and where it came from. */
  readonly trainingFlag: boolean;
  readonly flagFrom: string;
}

/** Ancestors-or-self of a layer path, nearest first: 'a/b/c' -> ['a/b/c', 'a/b', 'a']. */
export function selfAndAncestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = parts.length; i > 0; i--) out.push(parts.slice(0, i).join('/'));
  return out;
}

export function bnModeFor(
  runtime: Runtime,
  layerPath: string,
  layerTrainable: boolean,
  training: boolean,
  trainingOverrides: Readonly<Record<string, boolean>>,
): BnMode {
  let flag = training;
  let from = 'the training flag the model is called with';
  if (runtime === 'tf2-keras') {
    for (const p of selfAndAncestors(layerPath)) {
      const o = trainingOverrides[p];
      if (o !== undefined) {
        flag = o;
        from = `training=${o ? 'True' : 'False'} passed to ${p}`;
        break;
      }
    }
  }
  if (!layerTrainable && flag) {
    return { normalizesWith: 'moving', updatesMovingStats: false, trainingFlag: false, flagFrom: 'the layer is frozen (trainable=False forces inference mode)' };
  }
  return flag
    ? { normalizesWith: 'batch', updatesMovingStats: true, trainingFlag: true, flagFrom: from }
    : { normalizesWith: 'moving', updatesMovingStats: false, trainingFlag: false, flagFrom: from };
}

/** Recorded `training=` call arguments of the model's layers, with the config's overrides on top. */
export function trainingOverridesOf(model: Model, config: FreezeConfig): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const l of model.layers) if (l.callTraining !== null && l.path !== '') out[l.path] = l.callTraining;
  for (const [k, v] of Object.entries(config.trainingOverrides)) out[k] = v;
  return out;
}

export interface PlanInput {
  readonly requestId: string;
  readonly model: Model;
  readonly config: FreezeConfig;
  readonly configPath: string | null;
  readonly analysis: AnalysisResult;
  readonly settings: VerifySettings;
}

/** A relative `verify.data.path` is relative to the config file (docs/freeze-config.md); engines get it absolute. */
export function withDataPathResolved(settings: VerifySettings, configPath: string | null): VerifySettings {
  const d = settings.data;
  if (d.kind === 'synthetic' || path.isAbsolute(d.path)) return settings;
  const base = configPath ? path.dirname(path.resolve(configPath)) : process.cwd();
  return { ...settings, data: { ...d, path: path.resolve(base, d.path) } };
}

export function buildVerifyRequest(p: PlanInput): PlannedVerifyRequest {
  const runtime = p.analysis.runtime;
  const layerTrainable: Record<string, boolean> = {};
  if (runtime !== 'tf1-graph') {
    const sel = selectTrained(indexModel(p.model), p.config, runtime);
    for (const l of p.model.layers) {
      if (l.path === '') continue;
      layerTrainable[l.path] = sel.layerTrainable.get(l.path) ?? l.trainable;
    }
  }
  return {
    requestId: p.requestId,
    modelPath: p.model.path,
    configPath: p.configPath,
    runtime,
    settings: withDataPathResolved(p.settings, p.configPath),
    layerTrainable,
    training: p.config.training,
    trainingOverrides: trainingOverridesOf(p.model, p.config),
    predictions: p.analysis.variables.map((v) => ({ key: v.key, changes: v.changes, reason: v.reason })),
    modelVariables: p.model.variables.filter((v) => !v.optimizerSlot).map((v) => ({ key: v.key, name: v.name, layer: v.layer, role: v.role, shape: v.shape })),
    ...(runtime === 'tf1-graph' ? { tf1: tf1InfoOf(p.model, p.config) } : {}),
  };
}

/** Fraction of predicted variables whose observation agrees; 1 when nothing was predicted. */
export function agreementOf(rows: readonly { readonly predicted: boolean | null; readonly agree: boolean }[]): { agreement: number; disagreements: number } {
  const predicted = rows.filter((r) => r.predicted !== null);
  const agreeing = predicted.filter((r) => r.agree).length;
  return { agreement: predicted.length === 0 ? 1 : agreeing / predicted.length, disagreements: predicted.length - agreeing };
}

/** Mulberry32: a tiny seeded PRNG shared with python/engine/runner.py, so both engines train on the same numbers. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller on mulberry32), float32. */
export function syntheticNormal(seed: number, count: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = Math.max(rnd(), 1e-12);
    const u2 = rnd();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Uniform [0, 1) samples, float32 (regression targets). */
export function syntheticUniform(seed: number, count: number): Float32Array {
  const rnd = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rnd();
  return out;
}
