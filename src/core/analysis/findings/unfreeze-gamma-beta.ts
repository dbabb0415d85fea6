// Shared fix: let a TF1 BatchNorm's gamma/beta train too (the moving statistics moving is then intended).
import type { Fix } from '../types';
import type { BnAnalysis, Prediction } from '../predict';
import { matchPattern } from '../selection';
import { addPatterns, patternsExcluding, setEdit } from '../fixes';
import { patternFor } from '../patterns';

export function unfreezeGammaBetaFix(p: Prediction, a: BnAnalysis): Fix | null {
  if (p.runtime !== 'tf1-graph') return null;
  const names = [a.bn.gamma, a.bn.beta]
    .map((k) => (k === null ? null : p.index.variableByKey.get(k)))
    .filter((v) => v !== undefined && v !== null && v.trainable)
    .map((v) => v!.name);
  if (names.length === 0) return null;
  const syntax = p.config.patternSyntax;
  let freeze = [...p.config.freeze];
  let changed = false;
  for (let i = 0; i < freeze.length; i++) {
    const m = p.selection.patterns.find((x) => x.ref.list === 'freeze' && x.ref.pattern === freeze[i])?.match ?? matchPattern(p.model, freeze[i]!, syntax, p.runtime, p.index);
    const matchedNames = m.variables.map((k) => p.index.variableByKey.get(k)!.name);
    if (!names.some((n) => matchedNames.includes(n))) continue;
    const replacement = patternsExcluding(freeze[i]!, syntax, matchedNames, names);
    freeze = [...freeze.slice(0, i), ...replacement, ...freeze.slice(i + 1)];
    i += replacement.length - 1;
    changed = true;
  }
  const edits = changed ? [setEdit(['freeze'], freeze)] : [];
  // An allow-list that leaves them out must name them too.
  if (p.config.train !== null) {
    const missing = names.filter((n) => {
      const s = p.index.modelVariableByName.get(n);
      return s && p.selection.byKey.get(s.key)?.trains === false;
    });
    edits.push(...addPatterns(p.config, 'train', missing.map((n) => patternFor(n, syntax, false))));
  }
  if (edits.length === 0) return null;
  return {
    title: `Unfreeze ${names.map((n) => n.split('/').pop()).join('/')} of "${a.bn.layer}" too (train the whole BatchNorm)`,
    isPreferred: false,
    edits,
  };
}
