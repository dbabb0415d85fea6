// The CLI's readable report: runtime and why, a table per BatchNorm layer, the variables, the answer to
// "will BatchNorm train if the layers are frozen?", then findings with their fixes.
import type { AnalysisResult, BatchNormPrediction, ConfigEdit, Finding } from './types';

export interface ReportContext {
  readonly modelPath: string;
  readonly configPath?: string;
  /** One sentence on how the TF1 update ops were decided (from the analysis), shown under the runtime. */
  readonly updateOpsSource?: string;
  /** "path:line:col" for a finding's config entry, when the config text is known. */
  readonly locate?: (f: Finding) => string | null;
  /** List every variable (default: only a summary plus the BatchNorm variables). */
  readonly allVariables?: boolean;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

function yes(b: boolean, ifYes: string, ifNo: string): string {
  return b ? ifYes : ifNo;
}

export function describeEdit(e: ConfigEdit): string {
  const path = e.path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('').replace(/^\./, '');
  switch (e.kind) {
    case 'set':
      return `set ${path} = ${JSON.stringify(e.value)}`;
    case 'insert':
      return `insert ${JSON.stringify(e.value)} at ${path}`;
    case 'remove':
      return `remove ${path}`;
  }
}

/** "Will BatchNorm train if the layers are frozen but training is on?" answered for this model and config. */
export function answerSeedQuestion(result: AnalysisResult): string {
  const frozen = result.batchNorms.filter((b) => !b.gammaBetaTrained && isFrozen(result, b));
  if (frozen.length === 0) return 'No BatchNorm layer is frozen by this config, so the question does not arise: every BatchNorm trains.';
  const names = (bs: readonly BatchNormPrediction[]) => bs.map((b) => b.layer).join(', ');
  const drift = frozen.filter((b) => b.movingStatsUpdate);
  const gap = frozen.filter((b) => !b.movingStatsUpdate && b.normalizesWith === 'batch');
  const still = frozen.filter((b) => !b.movingStatsUpdate && b.normalizesWith === 'moving');
  const parts: string[] = [];
  if (drift.length) {
    parts.push(
      `YES, partly: in ${names(drift)} gamma/beta stay frozen, but moving_mean/moving_variance change on every step: the layer runs in training mode (batch statistics) and the train op runs its moving-average updates. "Frozen" does not freeze BatchNorm statistics here.`,
    );
  }
  if (gap.length) parts.push(`${drift.length ? 'In' : 'NO, but:'} ${names(gap)} nothing changes, yet the layer normalizes with batch statistics while training and with moving statistics at inference (train/inference gap).`);
  if (still.length) parts.push(`${drift.length || gap.length ? 'In' : 'NO:'} ${names(still)} nothing changes: the layer runs in inference mode (moving statistics, not updated) and gamma/beta do not train.`);
  return parts.join(' ');
}

function isFrozen(result: AnalysisResult, b: BatchNormPrediction): boolean {
  // A layer with gamma/beta, none of which trains.
  const vars = result.variables.filter((v) => v.layer === b.layer && (v.role === 'gamma' || v.role === 'beta'));
  return vars.length > 0 && vars.every((v) => !v.changes);
}

export function renderReport(result: AnalysisResult, ctx: ReportContext): string {
  const out: string[] = [];
  out.push(`Freeze analysis of ${ctx.modelPath}`);
  if (ctx.configPath) out.push(`config:   ${ctx.configPath}`);
  out.push(`runtime:  ${result.runtime} (${result.runtimeWhy})`);
  if (ctx.updateOpsSource) out.push(`updates:  ${ctx.updateOpsSource}`);
  out.push('');

  if (result.batchNorms.length) {
    out.push(`BatchNorm layers (${result.batchNorms.length})`);
    const rows = [['  layer', 'normalizes with', 'moving stats', 'gamma/beta']];
    for (const b of result.batchNorms) {
      rows.push([`  ${b.layer}`, `${b.normalizesWith} stats`, yes(b.movingStatsUpdate, 'CHANGE', 'fixed'), yes(b.gammaBetaTrained, 'train', isFrozen(result, b) ? 'frozen' : 'partly/none')]);
    }
    out.push(...table(rows));
    out.push('');
    for (const b of result.batchNorms) out.push(`  ${b.layer}: ${b.explanation}`);
    out.push('');
  } else {
    out.push('BatchNorm layers: none found in this model.', '');
  }

  const changing = result.variables.filter((v) => v.changes);
  const byReason = new Map<string, number>();
  for (const v of result.variables) byReason.set(v.reason, (byReason.get(v.reason) ?? 0) + 1);
  out.push(`Variables: ${changing.length} of ${result.variables.length} change in a training step (${[...byReason].map(([r, n]) => `${r} ${n}`).join(', ')})`);
  const shown = ctx.allVariables ? result.variables : result.variables.filter((v) => v.role !== 'kernel' && v.role !== 'bias' && v.role !== 'other');
  if (shown.length) {
    const rows = [['  variable', 'changes', 'reason']];
    for (const v of shown) rows.push([`  ${v.name}`, v.changes ? 'YES' : 'no', v.reason]);
    out.push(...table(rows));
    if (!ctx.allVariables && shown.length < result.variables.length) out.push(`  (${result.variables.length - shown.length} kernels/biases/other not listed; --all-variables lists them)`);
  }
  out.push('');

  if (result.batchNorms.length) {
    out.push('Will BatchNorm train if the layers are frozen but training is on?');
    out.push(`  ${answerSeedQuestion(result)}`);
    out.push('');
  }

  const count = (s: string) => result.findings.filter((f) => f.severity === s).length;
  out.push(`Findings: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info`);
  for (const f of result.findings) {
    const where = ctx.locate?.(f);
    out.push(`  ${f.severity.toUpperCase()} ${f.code}${where ? ` (${where})` : ''}: ${f.message}`);
    for (const fix of f.fixes) {
      out.push(`    fix${fix.isPreferred ? ' (preferred)' : ''}: ${fix.title}`);
      for (const e of fix.edits) out.push(`      ${describeEdit(e)}`);
    }
  }
  return out.join('\n') + '\n';
}
