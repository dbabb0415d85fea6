// Trainable BatchNorm layers inside a part called with training=False: they normalize with moving statistics
// that stay fixed while gamma/beta keep training on them. The usual Keras fine-tuning recipe, so info only.
import type { Finding } from '../types';
import { addPatterns } from '../fixes';
import { patternFor } from '../patterns';
import type { BnAnalysis } from '../predict';
import { listNames, type FindingRule } from './rule';

export const trainableBnInInferenceCall: FindingRule = (p) => {
  if (p.runtime === 'tf1-graph') return [];
  const bySite = new Map<string, BnAnalysis[]>();
  for (const a of p.batchNorms) {
    if (a.outcome.rule.id !== 'keras-training-false' && a.outcome.rule.id !== 'keras3-training-false') continue;
    if (!a.keras?.setOn || !(a.outcome.gammaTrained || a.outcome.betaTrained)) continue;
    const list = bySite.get(a.keras.setOn) ?? [];
    list.push(a);
    bySite.set(a.keras.setOn, list);
  }
  return [...bySite].map(([site, bns]): Finding => {
    const layers = bns.map((a) => a.bn.layer);
    return {
      code: 'trainable-bn-in-inference-call',
      severity: 'info',
      message: `${listNames(layers)} ${layers.length === 1 ? 'is' : 'are'} trainable inside "${site}", which is called with training=False: gamma/beta train while the layer normalizes with moving statistics that stay fixed.`,
      target: { kind: 'layer', name: site },
      fixes: [{ title: `Freeze ${layers.length === 1 ? 'it' : 'them'} too`, isPreferred: false, edits: addPatterns(p.config, 'freeze', layers.map((l) => patternFor(l, p.config.patternSyntax, false))) }],
      ...(bns[0]!.keras!.source.kind === 'override' ? { configPath: ['trainingOverrides', site] } : {}),
    };
  });
};
