// A BatchNorm that trains in batch-statistics mode, but whose moving-average update ops never run: its
// moving statistics stay where they are (0/1 when freshly initialized), so inference is broken.
import type { Fix } from '../types';
import { setEdit, updateOpsEdit, updateScopeFor } from '../fixes';
import { type FindingRule } from './rule';

export const bnUpdateOpsNotRun: FindingRule = (p) =>
  p.batchNorms
    .filter((a) => a.outcome.normalizesWith === 'batch' && !a.outcome.movingStatsUpdate && a.outcome.rule.statsStillReason === 'update-op-not-run')
    .filter((a) => a.outcome.gammaTrained === true || a.outcome.betaTrained === true)
    .map((a) => {
      const fixes: Fix[] = [];
      const current = p.config.updateOps;
      const saved = p.tf1?.usesSavedTrainOp === true;
      if (saved) {
        fixes.push({
          title: 'Build the train op from this config, under control_dependencies(UPDATE_OPS) (useSavedTrainOp false, updateOps "all")',
          isPreferred: true,
          edits: [setEdit(['useSavedTrainOp'], false), updateOpsEdit('all')],
        });
      } else if (typeof current === 'object') {
        fixes.push({
          title: `Add "${updateScopeFor(a.bn.layer)}" to the update-op scopes`,
          isPreferred: true,
          edits: [updateOpsEdit({ scopes: [...current.scopes, updateScopeFor(a.bn.layer)] })],
        });
      }
      fixes.push({
        title: 'Make the train op depend on all UPDATE_OPS (updateOps "all": minimize under control_dependencies(UPDATE_OPS))',
        isPreferred: fixes.length === 0,
        edits: [updateOpsEdit('all')],
      });
      if (saved) fixes.pop();
      return {
        code: 'bn-update-ops-not-run' as const,
        severity: 'error' as const,
        message: `${a.bn.layer} trains in batch-statistics mode, but its moving-average update ops never run (${a.facts.updateOpsWhy}): moving_mean/moving_variance keep their current values (0 and 1 if freshly initialized), so inference will normalize with statistics that do not match the trained weights.`,
        target: { kind: 'layer' as const, name: a.bn.layer },
        fixes,
        configPath: [saved ? 'useSavedTrainOp' : 'updateOps'],
      };
    });
