// A frozen BatchNorm that still normalizes with batch statistics (its moving statistics stay put): the
// frozen part computes something different in training and in inference.
import type { Finding } from '../types';
import { coverScopes, trainingOverrideEdits } from '../fixes';
import { gammaBetaFrozen, type FindingRule } from './rule';

export const frozenBnBatchStats: FindingRule = (p) => {
  const hits = p.batchNorms.filter((a) => gammaBetaFrozen(a) && a.outcome.normalizesWith === 'batch' && !a.outcome.movingStatsUpdate);
  const others = p.batchNorms.filter((a) => !hits.includes(a)).map((a) => a.bn.layer);
  return hits.map((a): Finding => {
    const scope = coverScopes([a.bn.layer], [a.bn.layer, ...others])[0]!;
    const by = a.facts.gamma?.by ?? a.facts.beta?.by ?? null;
    return {
      code: 'frozen-bn-batch-stats',
      severity: 'warning',
      message: `${a.bn.layer} is frozen but normalizes with batch statistics while training (its moving statistics stay fixed): the frozen part sees batch statistics in training and moving statistics in inference, a train/inference gap.`,
      target: { kind: 'layer', name: a.bn.layer },
      fixes: [{ title: `Call "${scope}" with training=False (trainingOverrides)`, isPreferred: true, edits: trainingOverrideEdits([scope], false) }],
      ...(by ? { configPath: [by.list, by.index] } : {}),
    };
  });
};
