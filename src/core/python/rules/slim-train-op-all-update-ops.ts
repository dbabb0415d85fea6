// TF-Slim create_train_op (and tf.contrib.layers.optimize_loss) run the whole UPDATE_OPS collection unless
// update_ops= says otherwise; with variables_to_train restricted, the frozen part's BN statistics drift.
// SEMANTICS B1 (tf-slim training.py: update_ops=None means every UPDATE_OPS).
import type { ScriptModel } from '../idioms';
import { describeSelector } from '../idioms/selectors';
import { mayTrain } from '../idioms/tf1';
import { dottedName } from '../syntax';
import type { ScriptFinding, ScriptFix } from '../types';
import { addKeywordArgument, replace } from './edits';
import type { ScriptRule } from './rule';
import { bnTrainedBy, hasTrainingBnEvidence, singleRestrictedTrainOps } from './tf1-common';
import { updateOpsExpression } from './update-ops-expr';

export const slimTrainOpAllUpdateOps: ScriptRule = {
  code: 'slim-train-op-all-update-ops',
  description: 'TF-Slim create_train_op / optimize_loss with restricted variables_to_train but the default (all) update_ops.',
  run(m: ScriptModel): ScriptFinding[] {
    if (!hasTrainingBnEvidence(m)) return [];
    const out: ScriptFinding[] = [];
    for (const t of singleRestrictedTrainOps(m, ['create_train_op', 'optimize_loss'])) {
      const arg = t.updateOpsArg;
      let unscopedArg = false;
      if (arg !== undefined) {
        if (arg.k === 'none') unscopedArg = true;
        else {
          const refs = m.tf1.updateOps.filter((r) => (r.call.s >= arg.s && r.call.e <= arg.e) || (arg.k === 'name' && r.assignedTo === dottedName(arg)));
          unscopedArg = refs.length > 0 && refs.every((r) => r.scope === undefined && !r.filtered);
        }
        if (!unscopedArg) continue;
      }
      const bns = m.tf1.batchNorms.filter((b) => mayTrain(b.training) && !b.inPlaceUpdates && b.trainable !== false);
      const status = bns.map((b) => bnTrainedBy(b, t.selector));
      const unknown = status.filter((s) => s === null).length + m.tf1.networks.filter((n) => mayTrain(n.training)).length;
      if (!status.includes(false) && unknown === 0) continue;
      const fixes: ScriptFix[] = [];
      const expr = updateOpsExpression(m, t.selector);
      if (expr) {
        const edit = arg !== undefined ? replace(m, arg.s, arg.e, expr) : addKeywordArgument(m, t.call, 'update_ops', expr);
        fixes.push({ title: 'Pass update_ops restricted to the trained variables', isPreferred: true, edits: [edit] });
      }
      const fnName = t.kind === 'create_train_op' ? 'create_train_op' : 'optimize_loss';
      out.push({
        code: 'slim-train-op-all-update-ops',
        severity: 'warning',
        message:
          `${fnName} trains only ${describeSelector(t.selector)}, but ${arg === undefined ? 'without update_ops= it runs' : 'update_ops= is'} every op in UPDATE_OPS: ` +
          'BatchNorm layers outside the trained variables keep gamma/beta frozen while their moving_mean/moving_variance keep updating (is_training is on). ' +
          'Pass update_ops restricted to the trained scopes.',
        range: m.range(t.call.s, t.call.e),
        related: [],
        fixes,
      });
    }
    return out;
  },
};
