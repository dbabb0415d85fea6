// Freeze configs in the workspace and their analyses. Finds `*.freeze.json` files, links each to its model
// (the config's `model` field), keeps one active config per model, and caches analysis results keyed by the
// config text, the model load and the runtime setting. All analysis logic is the core's (src/core/analysis).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { AnalysisResult, FreezeConfig, ParsedFreezeConfig, RuntimeSetting } from '../core/analysis/types';
import type { Model } from '../core/model/ir';
import type { Logger } from './log';
import { errorMessage } from './log';
import type { ModelEntry, ModelService } from './model-service';
import { readSettings } from './config';
import { loadAnalysisApi } from './core-api';

export const CONFIG_GLOB = '**/*.freeze.json';

export interface ConfigInfo {
  readonly uri: vscode.Uri;
  readonly text: string;
  readonly parsed: ParsedFreezeConfig;
  /** Absolute path of the model the config names, or null when it names none. */
  readonly modelPath: string | null;
}

export interface ModelAnalysis {
  readonly entry: ModelEntry;
  readonly model: Model;
  readonly config: ConfigInfo | null;
  /** null when there is no config (the tree then shows the model's own trainable flags). */
  readonly result: AnalysisResult | null;
  readonly error: string | null;
  readonly ms: number;
}

export class AnalysisService implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly configs = new Map<string, ConfigInfo>();
  private scanned: Promise<void> | undefined;
  private readonly active = new Map<string, string>();
  private readonly cache = new Map<string, { stamp: string; value: Promise<ModelAnalysis> }>();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** A model's analysis may have changed (config edited, model reloaded, runtime switched): its key, or undefined for all. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly models: ModelService,
    private readonly log: Logger,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    this.disposables.push(
      watcher,
      this.changed,
      watcher.onDidCreate((u) => void this.reload(u)),
      watcher.onDidChange((u) => void this.reload(u)),
      watcher.onDidDelete((u) => this.forget(u)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (isConfigUri(e.document.uri) && e.contentChanges.length) void this.reload(e.document.uri, e.document.getText());
      }),
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (isConfigUri(d.uri)) void this.reload(d.uri, d.getText());
      }),
      models.onDidChangeModel((key) => this.changed.fire(key)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('freezeInspector.runtime')) this.changed.fire(undefined);
      }),
    );
  }

  async listConfigs(): Promise<ConfigInfo[]> {
    this.scanned ??= this.scan();
    await this.scanned;
    return [...this.configs.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
  }

  async configsFor(entry: ModelEntry): Promise<ConfigInfo[]> {
    return (await this.listConfigs()).filter((c) => c.modelPath !== null && samePath(c.modelPath, entry));
  }

  async config(uri: vscode.Uri): Promise<ConfigInfo | undefined> {
    await this.listConfigs();
    return this.configs.get(uri.fsPath) ?? (await this.reload(uri));
  }

  /** The config the tree and the inspector use for this model: the one picked, else the first that names it. */
  async activeConfig(entry: ModelEntry): Promise<ConfigInfo | undefined> {
    const all = await this.configsFor(entry);
    const picked = this.active.get(entry.key);
    return all.find((c) => c.uri.fsPath === picked) ?? all[0];
  }

  setActiveConfig(entry: ModelEntry, uri: vscode.Uri): void {
    this.active.set(entry.key, uri.fsPath);
    this.changed.fire(entry.key);
  }

  /** The model entry a config names (registered in the model list if needed). */
  modelOf(config: ConfigInfo): ModelEntry | undefined {
    if (!config.modelPath) return undefined;
    const uri = vscode.Uri.file(config.modelPath);
    return this.models.get(uri.fsPath) ?? this.models.entryFor(uri) ?? this.models.entryFor(vscode.Uri.file(path.join(config.modelPath, 'saved_model.pb')));
  }

  /** Opens the model and analyzes it with its active config (or `configUri`), cached until something changes. */
  async analyze(entry: ModelEntry, configUri?: vscode.Uri): Promise<ModelAnalysis> {
    const handle = await this.models.open(entry);
    const config = configUri ? await this.config(configUri) : await this.activeConfig(entry);
    const runtime = readSettings().runtime;
    const stamp = `${config?.uri.fsPath ?? ''}\0${config?.text ?? ''}\0${runtime}`;
    const cacheKey = `${entry.key}\0${config?.uri.fsPath ?? ''}`;
    const hit = this.cache.get(cacheKey);
    if (hit && hit.stamp === stamp && (await hit.value).model === handle.model) return hit.value;
    const value = this.run(entry, handle.model, config ?? null, runtime);
    this.cache.set(cacheKey, { stamp, value });
    return value;
  }

  private async run(entry: ModelEntry, model: Model, config: ConfigInfo | null, runtime: RuntimeSetting): Promise<ModelAnalysis> {
    const t0 = Date.now();
    if (!config?.parsed.config) return { entry, model, config, result: null, error: config ? 'the config is not a JSON object' : null, ms: 0 };
    try {
      const api = await loadAnalysisApi();
      const effective: FreezeConfig = runtime === 'auto' || config.parsed.config.runtime !== 'auto' ? config.parsed.config : { ...config.parsed.config, runtime };
      const result = api.analyze(model, effective, config.text);
      const ms = Date.now() - t0;
      this.log.info(`analyzed ${path.basename(config.uri.fsPath)} against ${entry.label}: ${result.findings.length} finding(s), runtime ${result.runtime}, ${ms} ms`);
      return { entry, model, config, result, error: null, ms };
    } catch (e) {
      this.log.warn(`analysis of ${config.uri.fsPath} failed: ${errorMessage(e)}`);
      return { entry, model, config, result: null, error: errorMessage(e), ms: Date.now() - t0 };
    }
  }

  private async scan(): Promise<void> {
    const files = await vscode.workspace.findFiles(CONFIG_GLOB, '{**/node_modules/**,**/.git/**}', 2000);
    await Promise.all(files.map((f) => this.reload(f, undefined, false)));
  }

  private async reload(uri: vscode.Uri, text?: string, fire = true): Promise<ConfigInfo | undefined> {
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const content = text ?? open?.getText() ?? new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const api = await loadAnalysisApi();
      const parsed = api.parseFreezeConfig(content, uri.fsPath);
      const modelPath = parsed.config?.model ? api.resolveModelPath(uri.fsPath, parsed.config) : null;
      const prev = this.configs.get(uri.fsPath);
      const info: ConfigInfo = { uri, text: content, parsed, modelPath };
      this.configs.set(uri.fsPath, info);
      if (fire && prev?.text !== content) {
        const entry = this.modelOf(info);
        this.changed.fire(entry?.key);
        if (prev && prev.modelPath !== modelPath) this.changed.fire(undefined);
      }
      return info;
    } catch (e) {
      this.log.warn(`cannot read config ${uri.fsPath}: ${errorMessage(e)}`);
      return undefined;
    }
  }

  private forget(uri: vscode.Uri): void {
    if (this.configs.delete(uri.fsPath)) this.changed.fire(undefined);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export function isConfigUri(uri: vscode.Uri): boolean {
  return uri.path.endsWith('.freeze.json');
}

function samePath(modelPath: string, entry: ModelEntry): boolean {
  const p = path.resolve(modelPath);
  return p === path.resolve(entry.key) || p === path.resolve(entry.fileUri.fsPath);
}
