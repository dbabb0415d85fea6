// Every script rule, in the order findings are reported for one line.
import { bnUpdateOpsNotRun } from './bn-update-ops-not-run';
import { finetuneBnTrainingMode } from './finetune-bn-training-mode';
import { frozenBnBatchStats } from './frozen-bn-batch-stats';
import { frozenBnStatsDrift } from './frozen-bn-stats-drift';
import type { ScriptRule } from './rule';
import { slimTrainOpAllUpdateOps } from './slim-train-op-all-update-ops';
import { trainableAfterCompile } from './trainable-after-compile';
import { trainableComparison } from './trainable-comparison';
import { trainableWrongTarget } from './trainable-wrong-target';

export const SCRIPT_RULES: readonly ScriptRule[] = [
  frozenBnStatsDrift,
  bnUpdateOpsNotRun,
  slimTrainOpAllUpdateOps,
  frozenBnBatchStats,
  finetuneBnTrainingMode,
  trainableAfterCompile,
  trainableWrongTarget,
  trainableComparison,
];

export type { ScriptRule } from './rule';
