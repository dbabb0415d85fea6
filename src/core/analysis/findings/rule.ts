// A finding rule reads the prediction and returns findings with their fixes. One rule per file.
import type { Prediction, BnAnalysis } from '../predict';
import type { Finding } from '../types';

export type FindingRule = (p: Prediction) => Finding[];

/** Every gamma/beta the layer has is left untrained (a layer without either is not "frozen" by patterns). */
export function gammaBetaFrozen(a: BnAnalysis): boolean {
  const present = [a.outcome.gammaTrained, a.outcome.betaTrained].filter((x): x is boolean => x !== null);
  return present.length > 0 && present.every((x) => !x);
}

export function listNames(names: readonly string[], max = 4): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`);
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}
