// Verify by Fine-tuning: plans the run with the core (buildVerifyRequest), picks the engine (engine-choice.ts:
// the user's own TensorFlow through python/engine/runner.py when a Python interpreter is selected, else
// TensorFlow.js in a worker thread; the extension host never trains), streams progress into a cancellable
// notification, and shows the result in the inspector and the tree. Model files are only read.
import * as vscode from 'vscode';
import type { EngineEvent, VerifyResult } from '../core/finetune/types';
import type { VerifyEngine } from '../core/finetune/engine';
import type { CommandDeps } from './commands';
import type { ModelEntry } from './model-service';
import { loadAnalysisApi } from './core-api';
import { readSettings } from './config';
import { chooseEngine, mayLaunchInterpreter, type EngineChoice, type Interpreter } from './engine-choice';
import { errorMessage } from './log';

/** The interpreter to verify with: the freezeInspector setting when set (explicit, for this extension), else the Python extension's selected one. */
export async function resolveInterpreter(resource: vscode.Uri | undefined): Promise<Interpreter | null> {
  if (!mayLaunchInterpreter(vscode.workspace.isTrusted)) return null;
  const setting = readSettings(resource).pythonPath.trim();
  if (setting) return { path: setting, source: 'setting' };
  const fromExtension = await pythonExtensionInterpreter(resource);
  return fromExtension ? { path: fromExtension, source: 'python-extension' } : null;
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined } };
}

/** The interpreter the Python extension (ms-python.python) has selected for the resource, through its public API. */
async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string | null> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return null;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api.environments?.getActiveEnvironmentPath(resource);
    if (active) {
      const resolved = await api.environments!.resolveEnvironment(active);
      return resolved?.executable?.uri?.fsPath ?? active.path;
    }
    return api.settings?.getExecutionDetails(resource).execCommand?.[0] ?? null;
  } catch {
    return null;
  }
}

export async function runVerification(deps: CommandDeps, entry: ModelEntry, forceEngine?: 'tfjs'): Promise<VerifyResult | undefined> {
  const { analyses, inspector, tree, log } = deps;
  const analysis = await analyses.analyze(entry);
  if (!analysis.config?.parsed.config || !analysis.result) {
    const create = 'Create Freeze Config';
    if ((await vscode.window.showWarningMessage(`Freeze Inspector: ${entry.label} has no analyzed freeze config to verify.`, create)) === create) {
      await vscode.commands.executeCommand('freezeInspector.createConfig', entry.fileUri);
    }
    return undefined;
  }
  const interpreter = forceEngine ? null : await resolveInterpreter(entry.fileUri);
  const choice: EngineChoice = chooseEngine({
    trusted: vscode.workspace.isTrusted,
    interpreter,
    runtime: analysis.result.runtime,
    hasKerasConfig: analysis.model.kerasConfig != null,
    modelLabel: entry.label,
  });
  if (choice.kind === 'refuse') {
    log.info(`verify ${entry.key}: refused (${choice.reason})`);
    const actions = choice.reason === 'untrusted' ? ['Manage Workspace Trust'] : ['Open Settings'];
    const pick = await vscode.window.showWarningMessage(`Freeze Inspector: ${choice.message}`, ...actions);
    if (pick === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
    else if (pick === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'freezeInspector.python.interpreterPath');
    return undefined;
  }

  const api = await loadAnalysisApi();
  const { buildVerifyRequest } = await import('../core/finetune/plan');
  const cfg = analysis.config.parsed.config;
  const settings = cfg.verify ?? { ...api.defaultVerifySettings(), steps: readSettings().verifySteps };
  const request = buildVerifyRequest({
    requestId: `verify-${Date.now()}`,
    model: analysis.model,
    config: cfg,
    configPath: analysis.config.uri.fsPath,
    analysis: analysis.result,
    settings,
  });
  let engine: VerifyEngine;
  if (choice.kind === 'python') {
    const { PythonEngine } = await import('../core/finetune/python-engine');
    engine = new PythonEngine({ interpreter: choice.interpreter });
  } else {
    const { TfjsWorkerEngine } = await import('../core/finetune/engine');
    engine = new TfjsWorkerEngine();
  }
  log.info(`verify ${entry.key} with ${analysis.config.uri.fsPath}: ${settings.steps} steps (${cfg.verify ? 'from the config' : 'defaults'}), runtime ${request.runtime}, engine ${engine.kind}: ${choice.why}`);
  inspector.showVerifying(entry.key, `Starting ${choice.why}…`);
  let result: VerifyResult;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Freeze Inspector: verifying ${entry.label} (${engine.kind === 'python' ? 'your TensorFlow' : 'TensorFlow.js'})`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        const onEvent = (ev: EngineEvent): void => {
          if (ev.type === 'progress') {
            progress.report({ message: ev.message });
            inspector.showVerifying(entry.key, ev.message);
          } else if (ev.type === 'step') {
            const msg = `step ${ev.step}/${settings.steps}, loss ${ev.loss.toPrecision(4)}`;
            progress.report({ message: msg, increment: 100 / settings.steps });
            inspector.showVerifying(entry.key, msg);
          }
        };
        return engine.run(request, onEvent, ac.signal);
      },
    );
  } catch (e) {
    const msg = errorMessage(e);
    inspector.showVerifying(entry.key, `Verification failed: ${msg}`);
    // The user's interpreter may lack TensorFlow: offer the embedded engine when it can rebuild this model.
    const reason = (e as { reason?: string }).reason;
    if (engine.kind === 'python' && (reason === 'no-python' || reason === 'no-tensorflow' || reason === 'engine-failure') && analysis.model.kerasConfig != null && analysis.result.runtime !== 'tf1-graph') {
      log.error(`verify ${entry.key} (python): ${msg}`);
      const retry = 'Verify with TensorFlow.js';
      if ((await vscode.window.showErrorMessage(`Freeze Inspector: the Python engine failed: ${msg}`, retry)) === retry) return runVerification(deps, entry, 'tfjs');
      return undefined;
    }
    throw e;
  }
  tree.setDisagreements(entry.key, result.variables.filter((v) => !v.agree && v.predicted !== null).map((v) => v.key));
  inspector.setVerification(entry.key, result);
  const msg = `${entry.label}: ${result.variables.filter((v) => v.agree).length} variables agree with the prediction, ${result.disagreements} disagree (${result.steps} steps, ${result.engine}).`;
  log.info(`verify done: ${msg}`);
  void vscode.window.showInformationMessage(`Freeze Inspector: ${msg}`);
  return result;
}
