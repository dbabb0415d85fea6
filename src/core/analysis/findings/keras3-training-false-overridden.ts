// Keras 3.0-3.15.1: a functional graph's recorded training=False (base(x, training=False)) is replaced by
// the outer training=True, so trainable BatchNorm layers inside train in batch mode and update their
// statistics. Only trainable=False (a frozen layer) keeps them in inference mode.
import type { Finding } from '../types';
import { addPatterns } from '../fixes';
import { patternFor } from '../patterns';
import type { BnAnalysis } from '../predict';
import { listNames, type FindingRule } from './rule';

export const keras3TrainingFalseOverridden: FindingRule = (p) => {
  const bySite = new Map<string, BnAnalysis[]>();
  for (const a of p.batchNorms) {
    if (!a.facts.functionalOverride || !a.keras?.setOn) continue;
    const list = bySite.get(a.keras.setOn) ?? [];
    list.push(a);
    bySite.set(a.keras.setOn, list);
  }
  return [...bySite].map(([site, bns]): Finding => {
    const layers = bns.map((a) => a.bn.layer);
    const syntax = p.config.patternSyntax;
    const bnPatterns = syntax === 'regex' && layers.length > 1 ? [`^(?:${layers.map((l) => patternFor(l, 'regex', false).slice(1, -1)).join('|')})$`] : layers.map((l) => patternFor(l, syntax, false));
    const fromOverride = bns[0]!.keras!.source.kind === 'override';
    return {
      code: 'keras3-training-false-overridden',
      severity: 'warning',
      message: `"${site}" is called with training=False${fromOverride ? ' (config trainingOverrides)' : ' in the saved functional graph'}, but Keras ${p.model.kerasVersion ?? '3.0-3.15.1'} replaces it with the outer training=True inside a functional model: ${listNames(layers)} normalize with batch statistics and update their moving statistics anyway.`,
      target: { kind: 'layer', name: site },
      fixes: [
        { title: `Freeze the BatchNorm layers inside "${site}" (trainable=False keeps them in inference mode in Keras 3)`, isPreferred: true, edits: addPatterns(p.config, 'freeze', bnPatterns) },
        { title: `Freeze "${site}" entirely`, isPreferred: false, edits: addPatterns(p.config, 'freeze', [patternFor(site, syntax, false)]) },
      ],
      ...(fromOverride ? { configPath: ['trainingOverrides', site] } : {}),
    };
  });
};
