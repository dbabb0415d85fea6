// Which engine a "Verify by Fine-tuning" runs on, decided from plain facts (no vscode import, so the rules are
// unit-tested on their own):
// - untrusted workspace: nothing runs and no interpreter is looked up or launched (a workspace setting could
//   point the interpreter at any program);
// - a Python interpreter is configured (the Python extension's selected one, else the setting): the user's own
//   TensorFlow runs the fine-tune, for every model, TF1 graphs included;
// - otherwise TensorFlow.js in a worker thread, for models it can rebuild (a Keras model config); a TF1 graph or a
//   plain tf.Module SavedModel is refused with a message that says how to verify it.
import type { Runtime } from '../core/analysis/types';

export type InterpreterSource = 'python-extension' | 'setting';

export interface Interpreter {
  readonly path: string;
  readonly source: InterpreterSource;
}

export interface EngineChoiceInput {
  readonly trusted: boolean;
  readonly interpreter: Interpreter | null;
  readonly runtime: Runtime;
  /** The model carries a Keras model config (TensorFlow.js can only rebuild those). */
  readonly hasKerasConfig: boolean;
  /** For messages: the model's name as the views show it. */
  readonly modelLabel: string;
}

export type EngineChoice =
  | { readonly kind: 'python'; readonly interpreter: string; readonly why: string }
  | { readonly kind: 'tfjs'; readonly why: string }
  | { readonly kind: 'refuse'; readonly reason: 'untrusted' | 'not-rebuildable'; readonly message: string };

export const UNTRUSTED_MESSAGE =
  'Verification is disabled in an untrusted workspace: it runs a fine-tune and may start a Python interpreter named by the workspace settings. Trust the workspace (Manage Workspace Trust) to enable it.';

export const SETTING_KEY = 'freezeInspector.python.interpreterPath';

/** Whether the model can be rebuilt by the TensorFlow.js engine at all (the same test the engine applies). */
export function tfjsCanRebuild(runtime: Runtime, hasKerasConfig: boolean): boolean {
  return runtime !== 'tf1-graph' && hasKerasConfig;
}

export function chooseEngine(i: EngineChoiceInput): EngineChoice {
  if (!i.trusted) return { kind: 'refuse', reason: 'untrusted', message: UNTRUSTED_MESSAGE };
  if (i.interpreter && i.interpreter.path.trim() !== '') {
    const from = i.interpreter.source === 'python-extension' ? "the Python extension's selected interpreter" : `the ${SETTING_KEY} setting`;
    return { kind: 'python', interpreter: i.interpreter.path, why: `your TensorFlow (${i.interpreter.path}, ${from})` };
  }
  if (tfjsCanRebuild(i.runtime, i.hasKerasConfig)) {
    return { kind: 'tfjs', why: 'TensorFlow.js (no Python interpreter is selected)' };
  }
  const what = i.runtime === 'tf1-graph' ? 'a TF1 graph' : 'a SavedModel without a Keras model config';
  return {
    kind: 'refuse',
    reason: 'not-rebuildable',
    message: `${i.modelLabel} is ${what}: TensorFlow.js cannot rebuild it for a fine-tune. Select a Python interpreter with TensorFlow (Python: Select Interpreter, or the ${SETTING_KEY} setting) to verify it with your own TensorFlow.`,
  };
}

/** Whether the extension may look up or launch a Python interpreter at all. */
export function mayLaunchInterpreter(trusted: boolean): boolean {
  return trusted;
}
