// Shared reasoning of the TF1 rules: which BatchNorms train, which are frozen by a train op's selector.
import { compilePattern } from '../../analysis/patterns';
import type { ScriptModel } from '../idioms';
import { type PatternKind, type Selector, describeSelector, isRestricted, selects } from '../idioms/selectors';
import { type Tf1BatchNorm, type TrainOp, mayTrain } from '../idioms/tf1';

/** BNs whose moving-average updates go to UPDATE_OPS while training (the ones a train op must run). */
export function collectedTrainingBns(m: ScriptModel): Tf1BatchNorm[] {
  return m.tf1.batchNorms.filter((b) => mayTrain(b.training) && !b.inPlaceUpdates && b.trainable !== false);
}

/** Any evidence of training-mode BN: BN calls, or TF-Slim zoo networks called with is_training. */
export function hasTrainingBnEvidence(m: ScriptModel): boolean {
  return collectedTrainingBns(m).length > 0 || m.tf1.networks.some((n) => mayTrain(n.training));
}

export function testPattern(pattern: string, how: PatternKind, target: string): boolean | null {
  switch (how) {
    case 'prefix':
      return target.startsWith(pattern);
    case 'substring':
      return target.includes(pattern);
    case 'search': {
      const c = compilePattern(pattern, 'regex');
      return c.ok ? c.pattern.test(target) : null;
    }
    case 'match': {
      const c = compilePattern(pattern, 'regex');
      if (!c.ok) return null;
      // re.match: anchored at the start. Prefix with ^ in JS terms by testing on a sentinel-free slice.
      const anchored = compilePattern(`^(?:${pattern})`, 'regex');
      return anchored.ok ? anchored.pattern.test(target) : null;
    }
  }
}

/** A representative variable name of the BN (its gamma), when its scope and name are known. */
export function bnVariableName(b: Tf1BatchNorm): string | null {
  if (b.scope === null) return null;
  const own = b.name ?? (b.api === 'tf.layers' ? 'batch_normalization' : 'BatchNorm');
  // gamma may not exist (slim scale=False); beta always does
  return `${b.scope ? `${b.scope}/` : ''}${own}/beta`;
}

/** true: the selector trains this BN's variables; false: it does not (frozen); null: cannot tell. */
export function bnTrainedBy(b: Tf1BatchNorm, sel: Selector): boolean | null {
  const v = bnVariableName(b);
  if (v === null) return null;
  return selects(sel, v, testPattern);
}

/**
 * The train ops that train a restricted set of variables, unless several optimizers train different subsets (GANs,
 * alternating schemes: each part is trained by its own op, nothing is frozen). An optimizer over everything next to
 * the restricted one is a schedule of phases (the head first, then everything): during the restricted phase the
 * frozen part is frozen all the same. compute_gradients feeding an apply_gradients are one op with it.
 */
export function singleRestrictedTrainOps(m: ScriptModel, kinds: readonly TrainOp['kind'][]): TrainOp[] {
  const consumed = new Set(m.tf1.trainOps.flatMap((t) => t.consumes));
  const relevant = m.tf1.trainOps.filter((t) => (t.kind === 'apply_gradients' ? t.selector.kind !== 'unknown' : !consumed.has(t.call)));
  const restricted = relevant.filter((t) => isRestricted(t.selector));
  const key = (t: TrainOp) => describeSelector(t.selector) + (t.selector.kind === 'restricted' && t.varListExpr ? m.text(t.varListExpr) : '');
  if (new Set(restricted.map(key)).size !== 1) return [];
  return restricted.filter((t) => kinds.includes(t.kind));
}

export function bnLabel(m: ScriptModel, b: Tf1BatchNorm): string {
  const where = b.scope ? ` in scope '${b.scope}'` : '';
  return `${m.text({ s: b.call.s, e: Math.min(b.call.e, b.call.argsS) })}${where} (line ${m.lines.positionAt(b.call.s).line + 1})`;
}
