// TF1 graph: tf.layers BN with trainable=False but training on normalizes with batch statistics and (TF >=
// 1.5) never updates its moving statistics: training and inference see different normalization. SEMANTICS A5.
import type { ScriptModel } from '../idioms';
import { mayTrain } from '../idioms/tf1';
import type { ScriptFinding } from '../types';
import { setKeywordArgument } from './edits';
import type { ScriptRule } from './rule';

export const frozenBnBatchStats: ScriptRule = {
  code: 'frozen-bn-batch-stats',
  description: 'TF1: BatchNorm with trainable=False but training=True uses batch statistics and never updates its moving ones.',
  run(m: ScriptModel): ScriptFinding[] {
    if (m.runtime.runtime !== 'tf1-graph') return [];
    const out: ScriptFinding[] = [];
    for (const b of m.tf1.batchNorms) {
      if (b.trainable !== false || !mayTrain(b.training) || b.inPlaceUpdates) continue;
      const inCall = !b.trainingKwarg || (b.trainingKwarg.s >= b.call.argsS && b.trainingKwarg.e <= b.call.argsE);
      out.push({
        code: 'frozen-bn-batch-stats',
        severity: 'warning',
        message:
          `This BatchNorm is frozen (trainable=False) but runs with ${b.trainingParam}=${b.training.kind === 'literal' ? 'True' : m.text(b.training.expr)}: ` +
          'in a TF1 graph it still normalizes with the batch statistics, and being non-trainable its moving-average updates are dropped from UPDATE_OPS (TF >= 1.5), ' +
          'so training sees batch statistics and inference sees the unchanged moving ones. Use ' + `${b.trainingParam}=False to freeze it completely.`,
        range: m.range(b.call.s, b.call.e),
        related: [],
        fixes: inCall ? [{ title: `Set ${b.trainingParam}=False (inference mode for the frozen BatchNorm)`, isPreferred: true, edits: [setKeywordArgument(m, b.call, b.trainingKwarg, b.trainingParam, 'False')] }] : [],
      });
    }
    return out;
  },
};
