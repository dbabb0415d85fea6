// Every setting the extension reads, in one typed place. The keys mirror `contributes.configuration` in
// package.json (src/extension/manifest.mjs writes them; keep the two in step).
import * as vscode from 'vscode';

export type RuntimeChoice = 'auto' | 'tf1-graph' | 'tf2-keras' | 'keras3';
export const RUNTIME_CHOICES: readonly RuntimeChoice[] = ['auto', 'tf1-graph', 'tf2-keras', 'keras3'];

export interface Settings {
  /** Which framework semantics the analysis assumes; 'auto' picks it from the model's format and versions. */
  readonly runtime: RuntimeChoice;
  /** Glob patterns (relative to the workspace) excluded from the model search, in addition to files.exclude. */
  readonly modelSearchExclude: readonly string[];
  /** Most models listed in the sidebar; the search stops there. */
  readonly maxModels: number;
  /** Python interpreter for the Python fine-tune engine ('' = not configured). */
  readonly pythonPath: string;
  /** Steps of the short verification fine-tune. */
  readonly verifySteps: number;
}

export const SECTION = 'freezeInspector';

export function readSettings(scope?: vscode.ConfigurationScope): Settings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const runtime = c.get<string>('runtime', 'auto');
  return {
    runtime: (RUNTIME_CHOICES as readonly string[]).includes(runtime) ? (runtime as RuntimeChoice) : 'auto',
    modelSearchExclude: c.get<string[]>('modelSearch.exclude', ['**/node_modules/**', '**/.git/**']),
    maxModels: Math.max(1, c.get<number>('modelSearch.maxModels', 500)),
    pythonPath: c.get<string>('python.interpreterPath', ''),
    verifySteps: Math.max(1, c.get<number>('verify.steps', 20)),
  };
}

export async function writeRuntime(runtime: RuntimeChoice): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration(SECTION).update('runtime', runtime, target);
}
