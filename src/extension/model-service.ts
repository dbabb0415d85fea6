// Finds the models in the workspace, keeps the list current with a file watcher, and opens them on demand
// (lazily: the readers load on first use). Opened models are cached until their files change.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ModelHandle } from '../core/model/ir';
import type { Logger } from './log';
import { errorMessage } from './log';
import { readSettings } from './config';

/** What the search glob matches; SavedModels are listed once, by their folder. */
export const MODEL_GLOB = '**/{saved_model.pb,saved_model.pbtxt,*.meta,*.h5,*.keras}';

export type ModelKind = 'saved-model' | 'tf1-meta' | 'keras-h5' | 'keras-v3';

export interface ModelEntry {
  /** Stable key: the fsPath of what is opened (SavedModel folder, or the file). */
  readonly key: string;
  /** The folder (SavedModel) or file handed to openModel. */
  readonly uri: vscode.Uri;
  /** The file a user clicks to see the inspector (saved_model.pb, the .meta/.h5/.keras file). */
  readonly fileUri: vscode.Uri;
  readonly kind: ModelKind;
  readonly label: string;
}

export type LoadState =
  | { readonly state: 'loading' }
  | { readonly state: 'loaded'; readonly handle: ModelHandle; readonly ms: number }
  | { readonly state: 'failed'; readonly error: string };

/** Maps a matched file to the model it belongs to, or undefined when it is not a model. */
export function entryForFile(file: vscode.Uri): ModelEntry | undefined {
  const base = path.basename(file.fsPath);
  if (base === 'saved_model.pb' || base === 'saved_model.pbtxt') {
    const dir = vscode.Uri.file(path.dirname(file.fsPath));
    return { key: dir.fsPath, uri: dir, fileUri: file, kind: 'saved-model', label: savedModelLabel(dir.fsPath) };
  }
  const kind: ModelKind | undefined = base.endsWith('.meta') ? 'tf1-meta' : base.endsWith('.h5') ? 'keras-h5' : base.endsWith('.keras') ? 'keras-v3' : undefined;
  if (!kind) return undefined;
  return { key: file.fsPath, uri: file, fileUri: file, kind, label: base };
}

/** A SavedModel folder is often called 'saved_model' or a version number: name it with its parent then. */
export function savedModelLabel(dir: string): string {
  const parts = dir.split(path.sep).filter(Boolean);
  const generic = (p: string | undefined) => p !== undefined && /^(saved_?model|export|model|models|\d+)$/i.test(p);
  let n = 1;
  while (n < 3 && n < parts.length && generic(parts[parts.length - n])) n++;
  return parts.slice(-n).join('/');
}

export class ModelService implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private entries = new Map<string, ModelEntry>();
  private readonly loads = new Map<string, Promise<ModelHandle>>();
  private readonly states = new Map<string, LoadState>();
  private scanned: Promise<void> | undefined;
  private readonly changedModels = new vscode.EventEmitter<void>();
  private readonly changedModel = new vscode.EventEmitter<string>();
  /** The list of models changed (added/removed). */
  readonly onDidChangeModels = this.changedModels.event;
  /** One model's files changed on disk, or it finished loading: its key. */
  readonly onDidChangeModel = this.changedModel.event;

  constructor(private readonly log: Logger) {
    const watcher = vscode.workspace.createFileSystemWatcher(MODEL_GLOB);
    // Variables and shards change the model too (a SavedModel re-saved in place).
    const varWatcher = vscode.workspace.createFileSystemWatcher('**/variables/variables.{index,data-*}');
    this.disposables.push(
      watcher,
      varWatcher,
      this.changedModels,
      this.changedModel,
      watcher.onDidCreate((u) => this.onCreated(u)),
      watcher.onDidDelete((u) => this.onDeleted(u)),
      watcher.onDidChange((u) => this.invalidateFile(u)),
      varWatcher.onDidChange((u) => this.invalidateFile(vscode.Uri.file(path.join(path.dirname(path.dirname(u.fsPath)), 'saved_model.pb')))),
    );
  }

  /** All models in the workspace (the first call searches; later calls return the watched list). */
  async list(): Promise<ModelEntry[]> {
    this.scanned ??= this.scan();
    await this.scanned;
    return [...this.entries.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  get(key: string): ModelEntry | undefined {
    return this.entries.get(key);
  }

  /** The model a file (saved_model.pb, .meta, ...) or folder belongs to; registers it if it is outside the list. */
  entryFor(uri: vscode.Uri): ModelEntry | undefined {
    const known = this.entries.get(uri.fsPath);
    if (known) return known;
    const entry = entryForFile(uri);
    if (entry && !this.entries.has(entry.key)) {
      this.entries.set(entry.key, entry);
      this.changedModels.fire();
    }
    return entry ? this.entries.get(entry.key) : undefined;
  }

  state(key: string): LoadState | undefined {
    return this.states.get(key);
  }

  /** Opens the model (structure only), cached until its files change. Rejects with the reader's message. */
  open(entry: ModelEntry): Promise<ModelHandle> {
    let p = this.loads.get(entry.key);
    if (!p) {
      const t0 = Date.now();
      this.states.set(entry.key, { state: 'loading' });
      p = import('../core/open').then((m) => m.openModel(entry.uri.fsPath));
      this.loads.set(entry.key, p);
      p.then(
        (handle) => {
          if (this.loads.get(entry.key) !== p) return;
          const ms = Date.now() - t0;
          this.states.set(entry.key, { state: 'loaded', handle, ms });
          this.log.info(`opened ${entry.key} (${handle.model.format}, ${handle.model.variables.length} variables) in ${ms} ms`);
          this.changedModel.fire(entry.key);
        },
        (e: unknown) => {
          if (this.loads.get(entry.key) !== p) return;
          this.states.set(entry.key, { state: 'failed', error: errorMessage(e) });
          this.log.warn(`cannot open ${entry.key}: ${errorMessage(e)}`);
          this.changedModel.fire(entry.key);
        },
      );
    }
    return p;
  }

  private async scan(): Promise<void> {
    const settings = readSettings();
    const exclude = settings.modelSearchExclude.length ? `{${settings.modelSearchExclude.join(',')}}` : undefined;
    const t0 = Date.now();
    const files = await vscode.workspace.findFiles(MODEL_GLOB, exclude, settings.maxModels * 4);
    for (const f of files) {
      const e = entryForFile(f);
      if (e && !this.entries.has(e.key) && this.entries.size < settings.maxModels) this.entries.set(e.key, e);
    }
    this.log.info(`found ${this.entries.size} model(s) in ${Date.now() - t0} ms`);
  }

  private onCreated(uri: vscode.Uri): void {
    const e = entryForFile(uri);
    if (!e || this.isExcluded(uri)) return;
    if (this.entries.has(e.key)) {
      this.invalidate(e.key);
      return;
    }
    this.entries.set(e.key, e);
    this.log.info(`model appeared: ${e.key}`);
    this.changedModels.fire();
  }

  private onDeleted(uri: vscode.Uri): void {
    // A deleted folder reports only the folder: drop every model under it.
    let removed = false;
    for (const key of [...this.entries.keys()]) {
      const entry = this.entries.get(key)!;
      if (entry.fileUri.fsPath === uri.fsPath || key === uri.fsPath || key.startsWith(uri.fsPath + path.sep)) {
        this.entries.delete(key);
        this.loads.delete(key);
        this.states.delete(key);
        removed = true;
      }
    }
    if (removed) this.changedModels.fire();
  }

  private invalidateFile(uri: vscode.Uri): void {
    const e = entryForFile(uri);
    if (e && this.entries.has(e.key)) this.invalidate(e.key);
  }

  private invalidate(key: string): void {
    const had = this.loads.delete(key);
    this.states.delete(key);
    if (had) {
      this.log.info(`model changed on disk: ${key}`);
      this.changedModel.fire(key);
    }
  }

  private isExcluded(uri: vscode.Uri): boolean {
    return uri.fsPath.split(path.sep).some((p) => p === 'node_modules' || p === '.git');
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
