// Freeze / Unfreeze a layer from the tree: edits the model's active freeze config with a WorkspaceEdit
// (undoable), creating the config next to the model when there is none. Nothing is written into the model's
// own folder: a SavedModel's config goes beside the folder.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ConfigEdit, PatternSyntax } from '../core/analysis/types';
import type { AnalysisService, ConfigInfo } from './analysis-service';
import type { ModelEntry } from './model-service';
import { loadAnalysisApi } from './core-api';
import { fixToWorkspaceEdit } from './code-actions';

/** Where a new config for this model goes: beside the model (never inside a SavedModel folder). */
export async function newConfigUri(entry: ModelEntry): Promise<vscode.Uri> {
  const dir = path.dirname(entry.key);
  // A SavedModel's label starts with its first non-generic folder ('seed-tf1/model/saved_model'): name the config after it.
  const stem = (entry.kind === 'saved-model' ? entry.label.split('/')[0]! : path.basename(entry.key)).replace(/\.(h5|keras|meta)$/, '');
  for (let i = 0; ; i++) {
    const uri = vscode.Uri.file(path.join(dir, `${stem}${i ? `-${i + 1}` : ''}.freeze.json`));
    try {
      await vscode.workspace.fs.stat(uri);
    } catch {
      return uri;
    }
  }
}

export function initialConfigText(configUri: vscode.Uri, entry: ModelEntry, freeze: readonly string[] = []): string {
  let rel = path.relative(path.dirname(configUri.fsPath), entry.key).split(path.sep).join('/');
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return `${JSON.stringify({ model: rel, freeze }, null, 2)}\n`;
}

/** Creates a config for the model (as one undoable edit) and opens it. */
export async function createConfig(entry: ModelEntry, freeze: readonly string[] = []): Promise<vscode.Uri> {
  const uri = await newConfigUri(entry);
  const we = new vscode.WorkspaceEdit();
  we.createFile(uri, { ignoreIfExists: false, contents: new TextEncoder().encode(initialConfigText(uri, entry, freeze)) });
  if (!(await vscode.workspace.applyEdit(we))) throw new Error(`could not create ${uri.fsPath}`);
  return uri;
}

/** TF1 patterns select variable names (so a scope pattern); Keras patterns select layer paths exactly. */
function layerPattern(layer: string, syntax: PatternSyntax, isTf1: boolean, api: Awaited<ReturnType<typeof loadAnalysisApi>>): string {
  return api.patternFor(layer, syntax, isTf1);
}

export async function freezeLayer(analyses: AnalysisService, entry: ModelEntry, layer: string): Promise<string> {
  const api = await loadAnalysisApi();
  const model = (await analyses.analyze(entry)).model;
  const isTf1 = model.tf1Graph !== null;
  const config = await analyses.activeConfig(entry);
  if (!config?.parsed.config) {
    const uri = await createConfig(entry, [layerPattern(layer, 'regex', isTf1, api)]);
    await vscode.window.showTextDocument(uri, { preview: false });
    return `Created ${path.basename(uri.fsPath)} freezing ${layer}.`;
  }
  const pattern = layerPattern(layer, config.parsed.config.patternSyntax, isTf1, api);
  if (config.parsed.config.freeze.includes(pattern)) return `${layer} is already frozen by "${pattern}".`;
  const edits: ConfigEdit[] = [{ kind: 'insert', path: ['freeze', config.parsed.config.freeze.length], value: pattern }];
  await applyConfigEdits(config, edits);
  return `Froze ${layer} ("${pattern}" added to ${path.basename(config.uri.fsPath)}).`;
}

/** Removes the freeze patterns that select this layer (and says which, since a broad pattern frees more). */
export async function unfreezeLayer(analyses: AnalysisService, entry: ModelEntry, layer: string): Promise<string> {
  const api = await loadAnalysisApi();
  const config = await analyses.activeConfig(entry);
  if (!config?.parsed.config) return `${layer} is frozen in the model itself (no freeze config): create a config to change what trains.`;
  const analysis = await analyses.analyze(entry);
  const model = analysis.model;
  const runtime = analysis.result?.runtime ?? (model.tf1Graph ? 'tf1-graph' : 'tf2-keras');
  const cfg = config.parsed.config;
  const layerVars = new Set(model.variables.filter((v) => v.layer === layer || v.layer?.startsWith(layer + '/')).map((v) => v.key));
  const hits: number[] = [];
  cfg.freeze.forEach((p, i) => {
    const m = api.matchPattern(model, p, cfg.patternSyntax, runtime);
    if (m.layers.includes(layer) || m.variables.some((k: string) => layerVars.has(k))) hits.push(i);
  });
  if (!hits.length) return `No freeze pattern in ${path.basename(config.uri.fsPath)} selects ${layer}; it is frozen by the model's own flags.`;
  // Remove from the end so earlier indices stay valid.
  const edits: ConfigEdit[] = hits.reverse().map((i) => ({ kind: 'remove', path: ['freeze', i] }));
  await applyConfigEdits(config, edits);
  return `Unfroze ${layer}: removed ${hits.map((i) => `"${cfg.freeze[i]}"`).join(', ')} from ${path.basename(config.uri.fsPath)}.`;
}

async function applyConfigEdits(config: ConfigInfo, edits: readonly ConfigEdit[]): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(config.uri);
  const we = await fixToWorkspaceEdit(doc.uri, doc.getText(), { title: '', isPreferred: false, edits });
  if (!we || !(await vscode.workspace.applyEdit(we))) throw new Error(`could not edit ${config.uri.fsPath}`);
  // Save, so the tree (which reads the config on disk and open documents) and the CLI agree.
  await doc.save();
}
