// TF1: a BatchNorm whose is_training is a constant in the saved graph ignores the config's "training" and any
// trainingOverrides entry (an override rewires the training placeholder; such a layer reads none).
import type { Finding } from '../types';
import type { FindingRule } from './rule';
import { listNames } from './rule';

export const trainingFlagFixedInGraph: FindingRule = (p) => {
  if (p.runtime !== 'tf1-graph') return [];
  const out: Finding[] = [];
  const constant = p.batchNorms.filter((a) => a.facts.trainingSource.kind === 'graph-constant' && a.graphConstant !== null);
  const fixed = constant.filter((a) => a.facts.trainingSource.kind === 'graph-constant' && a.facts.trainingSource.overrideIgnored === undefined && a.graphConstant !== p.config.training);
  if (fixed.length > 0) {
    const v = fixed[0]!.graphConstant ? 'True' : 'False';
    out.push({
      code: 'training-flag-fixed-in-graph',
      severity: 'info',
      message: `is_training is the constant ${v} in the graph for ${listNames(fixed.map((a) => a.bn.layer))}: the config's "training": ${p.config.training} does not change them. Rebuild the graph with the flag you want.`,
      target: { kind: 'layer', name: fixed[0]!.bn.layer },
      fixes: [],
      configPath: ['training'],
    });
  }
  const byKey = new Map<string, typeof constant>();
  for (const a of constant) {
    const s = a.facts.trainingSource;
    if (s.kind !== 'graph-constant' || s.overrideIgnored === undefined || p.config.trainingOverrides[s.overrideIgnored] === a.graphConstant) continue;
    byKey.set(s.overrideIgnored, [...(byKey.get(s.overrideIgnored) ?? []), a]);
  }
  for (const [key, layers] of byKey) {
    const want = p.config.trainingOverrides[key] ? 'True' : 'False';
    const v = layers[0]!.graphConstant ? 'True' : 'False';
    out.push({
      code: 'training-flag-fixed-in-graph',
      severity: 'info',
      message: `trainingOverrides["${key}"] asks for training=${want}, but is_training is the constant ${v} in the graph for ${listNames(layers.map((a) => a.bn.layer))}: they read no training placeholder, so the override does not change them. Rebuild that part with the flag you want.`,
      target: { kind: 'layer', name: layers[0]!.bn.layer },
      fixes: [],
      configPath: ['trainingOverrides', key],
    });
  }
  return out;
};
