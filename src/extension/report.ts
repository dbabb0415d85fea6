// Export Report: the analysis of one config as Markdown, JSON or SARIF 2.1.0 (the core's toSarif), written
// beside the config (never into a model's folder). Formatting only: the findings and predictions are the core's.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ConfigInfo, ModelAnalysis } from './analysis-service';
import { loadAnalysisApi } from './core-api';

export type ReportFormat = 'md' | 'json' | 'sarif';

export async function exportReport(analysis: ModelAnalysis, config: ConfigInfo, format: ReportFormat): Promise<vscode.Uri> {
  const stem = path.basename(config.uri.fsPath).replace(/\.freeze\.json$/, '');
  const uri = vscode.Uri.file(path.join(path.dirname(config.uri.fsPath), `${stem}.freeze-report.${format}`));
  const text = format === 'md' ? markdownReport(analysis, config) : format === 'json' ? jsonReport(analysis, config) : await sarifReport(analysis, config);
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  return uri;
}

export function markdownReport(a: ModelAnalysis, config: ConfigInfo): string {
  const r = a.result;
  const out: string[] = [];
  out.push(`# Freeze report: ${path.basename(config.uri.fsPath)}`, '');
  out.push(`- Model: \`${a.model.path}\` (${a.model.format}; TensorFlow ${a.model.tensorflowVersion ?? '?'}, Keras ${a.model.kerasVersion ?? '?'})`);
  out.push(`- Runtime: ${r ? `${r.runtime} (${r.runtimeWhy})` : 'not analyzed'}`);
  if (a.error) out.push(`- Analysis failed: ${a.error}`);
  out.push('', `## Findings (${r?.findings.length ?? 0})`, '');
  for (const f of r?.findings ?? []) {
    out.push(`- **${f.severity}** \`${f.code}\`: ${f.message}`);
    for (const fix of f.fixes) out.push(`  - fix${fix.isPreferred ? ' (preferred)' : ''}: ${fix.title}`);
  }
  if (r?.batchNorms.length) {
    out.push('', '## BatchNorm layers', '', '| Layer | Normalizes with | Moving stats update | γ/β trained | Why |', '|---|---|---|---|---|');
    for (const b of r.batchNorms) out.push(`| \`${b.layer}\` | ${b.normalizesWith} | ${b.movingStatsUpdate ? 'yes' : 'no'} | ${b.gammaBetaTrained ? 'yes' : 'no'} | ${b.explanation.replace(/\|/g, '\\|')} |`);
  }
  if (r?.variables.length) {
    out.push('', '## Variables', '', '| Key | Changes | Reason |', '|---|---|---|');
    for (const v of r.variables) out.push(`| \`${v.key}\` | ${v.changes ? 'yes' : 'no'} | ${v.reason} |`);
  }
  return out.join('\n') + '\n';
}

export function jsonReport(a: ModelAnalysis, config: ConfigInfo): string {
  return JSON.stringify({ config: config.uri.fsPath, model: a.model.path, format: a.model.format, error: a.error, result: a.result }, null, 2) + '\n';
}

export async function sarifReport(a: ModelAnalysis, config: ConfigInfo): Promise<string> {
  if (!a.result) throw new Error(`no analysis to report${a.error ? `: ${a.error}` : ''}`);
  const api = await loadAnalysisApi();
  const rel = (p: string) => vscode.workspace.asRelativePath(p, false).split(path.sep).join('/');
  return JSON.stringify(api.toSarif([{ result: a.result, modelUri: rel(a.model.path), configUri: rel(config.uri.fsPath), configText: config.text }]), null, 2) + '\n';
}
