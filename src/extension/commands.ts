// The palette and tree commands. Each resolves its target from the argument (tree node, Uri) or asks with a
// quick pick of workspace models/configs, then delegates to the services; long work shows cancellable progress.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { AnalysisService, ConfigInfo } from './analysis-service';
import { isConfigUri } from './analysis-service';
import type { DiagnosticsController } from './diagnostics';
import type { InspectorEditorProvider } from './inspector-editor';
import type { Logger } from './log';
import { errorMessage } from './log';
import type { ModelEntry, ModelService } from './model-service';
import type { ModelNode, ModelsTreeProvider } from './tree/models-tree';
import { COMMANDS, VIEWS } from './command-ids';
import { RUNTIME_CHOICES, readSettings, writeRuntime, type RuntimeChoice } from './config';
import { createConfig, freezeLayer, unfreezeLayer } from './freeze-edits';
import { exportReport } from './report';
import { runVerification } from './verify';
import { UNTRUSTED_MESSAGE } from './engine-choice';

export interface CommandDeps {
  readonly models: ModelService;
  readonly analyses: AnalysisService;
  readonly diagnostics: DiagnosticsController;
  readonly tree: ModelsTreeProvider;
  readonly inspector: InspectorEditorProvider;
  readonly log: Logger;
}

export function registerCommands(context: vscode.ExtensionContext, deps: CommandDeps): void {
  const { models, analyses, tree, inspector, log } = deps;
  const reg = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          log.error(`${id}: ${errorMessage(e)}`, true);
          void vscode.window.showErrorMessage(`Freeze Inspector: ${errorMessage(e)}`);
          return undefined;
        }
      }),
    );

  /** The model a command argument points at (tree node, model file/folder, config file), else a quick pick. */
  async function modelFrom(arg: unknown, placeHolder: string): Promise<ModelEntry | undefined> {
    if (isNode(arg)) return models.get(arg.modelKey);
    if (arg instanceof vscode.Uri) {
      if (isConfigUri(arg)) {
        const c = await analyses.config(arg);
        return c ? analyses.modelOf(c) : undefined;
      }
      return models.get(arg.fsPath) ?? models.entryFor(arg);
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && isConfigUri(active)) {
      const c = await analyses.config(active);
      const e = c && analyses.modelOf(c);
      if (e) return e;
    }
    return pickModel(placeHolder);
  }

  async function pickModel(placeHolder: string): Promise<ModelEntry | undefined> {
    const list = await models.list();
    if (!list.length) {
      void vscode.window.showInformationMessage('Freeze Inspector: no model found in this workspace (SavedModel folders, .meta, .h5, .keras).');
      return undefined;
    }
    if (list.length === 1) return list[0];
    const pick = await vscode.window.showQuickPick(
      list.map((e) => ({ label: e.label, description: vscode.workspace.asRelativePath(e.key), entry: e })),
      { placeHolder, matchOnDescription: true },
    );
    return pick?.entry;
  }

  async function configFrom(arg: unknown, placeHolder: string): Promise<ConfigInfo | undefined> {
    if (arg instanceof vscode.Uri && isConfigUri(arg)) return analyses.config(arg);
    const active = vscode.window.activeTextEditor?.document.uri;
    if (!arg && active && isConfigUri(active)) return analyses.config(active);
    if (isNode(arg) || arg instanceof vscode.Uri) {
      const entry = await modelFrom(arg, placeHolder);
      const c = entry && (await analyses.activeConfig(entry));
      if (c) return c;
    }
    const all = await analyses.listConfigs();
    if (!all.length) {
      const create = 'Create Freeze Config';
      const choice = await vscode.window.showInformationMessage('Freeze Inspector: no *.freeze.json in this workspace.', create);
      if (choice === create) await vscode.commands.executeCommand(COMMANDS.createConfig);
      return undefined;
    }
    if (all.length === 1) return all[0];
    const pick = await vscode.window.showQuickPick(
      all.map((c) => ({ label: path.basename(c.uri.fsPath), description: vscode.workspace.asRelativePath(c.uri), detail: c.parsed.config ? `model: ${c.parsed.config.model}` : 'not a valid config', config: c })),
      { placeHolder, matchOnDescription: true },
    );
    return pick?.config;
  }

  reg(COMMANDS.showLog, () => log.show());

  reg(COMMANDS.refresh, () => tree.refreshAll());

  reg(COMMANDS.openModel, async (arg?: vscode.Uri) => {
    let target = arg;
    if (!target) {
      const list = await models.list();
      const browse = { label: '$(folder-opened) Browse…', description: 'a SavedModel folder or a .pb, .meta, .h5 or .keras file', entry: undefined as ModelEntry | undefined };
      const pick = await vscode.window.showQuickPick([...list.map((e) => ({ label: e.label, description: vscode.workspace.asRelativePath(e.key), entry: e as ModelEntry | undefined })), browse], {
        placeHolder: 'Open which model in the inspector?',
        matchOnDescription: true,
      });
      if (!pick) return;
      if (pick.entry) target = pick.entry.fileUri;
      else {
        const chosen = await vscode.window.showOpenDialog({
          canSelectFiles: true,
          canSelectFolders: true,
          canSelectMany: false,
          title: 'Open a model',
          filters: { Models: ['pb', 'pbtxt', 'meta', 'h5', 'keras'] },
        });
        if (!chosen?.[0]) return;
        target = chosen[0];
      }
    }
    const entry = models.entryFor(target) ?? models.entryFor(vscode.Uri.file(path.join(target.fsPath, 'saved_model.pb')));
    if (!entry) throw new Error(`${target.fsPath} is not a SavedModel folder, .meta, .h5 or .keras file`);
    await inspector.reveal(entry.fileUri);
  });

  reg(COMMANDS.showInInspector, async (node?: ModelNode) => {
    const entry = await modelFrom(node, 'Show which model?');
    if (!entry) return;
    const search = node?.kind === 'variable' ? node.variable : node?.kind === 'layer' ? node.layer : undefined;
    await inspector.reveal(entry.fileUri, search !== undefined ? 'variables' : undefined, search);
  });

  reg(COMMANDS.createConfig, async (arg?: unknown) => {
    const entry = await modelFrom(arg, 'Create a freeze config for which model?');
    if (!entry) return;
    const uri = await createConfig(entry);
    analyses.setActiveConfig(entry, uri);
    await vscode.window.showTextDocument(uri, { preview: false });
    log.info(`created ${uri.fsPath}`);
  });

  reg(COMMANDS.pickConfig, async (arg?: unknown) => {
    const entry = await modelFrom(arg, 'Pick the freeze config of which model?');
    if (!entry) return;
    const configs = await analyses.configsFor(entry);
    if (!configs.length) {
      const create = 'Create Freeze Config';
      if ((await vscode.window.showInformationMessage(`No freeze config names ${entry.label}.`, create)) === create) await vscode.commands.executeCommand(COMMANDS.createConfig, entry.fileUri);
      return;
    }
    const current = await analyses.activeConfig(entry);
    const pick = await vscode.window.showQuickPick(
      configs.map((c) => ({ label: path.basename(c.uri.fsPath), description: vscode.workspace.asRelativePath(c.uri), picked: c === current, config: c })),
      { placeHolder: `Active freeze config for ${entry.label}` },
    );
    if (pick) analyses.setActiveConfig(entry, pick.config.uri);
  });

  reg(COMMANDS.analyze, async (arg?: unknown) => {
    const config = await configFrom(arg, 'Analyze which freeze config?');
    if (!config) return;
    const entry = analyses.modelOf(config);
    if (!entry) throw new Error(`${path.basename(config.uri.fsPath)} names a model that cannot be found: ${config.modelPath ?? '(no "model")'}`);
    analyses.setActiveConfig(entry, config.uri);
    const analysis = await withProgress(`Analyzing ${path.basename(config.uri.fsPath)}`, () => analyses.analyze(entry, config.uri));
    await deps.diagnostics.settled();
    if (analysis.error) throw new Error(analysis.error);
    const n = analysis.result?.findings.length ?? 0;
    const show = 'Show Problems';
    const msg = `Freeze Inspector: ${path.basename(config.uri.fsPath)} → ${n} finding${n === 1 ? '' : 's'} (runtime ${analysis.result?.runtime}).`;
    void vscode.window.showInformationMessage(msg, show).then((c) => c === show && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return analysis.result;
  });

  reg(COMMANDS.selectRuntime, async () => {
    const current = readSettings().runtime;
    const labels: Record<RuntimeChoice, string> = {
      auto: 'From the model format and recorded versions',
      'tf1-graph': 'TF1 graph: tf.layers / slim / V1 Keras semantics',
      'tf2-keras': 'tf.keras 2.x (TF 2.0–2.15) / tf_keras',
      keras3: 'Keras 3 (TF 2.16+)',
    };
    const pick = await vscode.window.showQuickPick(
      RUNTIME_CHOICES.map((r) => ({ label: r, description: r === current ? `${labels[r]} (current)` : labels[r], runtime: r })),
      { placeHolder: 'Which framework semantics should the analysis assume? (a config\'s own "runtime" wins)' },
    );
    if (!pick) return;
    await writeRuntime(pick.runtime);
    void vscode.window.showInformationMessage(`Freeze Inspector: runtime set to ${pick.runtime}.`);
  });

  reg(COMMANDS.exportReport, async (arg?: unknown) => {
    const config = await configFrom(arg, 'Export a report for which freeze config?');
    if (!config) return;
    const entry = analyses.modelOf(config);
    if (!entry) throw new Error(`${path.basename(config.uri.fsPath)} names a model that cannot be found`);
    const format = await vscode.window.showQuickPick(
      [
        { label: 'Markdown', ext: 'md' as const },
        { label: 'JSON', ext: 'json' as const },
        { label: 'SARIF', ext: 'sarif' as const },
      ],
      { placeHolder: 'Report format' },
    );
    if (!format) return;
    const analysis = await withProgress('Analyzing for the report', () => analyses.analyze(entry, config.uri));
    const uri = await exportReport(analysis, config, format.ext);
    void vscode.window.showInformationMessage(`Freeze Inspector: report written to ${vscode.workspace.asRelativePath(uri)}.`);
    return uri;
  });

  reg(COMMANDS.verify, async (arg?: unknown) => {
    if (!vscode.workspace.isTrusted) {
      const manage = 'Manage Workspace Trust';
      if ((await vscode.window.showWarningMessage(`Freeze Inspector: ${UNTRUSTED_MESSAGE}`, manage)) === manage) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    const entry = await modelFrom(arg, 'Verify which model?');
    if (!entry) return;
    await runVerification(deps, entry);
  });

  reg(COMMANDS.freezeLayer, async (node?: ModelNode) => {
    if (node?.kind !== 'layer') return;
    const entry = models.get(node.modelKey);
    if (entry) void vscode.window.setStatusBarMessage(await freezeLayer(analyses, entry, node.layer), 5000);
  });

  reg(COMMANDS.unfreezeLayer, async (node?: ModelNode) => {
    if (node?.kind !== 'layer') return;
    const entry = models.get(node.modelKey);
    if (!entry) return;
    const msg = await unfreezeLayer(analyses, entry, node.layer);
    void vscode.window.showInformationMessage(`Freeze Inspector: ${msg}`);
  });

  reg(COMMANDS.copyCheckpointKey, async (node?: ModelNode) => {
    if (node?.kind !== 'variable') return;
    await vscode.env.clipboard.writeText(node.variable);
    vscode.window.setStatusBarMessage(`Copied ${node.variable}`, 3000);
  });

  reg(COMMANDS.revealFinding, async (uri: vscode.Uri, range: vscode.Range) => {
    const editor = await vscode.window.showTextDocument(uri, { preview: false });
    editor.selection = new vscode.Selection(range.start, range.end);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  });

  void VIEWS;
}

function isNode(arg: unknown): arg is ModelNode {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'modelKey' in arg;
}

export function withProgress<T>(title: string, task: (token: vscode.CancellationToken) => Promise<T>): Promise<T> {
  return Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Freeze Inspector: ${title}`, cancellable: true }, async (_p, token) => {
      const result = task(token);
      return new Promise<T>((resolve, reject) => {
        token.onCancellationRequested(() => reject(new Error('cancelled')));
        result.then(resolve, reject);
      });
    }),
  );
}
