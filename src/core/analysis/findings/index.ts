// Every finding rule, in report order (most severe first within a layer).
import { locateInConfig } from '../freeze-config';
import type { Prediction } from '../predict';
import type { Finding } from '../types';
import type { FindingRule } from './rule';
import { frozenBnStatsDrift } from './frozen-bn-stats-drift';
import { bnUpdateOpsNotRun } from './bn-update-ops-not-run';
import { keras3TrainingFalseOverridden } from './keras3-training-false-overridden';
import { bnHalfFrozen } from './bn-half-frozen';
import { frozenBnBatchStats } from './frozen-bn-batch-stats';
import { patternMatchesNothing } from './pattern-matches-nothing';
import { nothingTrains } from './nothing-trains';
import { trainableBnInInferenceCall } from './trainable-bn-in-inference-call';
import { keras3RecompileAfterFreeze } from './keras3-recompile-after-freeze';
import { trainingFlagFixedInGraph } from './training-flag-fixed-in-graph';

export const FINDING_RULES: readonly FindingRule[] = [
  frozenBnStatsDrift,
  bnUpdateOpsNotRun,
  keras3TrainingFalseOverridden,
  bnHalfFrozen,
  frozenBnBatchStats,
  patternMatchesNothing,
  nothingTrains,
  trainableBnInInferenceCall,
  keras3RecompileAfterFreeze,
  trainingFlagFixedInGraph,
];

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function runFindingRules(p: Prediction, configText?: string): Finding[] {
  const findings = FINDING_RULES.flatMap((rule) => rule(p));
  const located = configText === undefined ? findings : findings.map((f) => (f.configPath ? { ...f, configRange: locateInConfig(configText, f.configPath) } : f));
  return located.map((f, i) => ({ f, i })).sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i).map(({ f }) => f);
}
