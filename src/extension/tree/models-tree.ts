// The Models view: every model in the workspace; under each, its layers as a tree (nested models nested)
// and their variables. Elements are plain keyed data; getTreeItem maps them to what VS Code shows.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Layer, Model, Variable } from '../../core/model/ir';
import type { ModelEntry, ModelService } from '../model-service';
import type { AnalysisService, ModelAnalysis } from '../analysis-service';
import { errorMessage } from '../log';
import { VIEWS } from '../command-ids';
import { BN_STATE_LABEL, VAR_STATE_LABEL, computeStates, formatCount, formatShape, type BnState, type ModelStates, type VarState } from './model-states';

/** Models loaded as soon as the view lists them (the rest load when expanded). */
const PRELOAD = 20;

export type ModelNode =
  | { readonly kind: 'model'; readonly id: string; readonly modelKey: string }
  | { readonly kind: 'layer'; readonly id: string; readonly modelKey: string; readonly layer: string }
  | { readonly kind: 'variable'; readonly id: string; readonly modelKey: string; readonly variable: string }
  | { readonly kind: 'message'; readonly id: string; readonly modelKey: string; readonly text: string; readonly error: boolean };

interface Snapshot {
  readonly analysis: ModelAnalysis;
  readonly states: ModelStates;
  readonly layers: ReadonlyMap<string, Layer>;
  readonly variables: ReadonlyMap<string, Variable>;
  readonly childLayers: ReadonlyMap<string, string[]>;
  readonly layerVariables: ReadonlyMap<string, string[]>;
}

export class ModelsTreeProvider implements vscode.TreeDataProvider<ModelNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ModelNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly failures = new Map<string, string>();
  /** Bumped when a model's analysis is invalidated, so an analysis started before cannot install a stale snapshot. */
  private readonly generation = new Map<string, number>();
  private epoch = 0;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  /** Variable keys the last verification of each model disagreed on. */
  private readonly disagreements = new Map<string, Set<string>>();

  constructor(
    private readonly models: ModelService,
    private readonly analyses: AnalysisService,
  ) {
    this.disposables.push(
      models.onDidChangeModels(() => this.changed.fire(undefined)),
      analyses.onDidChange((key) => {
        // Drop the stale snapshots and rebuild them in the background, so collapsed rows stay current too.
        const stale = key === undefined ? [...this.snapshots.keys()] : this.snapshots.has(key) ? [key] : [];
        for (const k of stale) this.snapshots.delete(k);
        if (key === undefined) this.epoch++;
        else this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
        this.changed.fire(key === undefined ? undefined : this.modelNode(key));
        for (const k of stale) void this.load(k);
      }),
    );
  }

  setDisagreements(modelKey: string, keys: Iterable<string>): void {
    this.disagreements.set(modelKey, new Set(keys));
    this.snapshots.delete(modelKey);
    this.changed.fire(this.modelNode(modelKey));
  }

  refreshAll(): void {
    this.snapshots.clear();
    this.failures.clear();
    this.changed.fire(undefined);
  }

  /**
   * VS Code finds a tree element by object identity when refreshing it, so each element is created once per id
   * and reused (a fresh object with the same id would be ignored by onDidChangeTreeData).
   */
  private readonly interned = new Map<string, ModelNode>();
  private intern<T extends ModelNode>(node: T): T {
    const known = this.interned.get(node.id);
    if (known && known.kind === node.kind) return known as T;
    this.interned.set(node.id, node);
    return node;
  }

  modelNode(modelKey: string): ModelNode {
    return this.intern({ kind: 'model', id: `m:${modelKey}`, modelKey });
  }

  /** The loaded snapshot of a model (for commands acting on a node). */
  snapshot(modelKey: string): Snapshot | undefined {
    return this.snapshots.get(modelKey);
  }

  async getChildren(node?: ModelNode): Promise<ModelNode[]> {
    if (!node) {
      const list = await this.models.list();
      // Load the first models in the background, so their rows show format, config and findings unexpanded.
      for (const e of list.slice(0, PRELOAD)) if (!this.snapshots.has(e.key) && !this.failures.has(e.key)) void this.load(e.key);
      return list.map((e) => this.modelNode(e.key));
    }
    if (node.kind === 'model') {
      const snap = await this.load(node.modelKey);
      if (!snap) return [{ kind: 'message', id: `e:${node.modelKey}:${Date.now()}`, modelKey: node.modelKey, text: this.failures.get(node.modelKey) ?? 'could not be opened', error: true }];
      return this.childrenOf(snap, node.modelKey, '');
    }
    if (node.kind === 'layer') {
      const snap = this.snapshots.get(node.modelKey) ?? (await this.load(node.modelKey));
      return snap ? this.childrenOf(snap, node.modelKey, node.layer) : [];
    }
    return [];
  }

  getParent(node: ModelNode): ModelNode | undefined {
    if (node.kind === 'model') return undefined;
    const snap = this.snapshots.get(node.modelKey);
    const layerPath = node.kind === 'layer' ? parentPath(snap, node.layer) : node.kind === 'variable' ? (snap?.variables.get(node.variable)?.layer ?? '') : '';
    return layerPath ? this.intern({ kind: 'layer', id: `l:${node.modelKey}:${layerPath}`, modelKey: node.modelKey, layer: layerPath }) : this.modelNode(node.modelKey);
  }

  getTreeItem(node: ModelNode): vscode.TreeItem {
    switch (node.kind) {
      case 'model':
        return this.modelItem(node);
      case 'layer':
        return this.layerItem(node);
      case 'variable':
        return this.variableItem(node);
      case 'message': {
        const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon(node.error ? 'error' : 'info', new vscode.ThemeColor(node.error ? 'errorForeground' : 'foreground'));
        item.tooltip = node.text;
        return item;
      }
    }
  }

  private modelItem(node: Extract<ModelNode, { kind: 'model' }>): vscode.TreeItem {
    const entry = this.models.get(node.modelKey);
    const snap = this.snapshots.get(node.modelKey);
    const item = new vscode.TreeItem(entry?.label ?? path.basename(node.modelKey), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.id;
    item.contextValue = 'model';
    item.iconPath = new vscode.ThemeIcon('package');
    const rel = vscode.workspace.asRelativePath(node.modelKey);
    const cfg = snap?.analysis.config ? path.basename(snap.analysis.config.uri.fsPath) : null;
    if (snap) {
      const drifting = [...snap.states.batchNorms.values()].filter((b) => b.state === 'bn-drifting').length;
      const findings = snap.analysis.result?.findings.length ?? 0;
      item.description = [snap.analysis.model.format, cfg ?? 'no config', findings ? `${findings} finding${findings > 1 ? 's' : ''}` : null, drifting ? `${drifting} BN drifting` : null].filter(Boolean).join(' · ');
    } else {
      const failed = this.failures.get(node.modelKey);
      item.description = failed ? 'cannot open' : rel;
    }
    item.tooltip = new vscode.MarkdownString(`**${entry?.label ?? rel}**\n\n${rel}\n\n${cfg ? `Freeze config: \`${cfg}\`` : 'No freeze config: showing the trainable flags saved in the model.'}${snap?.analysis.result ? `\n\nRuntime: ${snap.analysis.result.runtime} (${snap.analysis.result.runtimeWhy})` : ''}${snap?.analysis.error ? `\n\nAnalysis failed: ${snap.analysis.error}` : ''}`);
    item.resourceUri = entry?.fileUri;
    return item;
  }

  private layerItem(node: Extract<ModelNode, { kind: 'layer' }>): vscode.TreeItem {
    const snap = this.snapshots.get(node.modelKey);
    const layer = snap?.layers.get(node.layer);
    const name = layer?.name ?? node.layer.split('/').pop() ?? node.layer;
    const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = node.id;
    const bn = snap?.states.batchNorms.get(node.layer);
    const vars = snap ? allVariablesUnder(snap, node.layer) : [];
    const params = vars.reduce((n, k) => n + (snap?.variables.get(k)?.size ?? 0), 0);
    const trainable = vars.filter((k) => snap?.states.variables.get(k)?.state === 'trainable').length;
    const frozen = vars.length > 0 && trainable === 0;
    const parts = [layer?.className ?? (bn ? 'BatchNorm' : 'scope'), `${formatCount(params)} params`];
    if (bn) parts.push(BN_STATE_LABEL[bn.state]);
    else if (vars.length) parts.push(frozen ? 'frozen' : trainable === vars.length ? 'trainable' : `${trainable}/${vars.length} trainable`);
    item.description = parts.join(' · ');
    item.iconPath = bn ? bnIcon(bn.state) : layer?.isModel ? new vscode.ThemeIcon('symbol-namespace') : frozen ? varIcon('frozen') : varIcon('trainable');
    item.contextValue = `layer${frozen ? '.frozen' : '.trainable'}${bn ? '.bn' : ''}`;
    const md = new vscode.MarkdownString(`**${node.layer}**${layer ? ` (${layer.className})` : ''}\n\n${formatCount(params)} parameters in ${vars.length} variable(s), ${trainable} trained.`);
    if (bn) md.appendMarkdown(`\n\n**${BN_STATE_LABEL[bn.state]}**: ${bn.why}`);
    if (layer?.callTraining !== null && layer?.callTraining !== undefined) md.appendMarkdown(`\n\nCalled with \`training=${layer.callTraining ? 'True' : 'False'}\` in the saved graph.`);
    item.tooltip = md;
    return item;
  }

  private variableItem(node: Extract<ModelNode, { kind: 'variable' }>): vscode.TreeItem {
    const snap = this.snapshots.get(node.modelKey);
    const v = snap?.variables.get(node.variable);
    const label = v ? (v.layer && v.name.startsWith(v.layer + '/') ? v.name.slice(v.layer.length + 1) : v.name.split('/').pop() ?? v.name) : node.variable;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    const st = snap?.states.variables.get(node.variable);
    item.description = v ? `${formatShape(v.shape)} · ${v.size === null ? '?' : formatCount(v.size)} · ${st ? VAR_STATE_LABEL[st.state] : ''}` : '';
    item.iconPath = varIcon(st?.state ?? 'frozen');
    item.contextValue = 'variable';
    item.tooltip = new vscode.MarkdownString(
      `\`${node.variable}\`\n\n${v ? `${v.dtype} ${formatShape(v.shape)}, ${v.size === null ? 'unknown size' : `${formatCount(v.size)} parameters`}, role ${v.role}${v.optimizerSlot ? ' (optimizer slot)' : ''}` : ''}\n\n**${st ? VAR_STATE_LABEL[st.state] : ''}**${st ? `: ${st.why}` : ''}`,
    );
    return item;
  }

  private childrenOf(snap: Snapshot, modelKey: string, layer: string): ModelNode[] {
    const layers = (snap.childLayers.get(layer) ?? []).map<ModelNode>((l) => this.intern({ kind: 'layer', id: `l:${modelKey}:${l}`, modelKey, layer: l }));
    const vars = (snap.layerVariables.get(layer) ?? []).map<ModelNode>((v) => this.intern({ kind: 'variable', id: `v:${modelKey}:${v}`, modelKey, variable: v }));
    if (!layer && !layers.length && !vars.length) return [this.intern({ kind: 'message', id: `n:${modelKey}`, modelKey, text: 'no variables', error: false })];
    return [...layers, ...vars];
  }

  private async load(modelKey: string): Promise<Snapshot | undefined> {
    const cached = this.snapshots.get(modelKey);
    if (cached) return cached;
    const entry = this.models.get(modelKey);
    if (!entry) return undefined;
    const stamp = () => `${this.epoch}:${this.generation.get(modelKey) ?? 0}`;
    const gen = stamp();
    try {
      // Reading a large model takes a moment: show the view's progress bar meanwhile.
      const analysis = await vscode.window.withProgress({ location: { viewId: VIEWS.models } }, () => this.analyses.analyze(entry));
      // The config changed while this analysis ran: its result is stale, analyze again.
      if (stamp() !== gen) return this.load(modelKey);
      const snap = buildSnapshot(analysis, this.disagreements.get(modelKey));
      this.snapshots.set(modelKey, snap);
      this.failures.delete(modelKey);
      // The model row's description depends on the snapshot: refresh it once loaded.
      setTimeout(() => this.changed.fire(this.modelNode(modelKey)), 0);
      return snap;
    } catch (e) {
      this.failures.set(modelKey, errorMessage(e));
      return undefined;
    }
  }

  /** Loads every model now (the tree's descriptions then show findings without expanding). */
  async preload(entry: ModelEntry): Promise<void> {
    await this.load(entry.key);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function buildSnapshot(analysis: ModelAnalysis, disagreements?: Set<string>): Snapshot {
  const model: Model = analysis.model;
  const layers = new Map<string, Layer>();
  for (const l of model.layers) if (l.path !== '') layers.set(l.path, l);
  const variables = new Map<string, Variable>();
  for (const v of model.variables) variables.set(v.key, v);
  const childLayers = new Map<string, string[]>();
  const layerVariables = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, k: string, v: string) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  // TF1 graphs have scopes, not layers: a variable's scope that is not a layer becomes a node, with its
  // parents, so the tree still nests ('A' > 'A/batch_normalization' > gamma).
  const ensure = (p: string) => {
    if (!p || layers.has(p) || childLayers.has(`\0${p}`)) return;
    childLayers.set(`\0${p}`, []);
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    ensure(parent);
    push(childLayers, parent, p);
  };
  for (const l of layers.values()) {
    const parent = l.parent ?? '';
    if (parent && !layers.has(parent)) ensure(parent);
    push(childLayers, parent, l.path);
  }
  for (const v of model.variables) {
    if (v.optimizerSlot) continue;
    const owner = v.layer ?? '';
    if (owner && !layers.has(owner)) ensure(owner);
    push(layerVariables, owner, v.key);
  }
  for (const k of [...childLayers.keys()]) if (k.startsWith('\0')) childLayers.delete(k);
  return { analysis, states: computeStates(model, analysis.result, disagreements), layers, variables, childLayers, layerVariables };
}

function allVariablesUnder(snap: Snapshot, layer: string): string[] {
  const out = [...(snap.layerVariables.get(layer) ?? [])];
  for (const c of snap.childLayers.get(layer) ?? []) out.push(...allVariablesUnder(snap, c));
  return out;
}

function parentPath(snap: Snapshot | undefined, layer: string): string {
  const l = snap?.layers.get(layer);
  if (l) return l.parent ?? '';
  return layer.includes('/') ? layer.slice(0, layer.lastIndexOf('/')) : '';
}

const VAR_ICONS: Record<VarState, [string, string]> = {
  trainable: ['circle-filled', 'charts.green'],
  frozen: ['lock', 'disabledForeground'],
  'bn-updating': ['pulse', 'charts.blue'],
  'bn-drifting': ['warning', 'editorWarning.foreground'],
  disagreement: ['error', 'errorForeground'],
};

const BN_ICONS: Record<BnState, [string, string]> = {
  'bn-updating': ['pulse', 'charts.blue'],
  'bn-frozen': ['lock', 'disabledForeground'],
  'bn-drifting': ['warning', 'editorWarning.foreground'],
  'bn-inference': ['debug-pause', 'charts.yellow'],
};

function varIcon(s: VarState): vscode.ThemeIcon {
  const [id, color] = VAR_ICONS[s];
  return new vscode.ThemeIcon(id, new vscode.ThemeColor(color));
}

function bnIcon(s: BnState): vscode.ThemeIcon {
  const [id, color] = BN_ICONS[s];
  return new vscode.ThemeIcon(id, new vscode.ThemeColor(color));
}
