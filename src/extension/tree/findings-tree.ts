// The Findings view: every finding of every analyzed config and of every analyzed Python script, grouped by
// file (configs first, then scripts). Clicking one reveals it at the exact position its diagnostic uses.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DiagnosticsController, PlacedFinding } from '../diagnostics';
import type { PlacedScriptFinding, ScriptFindingsSource } from '../python-features';
import { COMMANDS } from '../command-ids';

export type FindingNode =
  | { readonly kind: 'config'; readonly id: string; readonly uri: string }
  | { readonly kind: 'finding'; readonly id: string; readonly uri: string; readonly index: number }
  | { readonly kind: 'script'; readonly id: string; readonly uri: string }
  | { readonly kind: 'script-finding'; readonly id: string; readonly uri: string; readonly index: number };

type Severity = 'error' | 'warning' | 'info';

export class FindingsTreeProvider implements vscode.TreeDataProvider<FindingNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FindingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly diagnostics: DiagnosticsController,
    private readonly scripts?: ScriptFindingsSource,
  ) {
    this.subs = [diagnostics.onDidChange(() => this.changed.fire(undefined))];
    if (scripts) this.subs.push(scripts.onDidChange(() => this.changed.fire(undefined)));
  }

  private scriptFindings(uri: string): PlacedScriptFinding[] {
    return (this.scripts?.all() ?? []).filter((f) => f.uri.toString() === uri);
  }

  getChildren(node?: FindingNode): FindingNode[] {
    if (!node) {
      const configs = [...new Set(this.diagnostics.allFindings().map((p) => p.config.uri.toString()))];
      const scripts = [...new Set((this.scripts?.all() ?? []).map((f) => f.uri.toString()))].sort();
      return [
        ...configs.map((uri): FindingNode => ({ kind: 'config', id: `c:${uri}`, uri })),
        ...scripts.map((uri): FindingNode => ({ kind: 'script', id: `s:${uri}`, uri })),
      ];
    }
    if (node.kind === 'config') return this.diagnostics.findingsIn(vscode.Uri.parse(node.uri)).map((_, index) => ({ kind: 'finding', id: `f:${node.uri}:${index}`, uri: node.uri, index }));
    if (node.kind === 'script') return this.scriptFindings(node.uri).map((_, index) => ({ kind: 'script-finding', id: `sf:${node.uri}:${index}`, uri: node.uri, index }));
    return [];
  }

  getTreeItem(node: FindingNode): vscode.TreeItem {
    if (node.kind === 'config' || node.kind === 'script') {
      const uri = vscode.Uri.parse(node.uri);
      const n = node.kind === 'config' ? this.diagnostics.findingsIn(uri).length : this.scriptFindings(node.uri).length;
      const item = new vscode.TreeItem(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.description = `${n} finding${n === 1 ? '' : 's'}`;
      item.tooltip = vscode.workspace.asRelativePath(uri);
      item.resourceUri = uri;
      item.iconPath = vscode.ThemeIcon.File;
      item.contextValue = node.kind === 'config' ? 'findingsConfig' : 'findingsScript';
      return item;
    }
    if (node.kind === 'script-finding') {
      const f = this.scriptFindings(node.uri)[node.index];
      const item = new vscode.TreeItem(f?.code ?? '', vscode.TreeItemCollapsibleState.None);
      item.id = node.id;
      if (!f) return item;
      item.description = `line ${f.range.start.line + 1}: ${f.message}`;
      item.tooltip = new vscode.MarkdownString().appendMarkdown(`**${f.code}** (${f.severity}), line ${f.range.start.line + 1}\n\n`).appendText(f.message);
      item.iconPath = severityIcon(f.severity);
      item.command = { command: COMMANDS.revealFinding, title: 'Show in script', arguments: [f.uri, f.range] };
      item.contextValue = 'scriptFinding';
      return item;
    }
    const placed: PlacedFinding | undefined = this.diagnostics.findingsIn(vscode.Uri.parse(node.uri))[node.index];
    const item = new vscode.TreeItem(placed?.finding.code ?? '', vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    if (!placed) return item;
    const f = placed.finding;
    item.description = f.message;
    item.tooltip = new vscode.MarkdownString(`**${f.code}** (${f.severity})\n\n${f.message}${f.fixes.length ? `\n\nFixes: ${f.fixes.map((x) => (x.isPreferred ? `**${x.title}**` : x.title)).join(' · ')}` : ''}`);
    item.iconPath = severityIcon(f.severity);
    item.command = { command: COMMANDS.revealFinding, title: 'Show in config', arguments: [placed.config.uri, placed.range] };
    item.contextValue = 'finding';
    return item;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

function severityIcon(s: Severity): vscode.ThemeIcon {
  return new vscode.ThemeIcon(s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'info', new vscode.ThemeColor(s === 'error' ? 'errorForeground' : s === 'warning' ? 'editorWarning.foreground' : 'editorInfo.foreground'));
}
