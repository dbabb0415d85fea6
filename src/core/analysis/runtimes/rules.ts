// BatchNorm behaviour as data: each runtime is an ordered table of rules; the first rule whose `when`
// facts all hold decides what the layer normalizes with, whether its moving statistics move and whether
// gamma/beta can train. The `rows` point at /work/shared/SEMANTICS.md; where a real-TensorFlow run
// disagreed with that table the rule follows TensorFlow and says so in `note`.
import type { BatchNorm } from '../../model/ir';
import type { ChangeReason, Runtime } from '../types';
import type { LayerFreeze, PatternRef } from '../selection';

/** Where the training flag a layer is called with comes from. */
export type TrainingSource =
  | { readonly kind: 'config'; readonly notPassed?: boolean }
  /** trainingOverrides[key] in the config. */
  | { readonly kind: 'override'; readonly key: string }
  /** The saved functional graph records `layer(x, training=...)`. */
  | { readonly kind: 'recorded-call'; readonly layer: string }
  /** TF1: `is_training` is a constant attribute of the op in the graph (a trainingOverrides entry `overrideIgnored` cannot change it). */
  | { readonly kind: 'graph-constant'; readonly overrideIgnored?: string }
  /** TF1: `is_training` is a placeholder; its value comes from the config. */
  | { readonly kind: 'graph-placeholder'; readonly placeholder: string };

export interface BnFacts {
  readonly bn: BatchNorm;
  readonly runtime: Runtime;
  /** Keras: the layer is trainable after the config (and the model's own flags). TF1: always true (no layer flag). */
  readonly layerTrainable: boolean;
  readonly frozenBy: LayerFreeze | null;
  /** The training flag the layer is called with. */
  readonly training: boolean;
  readonly trainingSource: TrainingSource;
  /** TF1: the moving-average assign ops run when the train op runs; null for Keras. */
  readonly updateOpsRun: boolean | null;
  /** TF1: how the update ops were (not) reached, one clause. */
  readonly updateOpsWhy: string;
  /** Keras 3.0-3.15.1: a recorded training=False inside a functional graph that the outer training=True overrides. */
  readonly functionalOverride: boolean;
  /** Per-variable optimizer selection (null: the variable does not exist, e.g. scale=False has no gamma). */
  readonly gamma: { readonly trains: boolean; readonly by: PatternRef | null } | null;
  readonly beta: { readonly trains: boolean; readonly by: PatternRef | null } | null;
}

export type FactName = 'layerTrainable' | 'training' | 'updateOpsRun' | 'functionalOverride';

export interface BnRule {
  readonly id: string;
  /** SEMANTICS.md rows this rule implements. */
  readonly rows: string;
  readonly when: Partial<Record<FactName, boolean>>;
  readonly normalizesWith: 'batch' | 'moving';
  readonly movingStatsUpdate: boolean;
  /** 'selected': gamma/beta train iff the optimizer gets them; 'never': no gradient reaches them. */
  readonly gammaBeta: 'selected' | 'never';
  /** Reason recorded on the moving statistics when they do not change. */
  readonly statsStillReason: Extract<ChangeReason, 'inference-mode' | 'update-op-not-run'>;
  /** Where real TensorFlow disagreed with SEMANTICS.md. */
  readonly note?: string;
}

export interface BnOutcome {
  readonly rule: BnRule;
  readonly normalizesWith: 'batch' | 'moving';
  readonly movingStatsUpdate: boolean;
  readonly gammaTrained: boolean | null;
  readonly betaTrained: boolean | null;
}

export function applyRules(rules: readonly BnRule[], facts: BnFacts): BnOutcome {
  const rule = rules.find((r) => (Object.entries(r.when) as [FactName, boolean][]).every(([k, v]) => facts[k] === v));
  if (!rule) throw new Error(`no BatchNorm rule of ${facts.runtime} matches ${facts.bn.layer}: the rule table must end with a catch-all`);
  const trained = (s: BnFacts['gamma']) => (s === null ? null : rule.gammaBeta === 'selected' && s.trains);
  return {
    rule,
    normalizesWith: rule.normalizesWith,
    movingStatsUpdate: rule.movingStatsUpdate,
    gammaTrained: trained(facts.gamma),
    betaTrained: trained(facts.beta),
  };
}

/** "training=True (trainingOverrides["base"])" and the like: where the flag came from, for explanations. */
export function describeTraining(f: BnFacts, flagName: string): string {
  const v = `${flagName}=${f.training ? 'True' : 'False'}`;
  const s = f.trainingSource;
  switch (s.kind) {
    case 'config':
      return s.notPassed ? `${flagName} not passed, so False` : `${v} (config "training")`;
    case 'override':
      return `${v} (config trainingOverrides["${s.key}"])`;
    case 'recorded-call':
      return s.layer === f.bn.layer ? `called with ${v} in the saved graph` : `inside "${s.layer}", called with ${v} in the saved graph`;
    case 'graph-constant':
      return s.overrideIgnored !== undefined ? `${v}, a constant in the graph (config trainingOverrides["${s.overrideIgnored}"] cannot change it)` : `${v}, a constant in the graph`;
    case 'graph-placeholder':
      return `${v}, fed to placeholder "${s.placeholder}" from the config "training"`;
  }
}

export function patternClause(by: PatternRef | null): string {
  return by ? `${by.list} pattern "${by.pattern}"` : '';
}
