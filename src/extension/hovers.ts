// Hover on a freeze/train pattern in `*.freeze.json`: what it matches in the model (variables, layers,
// parameters) and what happens to each BatchNorm it touches under the active analysis.
import * as vscode from 'vscode';
import { getLocation } from 'jsonc-parser';
import type { PatternMatch } from '../core/analysis/types';
import type { AnalysisService, ModelAnalysis } from './analysis-service';
import { loadAnalysisApi } from './core-api';
import { errorMessage } from './log';
import { formatCount } from './tree/model-states';

export class PatternHoverProvider implements vscode.HoverProvider {
  constructor(private readonly analyses: AnalysisService) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const text = document.getText();
    const loc = getLocation(text, document.offsetAt(position));
    const node = loc.previousNode;
    const key = loc.path[0];
    const isPattern = (key === 'freeze' || key === 'train') && typeof loc.path[1] === 'number';
    const isOverride = key === 'trainingOverrides' && loc.isAtPropertyKey;
    if (!node || node.type !== 'string' || (!isPattern && !isOverride)) return undefined;
    const pattern = String(node.value);
    const range = new vscode.Range(document.positionAt(node.offset), document.positionAt(node.offset + node.length));
    const config = await this.analyses.config(document.uri);
    const entry = config && this.analyses.modelOf(config);
    if (!config?.parsed.config || !entry) return new vscode.Hover('Freeze Inspector: the config names no model that can be found, so this pattern cannot be matched.', range);
    let analysis: ModelAnalysis;
    try {
      analysis = await this.analyses.analyze(entry, document.uri);
    } catch (e) {
      return new vscode.Hover(`Freeze Inspector: the model cannot be read: ${errorMessage(e)}`, range);
    }
    const api = await loadAnalysisApi();
    const syntax = isOverride ? 'prefix' : config.parsed.config.patternSyntax;
    const runtime = analysis.result?.runtime ?? (analysis.model.tf1Graph ? 'tf1-graph' : 'tf2-keras');
    const match = api.matchPattern(analysis.model, pattern, syntax, runtime);
    return new vscode.Hover(describeMatch(pattern, syntax, match, analysis), range);
  }
}

export function describeMatch(pattern: string, syntax: string, match: PatternMatch, analysis: ModelAnalysis): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.supportThemeIcons = true;
  md.appendMarkdown(`**Freeze Inspector** · \`${escapeTicks(pattern)}\` (${syntax}, against ${match.target === 'layer-path' ? 'layer paths' : 'variable names'})\n\n`);
  if (match.error) {
    md.appendMarkdown(`$(error) ${match.error}`);
    return md;
  }
  const vars = new Map(analysis.model.variables.map((v) => [v.key, v]));
  const params = match.variables.reduce((n, k) => n + (vars.get(k)?.size ?? 0), 0);
  md.appendMarkdown(`Matches **${match.variables.length}** variable${match.variables.length === 1 ? '' : 's'} (${formatCount(params)} parameters) in **${match.layers.length}** layer${match.layers.length === 1 ? '' : 's'}.\n\n`);
  if (!match.variables.length && !match.layers.length) md.appendMarkdown('$(warning) This pattern matches nothing in the model.\n\n');
  const matchedLayers = new Set(match.layers);
  for (const k of match.variables) {
    const l = vars.get(k)?.layer;
    if (l) matchedLayers.add(l);
  }
  const bns = (analysis.result?.batchNorms ?? []).filter((b) => matchedLayers.has(b.layer) || [...matchedLayers].some((l) => b.layer.startsWith(l + '/')));
  if (bns.length) {
    for (const b of bns.slice(0, 12)) {
      const icon = b.movingStatsUpdate && !b.gammaBetaTrained ? '$(warning)' : b.movingStatsUpdate ? '$(pulse)' : '$(lock)';
      md.appendMarkdown(`- ${icon} \`${b.layer}\`: normalizes with **${b.normalizesWith}** statistics, moving stats **${b.movingStatsUpdate ? 'update' : 'stay'}**, γ/β **${b.gammaBetaTrained ? 'train' : 'frozen'}**\n`);
    }
    if (bns.length > 12) md.appendMarkdown(`- … and ${bns.length - 12} more BatchNorm layers\n`);
    md.appendMarkdown('\n');
  } else {
    const irBns = analysis.model.batchNorms.filter((b) => matchedLayers.has(b.layer));
    if (irBns.length) md.appendMarkdown(`${irBns.length} BatchNorm layer(s): ${irBns.map((b) => `\`${b.layer}\``).join(', ')}\n\n`);
  }
  const shown = match.variables.slice(0, 6);
  if (shown.length) {
    md.appendMarkdown(shown.map((k) => `- \`${escapeTicks(k)}\``).join('\n'));
    if (match.variables.length > shown.length) md.appendMarkdown(`\n- … ${match.variables.length - shown.length} more`);
  }
  return md;
}

function escapeTicks(s: string): string {
  return s.replace(/`/g, "'");
}
