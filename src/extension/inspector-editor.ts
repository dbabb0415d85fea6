// The model inspector: a custom read-only editor for saved_model.pb(txt), .keras, .h5 and .meta, so opening
// a model file shows its structure instead of binary noise. The webview (webview/main.ts) renders; this side
// loads the model, runs the analysis through the services, and answers the webview's messages.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { FromWebview, InspectorTab, ToWebview, VerifyResult } from '../shared/protocol';
import type { AnalysisService } from './analysis-service';
import type { DiagnosticsController } from './diagnostics';
import type { Logger } from './log';
import { errorMessage } from './log';
import type { ModelService } from './model-service';
import { buildInspectorData, findingId } from './inspector-data';
import { readSettings } from './config';
import { applyFix } from './code-actions';
import { COMMANDS } from './command-ids';
import { UNTRUSTED_MESSAGE } from './engine-choice';

export const INSPECTOR_VIEW_TYPE = 'freezeInspector.inspector';

interface Panel {
  readonly modelKey: string;
  readonly panel: vscode.WebviewPanel;
  post(message: ToWebview): void;
}

export class InspectorEditorProvider implements vscode.CustomReadonlyEditorProvider {
  private readonly panels = new Set<Panel>();
  private readonly verifications = new Map<string, VerifyResult>();
  private readonly ready = new WeakSet<Panel>();
  private readonly pendingReveal = new Map<string, ToWebview>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly models: ModelService,
    private readonly analyses: AnalysisService,
    private readonly diagnostics: DiagnosticsController,
    private readonly log: Logger,
  ) {}

  static register(context: vscode.ExtensionContext, provider: InspectorEditorProvider): void {
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(INSPECTOR_VIEW_TYPE, provider, {
        supportsMultipleEditorsPerDocument: true,
        webviewOptions: { retainContextWhenHidden: false },
      }),
    );
  }

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, webviewPanel: vscode.WebviewPanel): Promise<void> {
    const entry = this.models.entryFor(document.uri);
    const webview = webviewPanel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    webview.html = this.html(webview);
    const panel: Panel = { modelKey: entry?.key ?? document.uri.fsPath, panel: webviewPanel, post: (m) => void webview.postMessage(m) };
    this.panels.add(panel);
    const subs: vscode.Disposable[] = [
      webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(panel, m)),
      this.analyses.onDidChange((key) => {
        if (key === undefined || key === panel.modelKey) void this.refresh(panel);
      }),
      webviewPanel.onDidChangeViewState(() => {
        if (webviewPanel.visible) void this.refresh(panel);
      }),
    ];
    webviewPanel.onDidDispose(() => {
      this.panels.delete(panel);
      for (const s of subs) s.dispose();
    });
    if (!entry) panel.post({ type: 'error', message: `${document.uri.fsPath} is not a model this extension reads.` });
  }

  /** Shows the model's inspector (opening it if needed) and points it at a tab/search. */
  async reveal(modelFile: vscode.Uri, tab?: InspectorTab, search?: string): Promise<void> {
    const key = this.models.entryFor(modelFile)?.key;
    // A panel opened by this call is not ready for messages yet: it takes the reveal when it says 'ready'.
    if (tab && key) this.pendingReveal.set(key, { type: 'reveal', tab, search });
    await vscode.commands.executeCommand('vscode.openWith', modelFile, INSPECTOR_VIEW_TYPE);
    if (!tab || !key) return;
    for (const p of this.panels) {
      if (p.modelKey === key && this.ready.has(p)) {
        p.post({ type: 'reveal', tab, search });
        this.pendingReveal.delete(key);
      }
    }
  }

  /** Re-renders every open inspector (workspace trust granted: the Verify button becomes available). */
  refreshAll(): void {
    for (const p of this.panels) void this.refresh(p);
  }

  setVerification(modelKey: string, view: VerifyResult): void {
    this.verifications.set(modelKey, view);
    for (const p of this.panels) if (p.modelKey === modelKey) void this.refresh(p).then(() => p.post({ type: 'reveal', tab: 'verification' }));
  }

  showVerifying(modelKey: string, message: string): void {
    for (const p of this.panels) if (p.modelKey === modelKey) p.post({ type: 'verifying', message });
  }

  private async refresh(panel: Panel): Promise<void> {
    const entry = this.models.get(panel.modelKey);
    if (!entry) return;
    panel.post({ type: 'loading', path: entry.key });
    try {
      const analysis = await this.analyses.analyze(entry);
      const data = buildInspectorData({
        title: entry.label,
        model: analysis.model,
        result: analysis.result,
        runtimeSetting: readSettings().runtime,
        configPath: analysis.config ? vscode.workspace.asRelativePath(analysis.config.uri) : null,
        analysisError: analysis.error,
        verification: this.verifications.get(entry.key) ?? null,
        verifyDisabled: vscode.workspace.isTrusted ? null : UNTRUSTED_MESSAGE,
      });
      panel.post({ type: 'data', data });
    } catch (e) {
      this.log.warn(`inspector: ${errorMessage(e)}`);
      panel.post({ type: 'error', message: errorMessage(e) });
    }
  }

  private async onMessage(panel: Panel, m: FromWebview): Promise<void> {
    try {
      switch (m.type) {
        case 'ready': {
          this.ready.add(panel);
          await this.refresh(panel);
          const reveal = this.pendingReveal.get(panel.modelKey);
          if (reveal) {
            this.pendingReveal.delete(panel.modelKey);
            panel.post(reveal);
          }
          return;
        }
        case 'copyKey':
          await vscode.env.clipboard.writeText(m.key);
          vscode.window.setStatusBarMessage(`Copied ${m.key}`, 3000);
          return;
        case 'verify':
          await vscode.commands.executeCommand(COMMANDS.verify, vscode.Uri.file(panel.modelKey));
          return;
        case 'pickConfig':
          await vscode.commands.executeCommand(COMMANDS.pickConfig, vscode.Uri.file(panel.modelKey));
          return;
        case 'applyFix':
        case 'revealFinding': {
          const placed = await this.placedFinding(panel.modelKey, m.findingId);
          if (!placed) throw new Error('that finding is no longer current; the view will refresh');
          if (m.type === 'revealFinding') {
            await vscode.commands.executeCommand(COMMANDS.revealFinding, placed.config.uri, placed.range);
            return;
          }
          const fix = placed.finding.fixes[Number(m.fixId)];
          if (!fix || !(await applyFix(placed, fix))) throw new Error('the fix could not be applied');
          const doc = await vscode.workspace.openTextDocument(placed.config.uri);
          await doc.save();
          vscode.window.setStatusBarMessage(`Applied: ${fix.title} (${path.basename(placed.config.uri.fsPath)})`, 5000);
          return;
        }
      }
    } catch (e) {
      this.log.error(`inspector: ${errorMessage(e)}`);
      void vscode.window.showErrorMessage(`Freeze Inspector: ${errorMessage(e)}`);
      await this.refresh(panel);
    }
  }

  private async placedFinding(modelKey: string, id: string) {
    const entry = this.models.get(modelKey);
    if (!entry) return undefined;
    const config = await this.analyses.activeConfig(entry);
    if (!config) return undefined;
    await this.diagnostics.settled();
    const placed = this.diagnostics.findingsIn(config.uri);
    const analysis = await this.analyses.analyze(entry);
    const index = (analysis.result?.findings ?? []).findIndex((f, i) => findingId(f, i) === id);
    const finding = analysis.result?.findings[index];
    return placed.find((p) => p.finding.code === finding?.code && p.finding.message === finding?.message);
  }

  private html(webview: vscode.Webview): string {
    const nonce = makeNonce();
    const asset = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', f)).toString();
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${asset('webview.css')}">
<title>Model inspector</title>
</head>
<body>
<div id="app" aria-busy="true"><p class="muted">Loading model…</p></div>
<script nonce="${nonce}" src="${asset('webview.js')}"></script>
</body>
</html>`;
  }
}

function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += chars[Math.floor(Math.random() * chars.length)];
  return s;
}
