// TF1: the optimizer trains only some variables (var_list), but the train op runs every UPDATE_OPS while
// BN runs in training mode: the frozen scopes' gamma/beta stay, their moving statistics drift with the new
// data. SEMANTICS A4.
import type { ScriptModel } from '../idioms';
import { ctxEntries, ctxFunction } from '../idioms/collect';
import { describeSelector } from '../idioms/selectors';
import { type Tf1BatchNorm, type TrainOp, type UpdateOpsRef, mayTrain } from '../idioms/tf1';
import { type Expr, dottedName, mentionsName } from '../syntax';
import type { ScriptFinding, ScriptFix } from '../types';
import { replace, setKeywordArgument } from './edits';
import type { ScriptRule } from './rule';
import { bnLabel, bnTrainedBy, hasTrainingBnEvidence, singleRestrictedTrainOps } from './tf1-common';
import { updateOpsExpression } from './update-ops-expr';

export const frozenBnStatsDrift: ScriptRule = {
  code: 'frozen-bn-stats-drift',
  description: 'TF1: var_list freezes some scopes but every UPDATE_OPS runs with BN in training mode: frozen BN statistics drift.',
  run(m: ScriptModel): ScriptFinding[] {
    // BatchNorm built outside the script (a model class, a helper module) still announces itself: the script
    // collects UPDATE_OPS for its train op, which only BatchNorm-like layers fill, and feeds the model a training
    // switch (a bool placeholder, `mode == ModeKeys.TRAIN`, training=/is_training=).
    const noVisibleBn = m.tf1.batchNorms.length === 0 && m.tf1.networks.length === 0 && hasTrainingSwitch(m);
    if (!hasTrainingBnEvidence(m) && !noVisibleBn) return [];
    const ops = singleRestrictedTrainOps(m, ['minimize', 'compute_gradients', 'gradients', 'apply_gradients', 'optimize_clones']);
    const out: ScriptFinding[] = [];
    const reported = new Set<UpdateOpsRef>();
    for (const t of ops) {
      const refs = updatesRunWith(m, t).filter((r) => r.scope === undefined && !r.filtered && !reported.has(r));
      if (refs.length === 0) continue;
      const bns = m.tf1.batchNorms.filter((b) => mayTrain(b.training) && !b.inPlaceUpdates && b.trainable !== false);
      const status = bns.map((b) => ({ b, trained: bnTrainedBy(b, t.selector) }));
      const frozen = status.filter((x) => x.trained === false).map((x) => x.b);
      const unknown = status.filter((x) => x.trained === null).length + m.tf1.networks.filter((n) => mayTrain(n.training)).length + (noVisibleBn ? 1 : 0);
      if (frozen.length === 0 && unknown === 0) continue; // every BN is in the trained part: nothing drifts
      for (const r of refs) {
        reported.add(r);
        out.push(finding(m, t, r, frozen));
      }
    }
    return out;
  },
};

function hasTrainingSwitch(m: ScriptModel): boolean {
  for (const f of m.facts) {
    if (f.kind !== 'call') continue;
    const c = f.call;
    const name = m.names.canon(c.callee) ?? '';
    if (name === 'tf.placeholder' && [c.args[0], c.kwargs.find((k) => k.name === 'dtype')?.value].some((a) => a !== undefined && /(^|\.)bool$/.test(dottedName(a) ?? ''))) return true;
    if (name === 'tf.placeholder_with_default' && c.args[0]?.k === 'bool') return true;
    if (c.kwargs.some((k) => (k.name === 'training' || k.name === 'is_training') && k.value.k !== 'bool')) return true;
    if (c.args.some((a) => a.k === 'cmp' && a.operands.some((o) => /(^|\.)ModeKeys\.TRAIN$/.test(dottedName(o) ?? '')))) return true;
  }
  return false;
}

/**
 * UPDATE_OPS collections that run with this train op: its control dependencies; else the ones grouped with it
 * (`tf.group(train_op, update_ops)`, nested `control_dependencies([update_ops])` / `([train_op])`); else any
 * collection that is used (sess.run, tf.group) when the script has no other train op to pair it with.
 */
function updatesRunWith(m: ScriptModel, t: TrainOp): UpdateOpsRef[] {
  if (t.underUpdateOps.length > 0) return [...t.underUpdateOps];
  // compute_gradients + apply_gradients: the dependencies usually wrap apply_gradients
  const apply = m.tf1.trainOps.filter((o) => o.kind === 'apply_gradients' && o.fn === t.fn && o.underUpdateOps.length > 0);
  if (apply.length > 0) return apply.flatMap((o) => o.underUpdateOps);
  const paired = pairedUpdateOps(m, t);
  if (paired.length > 0) return paired;
  return m.tf1.updateOps.filter((r) => r.used);
}

function pairedUpdateOps(m: ScriptModel, t: TrainOp): UpdateOpsRef[] {
  const name = t.assignedTo;
  if (!name) return [];
  const refsIn = (e: Expr) => m.tf1.updateOps.filter((r) => (r.call.s >= e.s && r.call.e <= e.e) || (r.assignedTo !== null && mentionsName(e, r.assignedTo)));
  const out = new Set<UpdateOpsRef>();
  for (const f of m.facts) {
    if (ctxFunction(f.stmt.ctx) !== t.fn) continue;
    if (f.kind === 'call' && /(^|\.)(group|tuple|with_dependencies)$/.test(f.call.callee ?? '') && mentionsName(f.call, name)) for (const r of refsIn(f.call)) out.add(r);
    const deps = ctxEntries(f.stmt.ctx).filter((e): e is Extract<typeof e, { kind: 'control-deps' }> => e.kind === 'control-deps');
    if (deps.some((d) => mentionsName(d.deps, name))) for (const d of deps) for (const r of refsIn(d.deps)) out.add(r);
  }
  return [...out];
}

function finding(m: ScriptModel, t: TrainOp, r: UpdateOpsRef, frozen: Tf1BatchNorm[]): ScriptFinding {
  const fixes: ScriptFix[] = [];
  const expr = updateOpsExpression(m, t.selector);
  if (expr) fixes.push({ title: 'Run only the update ops of the trained variables', isPreferred: true, edits: [replace(m, r.call.s, r.call.e, expr)] });
  const editable = frozen.filter((b) => !b.trainingKwarg || (b.trainingKwarg.s >= b.call.argsS && b.trainingKwarg.e <= b.call.argsE));
  if (editable.length > 0 && editable.length === frozen.length) {
    fixes.push({
      title: `Run the frozen BatchNorm layers in inference mode (${frozen[0]!.trainingParam}=False)`,
      isPreferred: !expr,
      edits: editable.map((b) => setKeywordArgument(m, b.call, b.trainingKwarg, b.trainingParam, 'False')),
    });
  }
  const frozenText = frozen.length > 0 ? `${bnLabel(m, frozen[0]!)}${frozen.length > 1 ? ` and ${frozen.length - 1} more` : ''}` : 'the BatchNorm layers outside the trained variables';
  return {
    code: 'frozen-bn-stats-drift',
    severity: 'warning',
    message:
      `The optimizer trains only ${describeSelector(t.selector)}, but this collects every UPDATE_OPS and BatchNorm runs in training mode: ` +
      `${frozenText} ${frozen.length === 1 ? 'keeps' : 'keep'} gamma/beta frozen while ${frozen.length === 1 ? 'its' : 'their'} moving_mean/moving_variance keep updating from the new data. ` +
      'Scope the update ops to the trained variables, or run the frozen part with training=False.',
    range: m.range(r.call.s, r.call.e),
    related: [
      { range: m.range(t.call.s, t.call.e), message: `trains ${describeSelector(t.selector)}` },
      ...frozen.slice(0, 5).map((b) => ({ range: m.range(b.call.s, b.call.e), message: 'frozen BatchNorm in training mode' })),
    ],
    fixes,
  };
}
