// Every message between the extension and the inspector webview, as discriminated unions on `type`.
// Plain JSON data only: both sides import this file, neither imports the other's runtime. The verification
// types are the fine-tune engine's own (src/core/finetune/types.ts), re-exported here.
import type { VerifyResult } from '../core/finetune/types';

export type { VerifyResult, VariableObservation, BatchNormObservation, EngineEvent, EngineCommand, VerifyRequest } from '../core/finetune/types';

/** How a BatchNorm layer behaves in training under the active freeze config and runtime. */
export type BnBehaviour = 'updating' | 'frozen' | 'drifting' | 'inference' | 'dynamic' | 'unknown';

export interface SummaryView {
  readonly title: string;
  readonly path: string;
  readonly format: string;
  readonly tensorflowVersion: string | null;
  readonly kerasVersion: string | null;
  readonly runtime: string;
  readonly configPath: string | null;
  readonly layerCount: number;
  readonly variableCount: number;
  readonly batchNormCount: number;
  readonly paramsTotal: number;
  readonly paramsTrainable: number;
  readonly paramsFrozen: number;
  readonly warnings: readonly string[];
}

export interface VariableRow {
  readonly key: string;
  readonly layer: string;
  readonly shape: string;
  readonly dtype: string;
  readonly params: number;
  readonly role: string;
  /** Whether the optimizer changes it under the active config (or the saved model's own flags). */
  readonly trained: boolean;
  /** Whether a training step changes it through a moving-average update. */
  readonly updated: boolean;
}

export interface BatchNormRow {
  readonly layer: string;
  readonly className: string;
  /** 'batch', 'moving', 'dynamic' or 'unknown'. */
  readonly normalizesWith: string;
  readonly movingStatsUpdate: 'yes' | 'no' | 'dynamic' | 'unknown';
  readonly gammaBetaTrained: 'yes' | 'no' | 'partly' | 'unknown';
  readonly behaviour: BnBehaviour;
  readonly explanation: string;
}

export interface FixView {
  readonly id: string;
  readonly title: string;
  readonly preferred: boolean;
}

export interface FindingView {
  readonly id: string;
  readonly code: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly layers: readonly string[];
  readonly fixes: readonly FixView[];
}

export interface InspectorData {
  readonly summary: SummaryView;
  readonly variables: readonly VariableRow[];
  readonly batchNorms: readonly BatchNormRow[];
  readonly findings: readonly FindingView[];
  readonly verification: VerifyResult | null;
  /** Why findings are absent (no config, analysis unavailable), shown instead of an empty list. */
  readonly findingsNote: string | null;
  /** Why "Verify by fine-tuning" is disabled (an untrusted workspace), or null when it can run. */
  readonly verifyDisabled: string | null;
}

export type ToWebview =
  | { readonly type: 'loading'; readonly path: string }
  | { readonly type: 'data'; readonly data: InspectorData }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'verifying'; readonly message: string }
  | { readonly type: 'reveal'; readonly tab: InspectorTab; readonly search?: string };

export type InspectorTab = 'summary' | 'variables' | 'batchnorm' | 'findings' | 'verification';

export type FromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'applyFix'; readonly findingId: string; readonly fixId: string }
  | { readonly type: 'revealFinding'; readonly findingId: string }
  | { readonly type: 'copyKey'; readonly key: string }
  | { readonly type: 'verify' }
  | { readonly type: 'pickConfig' };

/** What the webview persists with setState (restored when the panel is re-shown). */
export interface WebviewState {
  readonly tab: InspectorTab;
  readonly search: string;
  readonly sortColumn: keyof VariableRow;
  readonly sortAscending: boolean;
  readonly scrollTop: number;
}
