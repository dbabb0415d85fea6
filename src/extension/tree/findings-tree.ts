// The Findings view: every finding of every analyzed config, grouped by config. Clicking one reveals it in
// the config at the exact JSON position the diagnostic uses.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DiagnosticsController, PlacedFinding } from '../diagnostics';
import { COMMANDS } from '../command-ids';

export type FindingNode =
  | { readonly kind: 'config'; readonly id: string; readonly uri: string }
  | { readonly kind: 'finding'; readonly id: string; readonly uri: string; readonly index: number };

export class FindingsTreeProvider implements vscode.TreeDataProvider<FindingNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FindingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly diagnostics: DiagnosticsController) {
    this.sub = diagnostics.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(node?: FindingNode): FindingNode[] {
    const all = this.diagnostics.allFindings();
    if (!node) {
      const uris = [...new Set(all.map((p) => p.config.uri.toString()))];
      return uris.map((uri) => ({ kind: 'config', id: `c:${uri}`, uri }));
    }
    if (node.kind === 'config') return this.diagnostics.findingsIn(vscode.Uri.parse(node.uri)).map((_, index) => ({ kind: 'finding', id: `f:${node.uri}:${index}`, uri: node.uri, index }));
    return [];
  }

  getTreeItem(node: FindingNode): vscode.TreeItem {
    if (node.kind === 'config') {
      const uri = vscode.Uri.parse(node.uri);
      const n = this.diagnostics.findingsIn(uri).length;
      const item = new vscode.TreeItem(path.basename(uri.fsPath), vscode.TreeItemCollapsibleState.Expanded);
      item.id = node.id;
      item.description = `${n} finding${n === 1 ? '' : 's'}`;
      item.resourceUri = uri;
      item.iconPath = vscode.ThemeIcon.File;
      return item;
    }
    const placed: PlacedFinding | undefined = this.diagnostics.findingsIn(vscode.Uri.parse(node.uri))[node.index];
    const item = new vscode.TreeItem(placed?.finding.code ?? '', vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    if (!placed) return item;
    const f = placed.finding;
    item.description = f.message;
    item.tooltip = new vscode.MarkdownString(`**${f.code}** (${f.severity})\n\n${f.message}${f.fixes.length ? `\n\nFixes: ${f.fixes.map((x) => (x.isPreferred ? `**${x.title}**` : x.title)).join(' · ')}` : ''}`);
    item.iconPath = new vscode.ThemeIcon(f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info', new vscode.ThemeColor(f.severity === 'error' ? 'errorForeground' : f.severity === 'warning' ? 'editorWarning.foreground' : 'editorInfo.foreground'));
    item.command = { command: COMMANDS.revealFinding, title: 'Show in config', arguments: [placed.config.uri, placed.range] };
    item.contextValue = 'finding';
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
