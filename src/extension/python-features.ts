// Diagnostics, hovers and quick fixes on Python training scripts, from the core's script analysis
// (src/core/python). The parser (tree-sitter, WebAssembly) loads on the first script that mentions
// TensorFlow or Keras; scripts that do not are never parsed.
import * as vscode from 'vscode';
import type { AnalysisService } from './analysis-service';
import type { Logger } from './log';
import { errorMessage } from './log';
import type { ModelService } from './model-service';
import type { ScriptAnalysis, ScriptAnalyzer } from '../core/python/analyze';
import type { Runtime } from '../core/analysis/types';
import type { PythonScript } from '../core/python/parser';
import type { Range as CoreRange, ScriptFinding, ScriptSeverity } from '../core/python/types';
import { readSettings } from './config';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { linkedRuntime, registerScriptCommands } from './python-commands';
import * as path from 'node:path';

const PYTHON: vscode.DocumentSelector = [{ language: 'python', scheme: 'file' }];
const MENTIONS_TF = /\b(tensorflow|keras|tf_keras|tf\.compat|slim)\b/;

interface Entry {
  script: PythonScript;
  analyzer: ScriptAnalyzer;
  analysis: ScriptAnalysis | null;
  /** The model the runtime option was resolved for ('' = not linked; undefined = not yet). */
  linked?: string;
  runtime?: Runtime | null;
}

type PythonApi = typeof import('../core/python/analyze') & typeof import('../core/python/parser') & typeof import('../core/python/hover-info') & typeof import('../core/python/link');
let api: Promise<PythonApi> | undefined;
function loadPythonApi(): Promise<PythonApi> {
  api ??= Promise.all([import('../core/python/analyze'), import('../core/python/parser'), import('../core/python/hover-info'), import('../core/python/link')]).then(([a, p, h, l]) => ({ ...a, ...p, ...h, ...l }));
  return api;
}

/** A script finding placed in its document (for the Findings view). */
export interface PlacedScriptFinding {
  readonly uri: vscode.Uri;
  readonly code: string;
  readonly message: string;
  readonly severity: ScriptSeverity;
  readonly range: vscode.Range;
}

/** The script findings of the Python scripts analyzed so far (open documents), for the Findings view. */
export interface ScriptFindingsSource {
  readonly onDidChange: vscode.Event<void>;
  all(): readonly PlacedScriptFinding[];
}

export function registerPythonFeatures(context: vscode.ExtensionContext, models: ModelService, analyses: AnalysisService, log: Logger): ScriptFindingsSource {
  const collection = vscode.languages.createDiagnosticCollection('freeze-inspector-python');
  const placed = new Map<string, PlacedScriptFinding[]>();
  const changed = new vscode.EventEmitter<void>();
  const setFindings = (uri: vscode.Uri, findings: readonly ScriptFinding[] | null): void => {
    const key = uri.toString();
    if (!findings?.length) {
      collection.delete(uri);
      if (placed.delete(key)) changed.fire();
      return;
    }
    collection.set(uri, findings.map((f) => toDiagnostic(uri, f)));
    placed.set(key, findings.map((f) => ({ uri, code: f.code, message: f.message, severity: f.severity, range: toRange(f.range) })));
    changed.fire();
  };
  const entries = new Map<string, Entry>();
  const timers = new Map<string, NodeJS.Timeout>();

  async function runtimeFor(doc: vscode.TextDocument) {
    const configs = (await analyses.listConfigs()).filter((c) => c.parsed.config);
    const own = configs.find((c) => c.parsed.config!.scripts.some((s) => path.resolve(path.dirname(c.uri.fsPath), s) === doc.uri.fsPath));
    const r = own?.parsed.config?.runtime ?? 'auto';
    if (r !== 'auto') return r;
    const s = readSettings().runtime;
    return s === 'auto' ? null : s;
  }

  async function refresh(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const text = doc.getText();
    if (!MENTIONS_TF.test(text)) {
      setFindings(doc.uri, null);
      return;
    }
    try {
      const py = await loadPythonApi();
      let entry = entries.get(key);
      if (!entry) {
        const script = await py.PythonScript.parse(text);
        const runtime = await runtimeFor(doc);
        entry = { script, analyzer: new py.ScriptAnalyzer(script, { runtime }), analysis: null, runtime };
        entries.set(key, entry);
      } else if (entry.script.text !== text) {
        entry.script.setText(text);
      }
      const t0 = Date.now();
      entry.analysis = entry.analyzer.analyze();
      await followLink(doc, entry);
      setFindings(doc.uri, entry.analysis.findings);
      scriptCommands.offerLink(doc);
      log.trace(`script ${path.basename(doc.uri.fsPath)}: ${entry.analysis.findings.length} finding(s) in ${Date.now() - t0} ms`);
    } catch (e) {
      log.warn(`python analysis of ${doc.uri.fsPath} failed: ${errorMessage(e)}`);
    }
  }

  /**
   * Once a script is linked to a model (a pragma added, a config listing it), the model's runtime fills in what
   * the script leaves open (linkedRuntime): re-resolved, and the script re-analyzed, each time the link changes.
   */
  async function followLink(doc: vscode.TextDocument, entry: Entry): Promise<void> {
    const py = await loadPythonApi();
    const configs = (await analyses.listConfigs()).filter((c) => c.parsed.config).map((c) => ({ path: c.uri.fsPath, config: c.parsed.config! }));
    const link = py.findModelLink(entry.analysis!.model, doc.uri.fsPath, configs);
    if ((link?.modelPath ?? '') === entry.linked) return;
    entry.linked = link?.modelPath ?? '';
    const setRuntime = (runtime: Runtime | null) => {
      if (runtime === entry.runtime) return;
      entry.runtime = runtime;
      entry.analyzer.setOptions({ runtime });
      entry.analysis = entry.analyzer.analyze();
    };
    // the script's own answer first (config, setting, pragma, imports), then what the model adds to it
    setRuntime(await runtimeFor(doc));
    if (!link) return;
    setRuntime(linkedRuntime(entry.analysis!.model.runtime, await scriptCommands.modelRuntime(link.modelPath)));
    log.info(`script ${path.basename(doc.uri.fsPath)}: linked to ${link.modelPath} (${link.source}), runtime ${entry.analysis!.model.runtime.runtime ?? 'unknown'}`);
  }

  function schedule(doc: vscode.TextDocument, delay = 250): void {
    if (doc.languageId !== 'python' || doc.uri.scheme !== 'file') return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => void refresh(doc), delay));
  }

  function forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    entries.get(key)?.script.dispose();
    entries.delete(key);
    setFindings(doc.uri, null);
  }

  async function current(doc: vscode.TextDocument): Promise<Entry | undefined> {
    const entry = entries.get(doc.uri.toString());
    if (entry && entry.script.text === doc.getText()) return entry;
    await refresh(doc);
    return entries.get(doc.uri.toString());
  }

  const scriptCommands = registerScriptCommands(vscode, context, { models, analyses, log, analysisOf: async (doc) => (await current(doc))?.analysis ?? undefined });

  context.subscriptions.push(
    collection,
    changed,
    { dispose: () => entries.forEach((e) => e.script.dispose()) },
    vscode.workspace.onDidOpenTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument(forget),
    vscode.languages.registerHoverProvider(PYTHON, {
      async provideHover(doc, pos) {
        const entry = await current(doc);
        if (!entry?.analysis) return undefined;
        const py = await loadPythonApi();
        const configs = (await analyses.listConfigs()).filter((c) => c.parsed.config).map((c) => ({ path: c.uri.fsPath, config: c.parsed.config! }));
        const link = py.findModelLink(entry.analysis.model, doc.uri.fsPath, configs);
        let model = null;
        if (link) {
          const target = vscode.Uri.file(link.modelPath);
          const m = models.entryFor(target) ?? models.entryFor(vscode.Uri.file(path.join(link.modelPath, 'saved_model.pb')));
          if (m) model = await models.open(m).then((h) => h.model, () => null);
        }
        const info = py.hoverAt(entry.analysis, { line: pos.line, character: pos.character }, { model, modelPath: link?.modelPath, scriptPath: doc.uri.fsPath });
        if (!info) return undefined;
        const md = new vscode.MarkdownString(info.markdown);
        md.isTrusted = { enabledCommands: [py.VERIFY_COMMAND] };
        return new vscode.Hover(md, toRange(info.range));
      },
    }),
    vscode.languages.registerCodeActionsProvider(
      PYTHON,
      {
        async provideCodeActions(doc, range) {
          const entry = await current(doc);
          const out: vscode.CodeAction[] = [];
          for (const f of entry?.analysis?.findings ?? []) {
            if (!toRange(f.range).intersection(range)) continue;
            for (const fix of f.fixes) {
              const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
              action.edit = new vscode.WorkspaceEdit();
              for (const e of fix.edits) action.edit.replace(doc.uri, toRange(e.range), e.newText);
              action.isPreferred = fix.isPreferred;
              action.diagnostics = [toDiagnostic(doc.uri, f)];
              out.push(action);
            }
          }
          return out;
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );
  for (const d of vscode.workspace.textDocuments) schedule(d, 0);
  return { onDidChange: changed.event, all: () => [...placed.values()].flat() };
}

function toRange(r: CoreRange): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

function toDiagnostic(uri: vscode.Uri, f: ScriptFinding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(f.range), f.message, severity(f.severity));
  d.source = DIAGNOSTIC_SOURCE;
  d.code = f.code;
  d.relatedInformation = f.related.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, toRange(r.range)), r.message));
  return d;
}

function severity(s: ScriptSeverity): vscode.DiagnosticSeverity {
  return s === 'error' ? vscode.DiagnosticSeverity.Error : s === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
}
