// Public types of the Python-script analysis (hover, diagnostics, quick-fixes, CLI). Plain data: positions
// are VS Code's (0-based line, UTF-16 code-unit character), so the extension maps them 1:1 onto
// vscode.Position / Range / TextEdit.
import type { Runtime } from '../analysis/types';

export interface Position {
  readonly line: number;
  readonly character: number;
}

export interface Range {
  readonly start: Position;
  readonly end: Position;
}

/** One text replacement, in the coordinates of the document before any edit of the same fix is applied. */
export interface TextEdit {
  readonly range: Range;
  readonly newText: string;
}

/** A quick-fix: a WorkspaceEdit limited to the script itself (edits must not overlap). */
export interface ScriptFix {
  readonly title: string;
  readonly isPreferred: boolean;
  readonly edits: readonly TextEdit[];
}

export type ScriptSeverity = 'error' | 'warning' | 'info';

/**
 * Stable codes of script findings. Codes shared with the model analysis (src/core/analysis FindingCode) mean
 * the same thing there; the others exist only for scripts.
 */
export type ScriptFindingCode =
  /** TF1: a frozen scope's BatchNorm still updates its moving statistics (UPDATE_OPS unscoped, training on). */
  | 'frozen-bn-stats-drift'
  /** TF1: training-mode BatchNorm whose update ops no train op runs. */
  | 'bn-update-ops-not-run'
  /** TF-Slim create_train_op / optimize_loss with restricted variables but every UPDATE_OPS. */
  | 'slim-train-op-all-update-ops'
  /** Keras: a base model with BatchNorm is unfrozen and fine-tuned with its BatchNorm in training mode. */
  | 'finetune-bn-training-mode'
  /** Keras: `trainable` changed after compile()/fit() and fit() runs again without recompiling. */
  | 'trainable-after-compile'
  /** Keras: a loop over layers sets `.trainable` on something other than the loop variable. */
  | 'trainable-wrong-target'
  /** `x.trainable == False` as a statement: a comparison that changes nothing. */
  | 'trainable-comparison'
  /** TF1 graph: BatchNorm with trainable=False but training=True normalizes with batch statistics and never updates its moving ones. */
  | 'frozen-bn-batch-stats';

export interface RelatedLocation {
  readonly range: Range;
  readonly message: string;
}

export interface ScriptFinding {
  readonly code: ScriptFindingCode;
  readonly severity: ScriptSeverity;
  readonly message: string;
  readonly range: Range;
  readonly related: readonly RelatedLocation[];
  readonly fixes: readonly ScriptFix[];
}

/** Which training runtime the script targets, and why we think so. */
export interface RuntimeGuess {
  readonly runtime: Runtime | null;
  /** 'pragma' and 'setting' are certain; 'imports' is a guess from what the script imports and calls. */
  readonly source: 'pragma' | 'setting' | 'imports' | 'unknown';
  readonly why: string;
  /** Standalone Keras 2 (`import keras` with Keras-2-only APIs): frozen BN still uses batch statistics there. */
  readonly standaloneKeras2: boolean;
}
