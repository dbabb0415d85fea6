// Model + analysis -> the data the inspector webview shows (src/shared/protocol.ts). Pure translation: no
// vscode, no analysis logic (predictions come from the core's AnalysisResult as they are).
import type { AnalysisResult, Finding } from '../core/analysis/types';
import type { Model } from '../core/model/ir';
import type { BatchNormRow, FindingView, InspectorData, VariableRow, VerifyResult } from '../shared/protocol';
import { bnState, formatShape } from './tree/model-states';

export interface InspectorInput {
  readonly title: string;
  readonly model: Model;
  readonly result: AnalysisResult | null;
  readonly runtimeSetting: string;
  readonly configPath: string | null;
  readonly analysisError: string | null;
  readonly verification: VerifyResult | null;
  /** Why verification is disabled (untrusted workspace), else null/absent. */
  readonly verifyDisabled?: string | null;
}

export function findingId(f: Finding, index: number): string {
  return `${index}:${f.code}`;
}

export function buildInspectorData(input: InspectorInput): InspectorData {
  const { model, result } = input;
  const pred = new Map((result?.variables ?? []).map((p) => [p.key, p]));
  const variables: VariableRow[] = model.variables.map((v) => {
    const p = pred.get(v.key);
    return {
      key: v.key,
      layer: v.layer ?? '',
      shape: formatShape(v.shape),
      dtype: v.dtype,
      params: v.size ?? 0,
      role: v.optimizerSlot ? `${v.role} (slot)` : v.role,
      trained: p ? p.changes && p.reason === 'gradient' : v.trainable,
      updated: p ? p.changes && p.reason !== 'gradient' : false,
    };
  });
  let paramsTrainable = 0;
  let paramsTotal = 0;
  for (const r of variables) {
    if (r.role.endsWith('(slot)')) continue;
    paramsTotal += r.params;
    if (r.trained) paramsTrainable += r.params;
  }
  const bnPred = new Map((result?.batchNorms ?? []).map((b) => [b.layer, b]));
  const batchNorms: BatchNormRow[] = model.batchNorms.map((bn) => {
    const p = bnPred.get(bn.layer);
    if (!p) {
      const dynamic = bn.graph?.isTraining === 'dynamic';
      return {
        layer: bn.layer,
        className: bn.className,
        normalizesWith: dynamic ? 'dynamic' : 'unknown',
        movingStatsUpdate: dynamic ? 'dynamic' : 'unknown',
        gammaBetaTrained: bn.trainable ? 'yes' : 'no',
        behaviour: dynamic ? 'dynamic' : 'unknown',
        explanation: result ? 'The analysis made no prediction for this layer.' : 'No freeze config is active: create or pick one to see what training does to this layer.',
      };
    }
    const state = bnState(p);
    return {
      layer: bn.layer,
      className: bn.className,
      normalizesWith: p.normalizesWith,
      movingStatsUpdate: p.movingStatsUpdate ? 'yes' : 'no',
      gammaBetaTrained: p.gammaBetaTrained ? 'yes' : 'no',
      behaviour: state === 'bn-drifting' ? 'drifting' : state === 'bn-updating' ? 'updating' : state === 'bn-inference' ? 'inference' : 'frozen',
      explanation: p.explanation,
    };
  });
  const findings: FindingView[] = (result?.findings ?? []).map((f, i) => ({
    id: findingId(f, i),
    code: f.code,
    severity: f.severity,
    message: f.message,
    layers: f.target.kind === 'layer' ? [f.target.name] : [],
    fixes: f.fixes.map((fix, j) => ({ id: String(j), title: fix.title, preferred: fix.isPreferred })),
  }));
  return {
    summary: {
      title: input.title,
      path: model.path,
      format: model.format,
      tensorflowVersion: model.tensorflowVersion,
      kerasVersion: model.kerasVersion,
      runtime: result ? `${result.runtime} (${result.runtimeWhy})` : `${input.runtimeSetting} (no config analyzed)`,
      configPath: input.configPath,
      layerCount: model.layers.filter((l) => l.path !== '').length,
      variableCount: model.variables.length,
      batchNormCount: model.batchNorms.length,
      paramsTotal,
      paramsTrainable,
      paramsFrozen: paramsTotal - paramsTrainable,
      warnings: model.warnings.map((w) => w.message),
    },
    variables,
    batchNorms,
    findings,
    verification: input.verification,
    findingsNote: input.analysisError
      ? `Analysis failed: ${input.analysisError}`
      : input.configPath
        ? null
        : 'No freeze config names this model. Run "Freeze Inspector: Create Freeze Config" to analyze what freezing does.',
    verifyDisabled: input.verifyDisabled ?? null,
  };
}
