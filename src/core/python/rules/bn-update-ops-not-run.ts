// TF1: BatchNorm in training mode puts its moving-average updates in UPDATE_OPS; a train op that does not
// depend on them never updates moving_mean/moving_variance (they stay 0/1: inference is broken).
// SEMANTICS A3 / B1.
import type { ScriptModel } from '../idioms';
import { ctxFunction } from '../idioms/collect';
import type { ScriptFinding, ScriptFix } from '../types';
import { freshName, wrapStatement } from './edits';
import type { ScriptRule } from './rule';
import { bnLabel, collectedTrainingBns } from './tf1-common';

export const bnUpdateOpsNotRun: ScriptRule = {
  code: 'bn-update-ops-not-run',
  description: 'TF1: training-mode BatchNorm whose UPDATE_OPS no train op runs (moving statistics never update).',
  run(m: ScriptModel): ScriptFinding[] {
    const bns = collectedTrainingBns(m);
    if (bns.length === 0) return [];
    const { updateOps, trainOps } = m.tf1;
    if (updateOps.some((r) => r.used)) return [];
    if (updateOps.length === 0 && m.tf1.mentionsUpdateOps) return []; // UPDATE_OPS handled in a way we do not model
    if (trainOps.some((t) => (t.kind === 'create_train_op' || t.kind === 'optimize_loss') && t.updateOpsArg === undefined)) return [];
    const out: ScriptFinding[] = [];
    const tf = m.names.tfSpelling();
    for (const t of trainOps) {
      if (t.kind !== 'minimize' && t.kind !== 'apply_gradients') continue;
      if (t.underOtherDeps) continue;
      // keras optimizers in eager code also have minimize(): require TF1 graph evidence
      if (m.runtime.runtime !== 'tf1-graph') continue;
      const fixes: ScriptFix[] = [];
      if (t.stmt.type === 'expression_statement' || t.stmt.type === 'return_statement') {
        const fn = ctxFunction(t.stmt.ctx);
        const existing = updateOps.find((r) => r.assignedTo && r.stmt.s < t.stmt.s && ctxFunction(r.stmt.ctx) === fn && r.scope === undefined);
        const header = existing
          ? [`with ${tf}.control_dependencies(${existing.assignedTo}):`]
          : (() => {
              const v = freshName(m, 'update_ops');
              return [`${v} = ${tf}.get_collection(${tf}.GraphKeys.UPDATE_OPS)`, `with ${tf}.control_dependencies(${v}):`];
            })();
        fixes.push({ title: 'Run the BatchNorm update ops with this train op (control_dependencies on UPDATE_OPS)', isPreferred: true, edits: wrapStatement(m, t.stmt, header) });
      }
      out.push({
        code: 'bn-update-ops-not-run',
        severity: 'error',
        message:
          `This train op does not run the BatchNorm update ops: ${bnLabel(m, bns[0]!)}${bns.length > 1 ? ` and ${bns.length - 1} more` : ''} ` +
          'normalizes with batch statistics while training and puts its moving-average updates in tf.GraphKeys.UPDATE_OPS, ' +
          'which nothing runs. moving_mean/moving_variance stay at their initial 0/1, so the model is broken in inference mode (training=False). ' +
          'Build the train op under tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)).',
        range: m.range(t.call.s, t.call.e),
        related: bns.slice(0, 5).map((b) => ({ range: m.range(b.call.s, b.call.e), message: 'BatchNorm in training mode' })),
        fixes,
      });
    }
    return out;
  },
};
