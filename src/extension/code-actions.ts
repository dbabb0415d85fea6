// Quick fixes on `*.freeze.json`: each finding's structured fixes, turned into text edits by the core and
// applied as a WorkspaceEdit (undoable). The finding's best fix is marked preferred.
import * as vscode from 'vscode';
import type { Fix } from '../core/analysis/types';
import type { DiagnosticsController, PlacedFinding } from './diagnostics';
import { loadAnalysisApi } from './core-api';
import { LineIndex } from './text-positions';

export const CONFIG_SELECTOR: vscode.DocumentSelector = [{ pattern: '**/*.freeze.json' }];

export class FixActionProvider implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly diagnostics: DiagnosticsController) {}

  async provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection): Promise<vscode.CodeAction[]> {
    const hits = this.diagnostics.findingsIn(document.uri).filter((p) => p.range.intersection(range) !== undefined);
    const actions: vscode.CodeAction[] = [];
    for (const placed of hits) {
      for (const fix of placed.finding.fixes) {
        const edit = await fixToWorkspaceEdit(document.uri, document.getText(), fix);
        if (!edit) continue;
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = edit;
        action.diagnostics = [placed.diagnostic];
        action.isPreferred = fix.isPreferred;
        actions.push(action);
      }
    }
    return actions;
  }
}

/** The text edits a structured fix makes to this config text, as a WorkspaceEdit; undefined when it changes nothing. */
export async function fixToWorkspaceEdit(uri: vscode.Uri, text: string, fix: Fix): Promise<vscode.WorkspaceEdit | undefined> {
  const api = await loadAnalysisApi();
  const edits = api.configEditsToTextEdits(text, fix.edits);
  if (!edits.length) return undefined;
  const lines = new LineIndex(text);
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) {
    const a = lines.positionAt(e.offset);
    const b = lines.positionAt(e.offset + e.length);
    we.replace(uri, new vscode.Range(a.line, a.character, b.line, b.character), e.newText);
  }
  return we;
}

/** Applies one fix of a placed finding to its config (used by the inspector's fix buttons and the Findings view). */
export async function applyFix(placed: PlacedFinding, fix: Fix): Promise<boolean> {
  const doc = await vscode.workspace.openTextDocument(placed.config.uri);
  const edit = await fixToWorkspaceEdit(doc.uri, doc.getText(), fix);
  return edit ? vscode.workspace.applyEdit(edit) : false;
}
