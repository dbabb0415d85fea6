// What the tree shows for each variable and BatchNorm layer: a state computed from the analysis result when
// a config is active, else from the model's own trainable flags. Pure translation, no vscode.
import type { AnalysisResult, BatchNormPrediction, VariablePrediction } from '../../core/analysis/types';
import type { Model, Variable } from '../../core/model/ir';

export type VarState = 'trainable' | 'frozen' | 'bn-updating' | 'bn-drifting' | 'disagreement';
export type BnState = 'bn-updating' | 'bn-frozen' | 'bn-drifting' | 'bn-inference';

export interface ModelStates {
  readonly variables: ReadonlyMap<string, { state: VarState; why: string }>;
  readonly batchNorms: ReadonlyMap<string, { state: BnState; why: string; prediction: BatchNormPrediction | null }>;
}

/** A BN is "drifting" when its moving statistics change while gamma/beta are frozen: it looks frozen and is not. */
export function bnState(p: BatchNormPrediction): BnState {
  if (p.movingStatsUpdate && !p.gammaBetaTrained) return 'bn-drifting';
  if (p.movingStatsUpdate) return 'bn-updating';
  if (p.normalizesWith === 'moving' && !p.gammaBetaTrained) return 'bn-frozen';
  if (p.normalizesWith === 'moving') return 'bn-inference';
  return 'bn-frozen';
}

export function computeStates(model: Model, result: AnalysisResult | null, disagreements: ReadonlySet<string> = new Set()): ModelStates {
  const variables = new Map<string, { state: VarState; why: string }>();
  const batchNorms = new Map<string, { state: BnState; why: string; prediction: BatchNormPrediction | null }>();
  const bnByLayer = new Map<string, BatchNormPrediction>();
  for (const b of result?.batchNorms ?? []) bnByLayer.set(b.layer, b);
  const predByKey = new Map<string, VariablePrediction>();
  for (const v of result?.variables ?? []) predByKey.set(v.key, v);

  for (const bn of model.batchNorms) {
    const p = bnByLayer.get(bn.layer) ?? null;
    if (p) batchNorms.set(bn.layer, { state: bnState(p), why: p.explanation, prediction: p });
    else batchNorms.set(bn.layer, { state: bn.trainable ? 'bn-updating' : 'bn-frozen', why: bn.trainable ? 'Trainable BatchNorm (as saved; no freeze config active).' : 'Non-trainable BatchNorm (as saved; no freeze config active).', prediction: null });
  }
  const movingKeys = new Map<string, string>();
  for (const bn of model.batchNorms) {
    if (bn.movingMean) movingKeys.set(bn.movingMean, bn.layer);
    if (bn.movingVariance) movingKeys.set(bn.movingVariance, bn.layer);
  }
  for (const v of model.variables) {
    if (disagreements.has(v.key)) {
      variables.set(v.key, { state: 'disagreement', why: 'The verification fine-tune disagreed with the prediction for this variable.' });
      continue;
    }
    variables.set(v.key, variableState(v, predByKey.get(v.key), movingKeys.get(v.key), batchNorms));
  }
  return { variables, batchNorms };
}

function variableState(
  v: Variable,
  p: VariablePrediction | undefined,
  bnLayer: string | undefined,
  bns: ReadonlyMap<string, { state: BnState }>,
): { state: VarState; why: string } {
  if (p) {
    if (!p.changes) return { state: 'frozen', why: p.explanation };
    if (p.reason === 'moving-average') {
      const drifting = bnLayer !== undefined && bns.get(bnLayer)?.state === 'bn-drifting';
      return { state: drifting ? 'bn-drifting' : 'bn-updating', why: p.explanation };
    }
    return { state: 'trainable', why: p.explanation };
  }
  if (bnLayer !== undefined) {
    const s = bns.get(bnLayer)?.state;
    return s === 'bn-updating' ? { state: 'bn-updating', why: 'Moving statistic of a trainable BatchNorm (as saved).' } : { state: 'frozen', why: 'Moving statistic of a non-trainable BatchNorm (as saved).' };
  }
  return v.trainable ? { state: 'trainable', why: 'Trainable (as saved; no freeze config active).' } : { state: 'frozen', why: 'Not trainable (as saved; no freeze config active).' };
}

export const VAR_STATE_LABEL: Record<VarState, string> = {
  trainable: 'trainable',
  frozen: 'frozen',
  'bn-updating': 'BN stats updating',
  'bn-drifting': 'frozen BN, stats drifting',
  disagreement: 'verification disagrees',
};

export const BN_STATE_LABEL: Record<BnState, string> = {
  'bn-updating': 'BN updating',
  'bn-frozen': 'BN frozen',
  'bn-drifting': 'BN frozen but drifting',
  'bn-inference': 'BN inference mode, γ/β train',
};

export function formatShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
