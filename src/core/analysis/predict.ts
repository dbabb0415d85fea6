// One training step, predicted: for every BatchNorm the runtime's rule table decides mode, moving-stat
// updates and gamma/beta; every variable then gets `changes` + a reason + a sentence saying why.
import type { BatchNorm, Model, Variable } from '../model/ir';
import { indexModel, type ModelIndex } from './model-index';
import { selectTrained, selectBySavedTrainOp, unfreezesSaved, type LayerFreeze, type PatternRef, type TrainSelection, type VariableTrainStatus } from './selection';
import { applyRules, describeTraining, patternClause, type BnFacts, type BnOutcome, type BnRule } from './runtimes/rules';
import { TF1_RULES, analyzeTf1Updates, tf1Training, type Tf1UpdateAnalysis } from './runtimes/tf1-graph';
import { TF2_KERAS_RULES } from './runtimes/tf2-keras';
import { KERAS3_RULES, keras3OverridesTrainingFalse } from './runtimes/keras3';
import { kerasTraining, type KerasTraining } from './runtimes/keras-training';
import { resolveRuntime } from './runtimes/resolve';
import type { GraphIndex } from './graph-reachability';
import type { BatchNormPrediction, ChangeReason, FreezeConfig, Runtime, VariablePrediction } from './types';

export const RULES: Readonly<Record<Runtime, readonly BnRule[]>> = {
  'tf1-graph': TF1_RULES,
  'tf2-keras': TF2_KERAS_RULES,
  keras3: KERAS3_RULES,
};

export interface BnAnalysis {
  readonly bn: BatchNorm;
  readonly facts: BnFacts;
  readonly outcome: BnOutcome;
  readonly prediction: BatchNormPrediction;
  /** Keras: where the training flag was set (for grouping findings by call site). */
  readonly keras: KerasTraining | null;
  /** TF1: the constant is_training of the op in the graph, if it is one. */
  readonly graphConstant: boolean | null;
}

export interface Prediction {
  readonly model: Model;
  readonly config: FreezeConfig;
  readonly runtime: Runtime;
  readonly runtimeWhy: string;
  readonly index: ModelIndex;
  readonly selection: TrainSelection;
  readonly tf1: Tf1UpdateAnalysis | null;
  readonly batchNorms: readonly BnAnalysis[];
  readonly variables: readonly VariablePrediction[];
}

export function predict(model: Model, config: FreezeConfig, options: { graphIndex?: GraphIndex } = {}): Prediction {
  const { runtime, why } = resolveRuntime(model, config);
  const index = indexModel(model);
  const tf1 = runtime === 'tf1-graph' ? analyzeTf1Updates(model, config, options.graphIndex) : null;
  const patternSelection = selectTrained(index, config, runtime);
  const selection = tf1?.usesSavedTrainOp ? selectBySavedTrainOp(index, patternSelection, tf1.writtenVariables) : patternSelection;
  const overrides = runtime === 'keras3' && config.training && keras3OverridesTrainingFalse(model.kerasVersion);

  const batchNorms = model.batchNorms.map((bn): BnAnalysis => {
    const sel = (key: string | null) => {
      if (key === null) return null;
      const s = selection.byKey.get(key);
      return s ? { trains: s.trains, by: s.trains ? null : s.by } : { trains: false, by: null };
    };
    let facts: BnFacts;
    let keras: KerasTraining | null = null;
    let graphConstant: boolean | null = null;
    if (runtime === 'tf1-graph') {
      const t = tf1Training(bn, config);
      graphConstant = t.graphConstant;
      const u = tf1!.updates(bn);
      facts = {
        bn,
        runtime,
        layerTrainable: true,
        frozenBy: null,
        training: t.training,
        trainingSource: t.source,
        updateOpsRun: u.run,
        updateOpsWhy: u.why,
        functionalOverride: false,
        gamma: sel(bn.gamma),
        beta: sel(bn.beta),
      };
    } else {
      keras = kerasTraining(index, bn.layer, config);
      const layerTrainable = selection.layerTrainable.get(bn.layer) ?? (unfreezesSaved(index, config, runtime) || bn.trainable);
      facts = {
        bn,
        runtime,
        layerTrainable,
        frozenBy: selection.layerFrozenBy.get(bn.layer) ?? (layerTrainable ? null : { cause: 'saved-frozen', by: null, layer: bn.layer }),
        training: keras.training,
        trainingSource: keras.source,
        updateOpsRun: null,
        updateOpsWhy: '',
        functionalOverride: overrides && !keras.training && keras.setOn !== null && keras.inFunctional,
        gamma: sel(bn.gamma),
        beta: sel(bn.beta),
      };
    }
    const outcome = applyRules(RULES[runtime], facts);
    const prediction: BatchNormPrediction = {
      layer: bn.layer,
      normalizesWith: outcome.normalizesWith,
      movingStatsUpdate: outcome.movingStatsUpdate,
      gammaBetaTrained: gammaBetaTrained(outcome),
      runtime,
      trainingMode: outcome.normalizesWith === 'batch',
      explanation: explainBatchNorm(facts, outcome, model.kerasVersion),
    };
    return { bn, facts, outcome, prediction, keras, graphConstant };
  });

  const bnByVariable = new Map<string, { a: BnAnalysis; slot: 'gamma' | 'beta' | 'movingMean' | 'movingVariance' }>();
  for (const a of batchNorms) {
    for (const slot of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) {
      const k = a.bn[slot];
      if (k !== null) bnByVariable.set(k, { a, slot });
    }
  }
  const variables: VariablePrediction[] = [];
  for (const v of model.variables) {
    const p = v.optimizerSlot ? predictSlot(v, index, selection, runtime) : predictVariable(v, selection, bnByVariable.get(v.key), tf1, runtime);
    if (p) variables.push(p);
  }
  return { model, config, runtime, runtimeWhy: why, index, selection, tf1, batchNorms, variables };
}

/** true when every gamma/beta the layer has trains (false when it has none). */
function gammaBetaTrained(o: BnOutcome): boolean {
  const present = [o.gammaTrained, o.betaTrained].filter((x): x is boolean => x !== null);
  return present.length > 0 && present.every((x) => x);
}

function make(v: Variable, changes: boolean, reason: ChangeReason, explanation: string): VariablePrediction {
  return { key: v.key, name: v.name, layer: v.layer, role: v.role, changes, reason, explanation };
}

function predictVariable(
  v: Variable,
  selection: TrainSelection,
  bn: { a: BnAnalysis; slot: 'gamma' | 'beta' | 'movingMean' | 'movingVariance' } | undefined,
  tf1: Tf1UpdateAnalysis | null,
  runtime: Runtime,
): VariablePrediction {
  const status = selection.byKey.get(v.key) ?? ({ trains: false, reason: 'not-trainable', cause: 'not-trainable', by: null, frozenLayer: null } as const);
  if (bn && (bn.slot === 'movingMean' || bn.slot === 'movingVariance')) {
    const { a } = bn;
    if (a.outcome.movingStatsUpdate) return make(v, true, 'moving-average', `updated by the moving average every step: ${a.prediction.explanation}`);
    return make(v, false, a.outcome.rule.statsStillReason, `not updated: ${a.prediction.explanation}`);
  }
  if (bn && (bn.slot === 'gamma' || bn.slot === 'beta')) {
    const trained = bn.slot === 'gamma' ? bn.a.outcome.gammaTrained : bn.a.outcome.betaTrained;
    if (trained) {
      const note = bn.a.outcome.normalizesWith === 'moving' ? ' (gradients still flow while the layer normalizes with its moving statistics)' : '';
      return make(v, true, 'gradient', `trained by the optimizer${note}`);
    }
    if (status.trains) {
      // The runtime blocks the gradient although the optimizer holds the variable (Keras frozen layer).
      return make(v, false, 'frozen', `not trained: ${bn.a.prediction.explanation}`);
    }
  }
  if (status.trains) return make(v, true, 'gradient', 'trained by the optimizer');
  const writer = tf1?.writtenVariables.get(v.name);
  if (status.reason === 'not-trainable' && writer !== undefined) {
    return make(v, true, 'written-by-train-op', `not trainable, but the saved train op runs a ${writer} on it (a step counter such as global_step)`);
  }
  return make(v, false, status.reason, explainExclusion(status, runtime));
}

/** TF1 optimizer slots ('A/conv2d/kernel/Momentum'): they move iff their variable trains. Other slots are left out. */
function predictSlot(v: Variable, index: ModelIndex, selection: TrainSelection, runtime: Runtime): VariablePrediction | null {
  if (runtime !== 'tf1-graph') return null;
  const cut = v.name.lastIndexOf('/');
  if (cut <= 0) return null;
  const primaryName = v.name.slice(0, cut);
  const primary = index.modelVariableByName.get(primaryName);
  if (!primary) return null;
  const trains = selection.byKey.get(primary.key)?.trains ?? false;
  return make(v, trains, 'optimizer-slot', `optimizer slot of "${primaryName}", which ${trains ? 'trains' : 'does not train'}`);
}

export function explainExclusion(status: Exclude<VariableTrainStatus, { trains: true }>, runtime: Runtime): string {
  switch (status.cause) {
    case 'freeze-pattern':
      return runtime === 'tf1-graph'
        ? `not in the optimizer's var_list: excluded by ${patternClause(status.by)}`
        : `frozen: ${patternClause(status.by)} sets trainable=False on "${status.frozenLayer ?? '?'}"`;
    case 'not-in-train-list':
      return runtime === 'tf1-graph' ? "not in the optimizer's var_list: no \"train\" pattern matches it" : 'frozen: no "train" pattern matches its layer';
    case 'saved-frozen':
      return `frozen: "${status.frozenLayer ?? '?'}" is saved with trainable=False`;
    case 'not-trainable':
      return runtime === 'tf1-graph' ? 'not trainable: not in the trainable_variables collection' : 'a non-trainable weight';
    case 'not-in-saved-train-op':
      return "not in the saved train op's var_list (no Apply op of the train op writes it)";
  }
}

function freezeClause(f: LayerFreeze | null, layer: string): string {
  if (!f) return 'frozen';
  const on = f.layer === layer ? '' : ` on "${f.layer}"`;
  switch (f.cause) {
    case 'freeze-pattern':
      return `frozen by ${patternClause(f.by)}${on}`;
    case 'saved-frozen':
      return `saved with trainable=False${on}`;
    case 'not-in-train-list':
      return 'frozen: no "train" pattern matches it';
  }
}

function gammaBetaClause(facts: BnFacts, o: BnOutcome): string {
  const by = (s: { by: PatternRef | null } | null) => (s?.by ? ` (${patternClause(s.by)})` : '');
  const g = o.gammaTrained;
  const b = o.betaTrained;
  if (g === null && b === null) return 'it has no gamma/beta';
  if (g === null) return b ? 'beta trains (no gamma: scale=False)' : `beta frozen${by(facts.beta)} (no gamma: scale=False)`;
  if (b === null) return g ? 'gamma trains (no beta: center=False)' : `gamma frozen${by(facts.gamma)} (no beta: center=False)`;
  if (g && b) return 'gamma/beta train';
  if (!g && !b) return `gamma/beta frozen${by(facts.gamma) || by(facts.beta)}`;
  return g ? `gamma trains but beta is frozen${by(facts.beta)}` : `beta trains but gamma is frozen${by(facts.gamma)}`;
}

/** One line a user understands: mode and why, moving statistics and why, gamma/beta. */
export function explainBatchNorm(f: BnFacts, o: BnOutcome, kerasVersion: string | null): string {
  const flag = f.runtime === 'tf1-graph' ? 'is_training' : 'training';
  const runtimeName = f.runtime === 'keras3' ? 'Keras 3' : 'TF2 Keras';
  const id = o.rule.id;
  if (id.endsWith('frozen-inference')) {
    return `${freezeClause(f.frozenBy, f.bn.layer)}; a frozen BatchNorm runs in inference mode in ${runtimeName} whatever training says: it normalizes with its moving statistics, never updates them, and gamma/beta do not train.`;
  }
  if (id === 'keras3-functional-training-override') {
    return `${describeTraining(f, flag)}, but Keras ${kerasVersion ?? '3 (<= 3.15.1)'} replaces a functional node's training=False with the outer training=True: it normalizes with batch statistics and updates moving_mean/moving_variance; ${gammaBetaClause(f, o)}.`;
  }
  const mode = `normalizes with ${o.normalizesWith} statistics (${describeTraining(f, flag)})`;
  let stats: string;
  if (o.movingStatsUpdate) stats = `moving_mean/moving_variance change${f.updateOpsWhy ? `: ${f.updateOpsWhy}` : ''}`;
  else if (o.rule.statsStillReason === 'update-op-not-run') stats = `moving_mean/moving_variance never change: ${f.updateOpsWhy}`;
  else stats = 'moving statistics are not updated in inference mode';
  return `${mode}; ${stats}; ${gammaBetaClause(f, o)}.`;
}
