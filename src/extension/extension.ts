// Wiring only: create the services, register each feature, return. Nothing here reads a model or runs an
// analysis; the readers and the analysis core load on first use (model-service.ts, core-api.ts).
import * as vscode from 'vscode';
import { createLogger } from './log';
import { ModelService } from './model-service';
import { AnalysisService } from './analysis-service';
import { DiagnosticsController } from './diagnostics';
import { FixActionProvider, CONFIG_SELECTOR } from './code-actions';
import { PatternHoverProvider } from './hovers';
import { ModelsTreeProvider } from './tree/models-tree';
import { FindingsTreeProvider } from './tree/findings-tree';
import { InspectorEditorProvider } from './inspector-editor';
import { registerCommands } from './commands';
import { VIEWS } from './command-ids';
import { registerPythonFeatures } from './python-features';

export interface ExtensionApi {
  /** Milliseconds activate() took (reported by the e2e tests). */
  readonly activationMs: number;
}

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const t0 = performance.now();
  const log = createLogger(context);
  const models = new ModelService(log);
  const analyses = new AnalysisService(models, log);
  const diagnostics = new DiagnosticsController(analyses, log);
  const tree = new ModelsTreeProvider(models, analyses);
  const scriptFindings = registerPythonFeatures(context, models, analyses, log);
  const findings = new FindingsTreeProvider(diagnostics, scriptFindings);
  const inspector = new InspectorEditorProvider(context.extensionUri, models, analyses, diagnostics, log);
  context.subscriptions.push(models, analyses, diagnostics, tree, findings);

  const modelsView = vscode.window.createTreeView(VIEWS.models, { treeDataProvider: tree, showCollapseAll: true });
  const findingsView = vscode.window.createTreeView(VIEWS.findings, { treeDataProvider: findings });
  context.subscriptions.push(
    modelsView,
    findingsView,
    vscode.languages.registerHoverProvider(CONFIG_SELECTOR, new PatternHoverProvider(analyses)),
    vscode.languages.registerCodeActionsProvider(CONFIG_SELECTOR, new FixActionProvider(diagnostics), { providedCodeActionKinds: FixActionProvider.kinds }),
  );
  InspectorEditorProvider.register(context, inspector);
  registerCommands(context, { models, analyses, diagnostics, tree, inspector, log });
  void vscode.commands.executeCommand('setContext', 'freezeInspector.trusted', vscode.workspace.isTrusted);
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      void vscode.commands.executeCommand('setContext', 'freezeInspector.trusted', true);
      inspector.refreshAll();
    }),
  );

  // Diagnostics need the configs scanned and analyzed: start that after activation returns, off its path.
  setTimeout(() => {
    diagnostics.start();
    void updateContextKeys(models, analyses);
  }, 0);
  context.subscriptions.push(
    models.onDidChangeModels(() => void updateContextKeys(models, analyses)),
    analyses.onDidChange(() => void updateContextKeys(models, analyses)),
  );
  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { activationMs };
}

/** Palette `when` clauses: commands that need a model or a config show only when there is one. */
async function updateContextKeys(models: ModelService, analyses: AnalysisService): Promise<void> {
  const [m, c] = await Promise.all([models.list(), analyses.listConfigs()]);
  await vscode.commands.executeCommand('setContext', 'freezeInspector.hasModels', m.length > 0);
  await vscode.commands.executeCommand('setContext', 'freezeInspector.hasConfigs', c.length > 0);
}

export function deactivate(): void {
  // Every disposable is owned by context.subscriptions.
}
