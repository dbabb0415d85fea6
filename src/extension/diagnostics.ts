// Freeze-config problems and analysis findings as diagnostics on `*.freeze.json`, at the exact JSON
// position the core reports (the pattern string, the key). Findings keep their code, so quick fixes
// (code-actions.ts) find the finding a diagnostic came from.
import * as vscode from 'vscode';
import type { ConfigDiagnostic, Finding, Severity } from '../core/analysis/types';
import type { AnalysisService, ConfigInfo, ModelAnalysis } from './analysis-service';
import type { Logger } from './log';
import { errorMessage } from './log';
import { LineIndex } from './text-positions';

export interface PlacedFinding {
  readonly finding: Finding;
  readonly range: vscode.Range;
  readonly config: ConfigInfo;
  readonly analysis: ModelAnalysis;
  readonly diagnostic: vscode.Diagnostic;
}

export const DIAGNOSTIC_SOURCE = 'Freeze Inspector';

export class DiagnosticsController implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('freeze-inspector');
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly placed = new Map<string, PlacedFinding[]>();
  private readonly changed = new vscode.EventEmitter<void>();
  private pending: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly analyses: AnalysisService,
    private readonly log: Logger,
  ) {
    this.disposables.push(this.changed, analyses.onDidChange(() => this.schedule()));
  }

  /** First pass over every config in the workspace (called on first use, not during activation). */
  start(): void {
    this.schedule(0);
  }

  /** Findings placed in a config file (for quick fixes, the Findings view and hovers). */
  findingsIn(uri: vscode.Uri): readonly PlacedFinding[] {
    return this.placed.get(uri.toString()) ?? [];
  }

  allFindings(): readonly PlacedFinding[] {
    return [...this.placed.values()].flat();
  }

  /** Resolves when the pending refresh has run (tests and commands wait for fresh diagnostics). */
  async settled(): Promise<void> {
    while (this.pending) await new Promise((r) => setTimeout(r, 20));
    await this.running;
  }

  private schedule(delay = 150): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.running = this.running.then(() => this.refresh()).catch((e) => this.log.error(`diagnostics: ${errorMessage(e)}`));
    }, delay);
  }

  private async refresh(): Promise<void> {
    const configs = await this.analyses.listConfigs();
    const seen = new Set<string>();
    for (const config of configs) {
      seen.add(config.uri.toString());
      const { diagnostics, placed } = await this.diagnose(config);
      this.collection.set(config.uri, diagnostics);
      this.placed.set(config.uri.toString(), placed);
    }
    for (const [uri] of this.collection) if (!seen.has(uri.toString())) this.collection.delete(uri);
    for (const key of [...this.placed.keys()]) if (!seen.has(key)) this.placed.delete(key);
    this.changed.fire();
  }

  private async diagnose(config: ConfigInfo): Promise<{ diagnostics: vscode.Diagnostic[]; placed: PlacedFinding[] }> {
    const lines = new LineIndex(config.text);
    const range = (offset: number, length: number) => {
      const a = lines.positionAt(offset);
      const b = lines.positionAt(offset + length);
      return new vscode.Range(a.line, a.character, b.line, b.character);
    };
    const diagnostics = config.parsed.diagnostics.map((d) => configDiagnostic(d, range(d.offset, d.length)));
    const placed: PlacedFinding[] = [];
    const entry = this.analyses.modelOf(config);
    if (!config.parsed.config) return { diagnostics, placed };
    if (!entry) {
      const at = modelValueRange(config.text) ?? { offset: 0, length: 1 };
      diagnostics.push(withSource(new vscode.Diagnostic(range(at.offset, at.length), `No model found at "${config.parsed.config.model}" (resolved to ${config.modelPath}).`, vscode.DiagnosticSeverity.Error), 'model-not-found'));
      return { diagnostics, placed };
    }
    let analysis: ModelAnalysis;
    try {
      analysis = await this.analyses.analyze(entry, config.uri);
    } catch (e) {
      const at = modelValueRange(config.text) ?? { offset: 0, length: 1 };
      diagnostics.push(withSource(new vscode.Diagnostic(range(at.offset, at.length), `The model cannot be read: ${errorMessage(e)}`, vscode.DiagnosticSeverity.Error), 'model-unreadable'));
      return { diagnostics, placed };
    }
    if (analysis.error) {
      const at = modelValueRange(config.text) ?? { offset: 0, length: 1 };
      diagnostics.push(withSource(new vscode.Diagnostic(range(at.offset, at.length), `Analysis failed: ${analysis.error}`, vscode.DiagnosticSeverity.Error), 'analysis-failed'));
    }
    for (const finding of analysis.result?.findings ?? []) {
      const at = finding.configRange ?? modelValueRange(config.text) ?? { offset: 0, length: 1 };
      const r = range(at.offset, at.length);
      const d = withSource(new vscode.Diagnostic(r, finding.message, severity(finding.severity)), finding.code);
      d.relatedInformation = relatedLayers(finding, analysis);
      diagnostics.push(d);
      placed.push({ finding, range: r, config, analysis, diagnostic: d });
    }
    return { diagnostics, placed };
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    for (const d of this.disposables) d.dispose();
  }
}

function configDiagnostic(d: ConfigDiagnostic, range: vscode.Range): vscode.Diagnostic {
  return withSource(new vscode.Diagnostic(range, d.message, severity(d.severity)), d.code);
}

function withSource(d: vscode.Diagnostic, code: string): vscode.Diagnostic {
  d.source = DIAGNOSTIC_SOURCE;
  d.code = code;
  return d;
}

export function severity(s: Severity): vscode.DiagnosticSeverity {
  return s === 'error' ? vscode.DiagnosticSeverity.Error : s === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
}

/** The layers a finding involves, as related locations in the model file (the layer named in the message). */
function relatedLayers(finding: Finding, analysis: ModelAnalysis): vscode.DiagnosticRelatedInformation[] {
  const layers = new Set<string>();
  if (finding.target.kind === 'layer') layers.add(finding.target.name);
  if (finding.target.kind === 'variable') {
    const v = analysis.model.variables.find((x) => x.key === finding.target.name || x.name === finding.target.name);
    if (v?.layer) layers.add(v.layer);
  }
  const where = new vscode.Location(analysis.entry.fileUri, new vscode.Position(0, 0));
  return [...layers].slice(0, 20).map((l) => {
    const bn = analysis.result?.batchNorms.find((b) => b.layer === l);
    return new vscode.DiagnosticRelatedInformation(where, `${l}${bn ? `: normalizes with ${bn.normalizesWith} statistics, moving stats ${bn.movingStatsUpdate ? 'update' : 'stay'}, γ/β ${bn.gammaBetaTrained ? 'train' : 'frozen'}` : ''}`);
  });
}

/** offset/length of the `"model"` value string, where model-level problems are shown. */
export function modelValueRange(text: string): { offset: number; length: number } | undefined {
  const m = /"model"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(text);
  if (!m) return undefined;
  return { offset: m.index + m[0].length - m[1]!.length, length: m[1]!.length };
}
