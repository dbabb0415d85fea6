// TF1: a BatchNorm whose is_training is a constant in the saved graph ignores the config's "training".
import type { FindingRule } from './rule';
import { listNames } from './rule';

export const trainingFlagFixedInGraph: FindingRule = (p) => {
  if (p.runtime !== 'tf1-graph') return [];
  const fixed = p.batchNorms.filter((a) => a.facts.trainingSource.kind === 'graph-constant' && a.graphConstant !== null && a.graphConstant !== p.config.training);
  if (fixed.length === 0) return [];
  const v = fixed[0]!.graphConstant ? 'True' : 'False';
  return [
    {
      code: 'training-flag-fixed-in-graph',
      severity: 'info',
      message: `is_training is the constant ${v} in the graph for ${listNames(fixed.map((a) => a.bn.layer))}: the config's "training": ${p.config.training} does not change them. Rebuild the graph with the flag you want (and describe it with trainingOverrides).`,
      target: { kind: 'layer', name: fixed[0]!.bn.layer },
      fixes: [],
      configPath: ['training'],
    },
  ];
};
