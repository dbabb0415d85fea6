// The classic TF1 trap: gamma/beta excluded from var_list (exclude_patterns=['A','B','C']) while
// is_training=True and the train op runs all UPDATE_OPS: the "frozen" layers' moving statistics keep moving.
import type { Finding, Fix } from '../types';
import type { BnAnalysis, Prediction } from '../predict';
import { coverScopes, trainingOverrideEdits, updateOpsEdit, updateScopeFor } from '../fixes';
import { gammaBetaFrozen, type FindingRule } from './rule';
import { unfreezeGammaBetaFix } from './unfreeze-gamma-beta';

export const frozenBnStatsDrift: FindingRule = (p) => {
  const drifting = p.batchNorms.filter((a) => gammaBetaFrozen(a) && a.outcome.movingStatsUpdate);
  if (drifting.length === 0) return [];
  const driftingLayers = new Set(drifting.map((d) => d.bn.layer));
  // Scopes for trainingOverrides may cover other drifting layers, never a layer that is fine as it is.
  const keepOut = p.batchNorms.map((a) => a.bn.layer).filter((l) => !driftingLayers.has(l));
  // With the saved train op, var_list and update ops come from the graph: only the training flag can be changed.
  const configTrainOp = p.runtime === 'tf1-graph' && !p.tf1?.usesSavedTrainOp;
  const restrictFix = configTrainOp ? restrictUpdateOpsFix(p) : null;
  return drifting.map((a): Finding => {
    const fixes: Fix[] = [];
    const scope = coverScopes([a.bn.layer], [a.bn.layer, ...keepOut])[0]!;
    // In a TF1 graph one is_training placeholder usually drives every BatchNorm: building only the frozen
    // part with training=False means changing the model code (its own flag), while restricting the update ops
    // is a change of the train op alone, so the latter stays preferred there. Both are verifiable: the Python
    // engine (like the oracle, case tf1_seed_override_frozen_false) rewires the saved graph so the overridden
    // scopes read a constant training flag.
    if (restrictFix) fixes.push({ ...restrictFix, isPreferred: true });
    fixes.push({
      title:
        p.runtime === 'tf1-graph'
          ? `Build "${scope}" with training=False (its own flag; trainingOverrides): the frozen part then uses and keeps its moving statistics`
          : `Call "${scope}" with training=False (trainingOverrides): the frozen part then uses and keeps its moving statistics`,
      isPreferred: !restrictFix,
      edits: trainingOverrideEdits([scope], false),
    });
    const unfreeze = configTrainOp ? unfreezeGammaBetaFix(p, a) : null;
    if (unfreeze) fixes.push(unfreeze);
    return {
      code: 'frozen-bn-stats-drift',
      severity: 'error',
      message: `${a.bn.layer}: gamma/beta are frozen, but moving_mean/moving_variance still change every training step (${a.facts.updateOpsWhy || 'training mode'}). The frozen layer normalizes with batch statistics while training, and its inference statistics drift away from the ones its frozen weights were trained with.`,
      target: { kind: 'layer', name: a.bn.layer },
      fixes,
      ...configPathOf(a),
    };
  });
};

function configPathOf(a: BnAnalysis): { configPath?: (string | number)[] } {
  const by = a.facts.gamma?.by ?? a.facts.beta?.by ?? a.facts.frozenBy?.by ?? null;
  return by ? { configPath: [by.list, by.index] } : {};
}

/** updateOps: only the scopes of the BatchNorm layers whose gamma/beta train. */
function restrictUpdateOpsFix(p: Prediction): Fix {
  const trained = p.batchNorms.filter((a) => !gammaBetaFrozen(a)).map((a) => a.bn.layer);
  const all = p.batchNorms.map((a) => a.bn.layer);
  const scopes = coverScopes(trained, all).map(updateScopeFor);
  return {
    title: scopes.length
      ? `Make the train op run only the trained layers' update ops (updateOps scopes ${scopes.map((s) => `"${s}"`).join(', ')})`
      : 'Make the train op run no update ops (updateOps "none"): no BatchNorm layer trains',
    isPreferred: false,
    edits: [updateOpsEdit(scopes.length ? { scopes } : 'none')],
  };
}
