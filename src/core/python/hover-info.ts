// Hovers: plain markdown plus structured data, for pattern strings (what they match in the linked model and
// what happens to each BatchNorm under the script's settings), `.trainable = ...`, `training=` and
// UPDATE_OPS (what they mean in the detected runtime). The extension turns `markdown` into a MarkdownString
// (trusted for the verify command link) and may render `data` itself.
import { analyze, matchPattern } from '../analysis';
import type { AnalysisResult, BatchNormPrediction, PatternMatch, PatternSyntax, Runtime } from '../analysis/types';
import type { Model } from '../model/ir';
import type { ScriptAnalysis } from './analyze';
import { extractFreezeConfig } from './extract-config';
import { type Expr, visitExpr } from './syntax';
import { containsPosition } from './text';
import type { Position, Range } from './types';

/** The command the extension registers to verify a config / linked model (markdown links use it). */
export const VERIFY_COMMAND = 'freezeInspector.verify';

export type HoverData =
  | { readonly kind: 'pattern'; readonly pattern: string; readonly syntax: PatternSyntax; readonly role: string; readonly match: PatternMatch | null; readonly params: number | null; readonly batchNorms: readonly BatchNormPrediction[] }
  | { readonly kind: 'trainable'; readonly value: boolean | null; readonly runtime: Runtime | null }
  | { readonly kind: 'training'; readonly value: boolean | null; readonly runtime: Runtime | null }
  | { readonly kind: 'update-ops'; readonly runtime: Runtime | null };

export interface HoverInfo {
  readonly range: Range;
  readonly markdown: string;
  readonly data: HoverData;
}

export interface HoverContext {
  /** The linked model, already opened (structure only). */
  readonly model?: Model | null;
  readonly modelPath?: string;
  readonly scriptPath?: string;
}

interface PatternSite {
  readonly expr: Extract<Expr, { k: 'str' }>;
  readonly syntax: PatternSyntax;
  readonly role: string;
}

export function hoverAt(a: ScriptAnalysis, pos: Position, ctx: HoverContext = {}): HoverInfo | null {
  const m = a.model;
  const offset = m.lines.offsetAt(pos);
  const runtime = m.runtime.runtime;
  const site = patternSiteAt(a, offset);
  if (site) return patternHover(a, site, ctx);
  for (const f of m.keras.flips) {
    const attrStart = f.object.e + 1;
    if (offset >= attrStart && offset <= f.stmt.e && m.src.slice(attrStart, attrStart + 9) === 'trainable' && offset <= attrStart + 9) {
      return { range: m.range(attrStart, attrStart + 9), markdown: trainableText(runtime, f.value), data: { kind: 'trainable', value: f.value, runtime } };
    }
  }
  for (const fact of m.facts) {
    if (fact.kind !== 'call') continue;
    for (const k of fact.call.kwargs) {
      if ((k.name === 'training' || k.name === 'is_training') && offset >= k.s && offset <= k.s + k.name.length) {
        const v = k.value.k === 'bool' ? k.value.value : null;
        return { range: m.range(k.s, k.s + k.name.length), markdown: trainingText(runtime, v, k.name), data: { kind: 'training', value: v, runtime } };
      }
    }
  }
  const word = /[A-Za-z_]+$/.exec(m.src.slice(Math.max(0, offset - 20), offset))?.[0] ?? '';
  const after = /^[A-Za-z_]*/.exec(m.src.slice(offset))![0];
  if (word + after === 'UPDATE_OPS') {
    const s = offset - word.length;
    return { range: m.range(s, s + 10), markdown: updateOpsText(runtime), data: { kind: 'update-ops', runtime } };
  }
  return null;
}

function patternSiteAt(a: ScriptAnalysis, offset: number): PatternSite | null {
  const m = a.model;
  for (const f of m.facts) {
    if (f.kind !== 'call' || offset < f.call.s || offset > f.call.e) continue;
    const name = m.names.canon(f.call.callee) ?? f.call.callee ?? '';
    const strAt = (e: Expr | undefined): Extract<Expr, { k: 'str' }> | null => {
      let hit: Extract<Expr, { k: 'str' }> | null = null;
      if (e) visitExpr(e, (x) => {
        if (x.k === 'str' && offset >= x.s && offset <= x.e) hit = x;
      });
      return hit;
    };
    if (/(^|\.)filter_variables$/.test(name)) {
      for (const k of ['include_patterns', 'exclude_patterns'] as const) {
        const idx = k === 'include_patterns' ? 1 : 2;
        const e = f.call.kwargs.find((x) => x.name === k)?.value ?? f.call.args[idx];
        const s = strAt(e);
        if (s) return { expr: s, syntax: 'regex', role: `${k} (re.search on variable names)` };
      }
    }
    if (/(^|\.)(trainable_variables|global_variables|get_collection|get_trainable_variables|get_variables|variable_scope)$/.test(name)) {
      const scopeArg = f.call.kwargs.find((x) => x.name === 'scope' || x.name === 'name_or_scope')?.value ?? f.call.args[/get_collection$/.test(name) ? 1 : 0];
      const s = strAt(scopeArg);
      if (s) return { expr: s, syntax: 'prefix', role: /variable_scope$/.test(name) ? 'variable scope' : 'scope (re.match: a prefix of the variable names)' };
    }
    if (/(^|\.)get_layer$/.test(name) || f.call.kwargs.some((k) => k.name === 'name' && k.value.k === 'str' && offset >= k.value.s && offset <= k.value.e)) {
      const s = strAt(f.call.kwargs.find((k) => k.name === 'name')?.value ?? f.call.args[0]);
      if (s) return { expr: s, syntax: 'glob', role: 'layer name' };
    }
  }
  return null;
}

function patternHover(a: ScriptAnalysis, site: PatternSite, ctx: HoverContext): HoverInfo {
  const m = a.model;
  const range = m.range(site.expr.s, site.expr.e);
  const pattern = site.syntax === 'glob' ? `*${site.expr.value}` : site.expr.value;
  const lines: string[] = [`**\`${site.expr.value}\`** — ${site.role}`];
  let match: PatternMatch | null = null;
  let params: number | null = null;
  let bnPreds: BatchNormPrediction[] = [];
  const model = ctx.model ?? null;
  if (!model) {
    lines.push('', '_No model linked: add `# freeze-inspector: model=PATH` (or list this script in a freeze config\'s `scripts`) to see what it matches._');
  } else {
    const runtime = m.runtime.runtime ?? (model.format === 'saved-model-tf1' || model.format === 'tf1-meta-checkpoint' ? 'tf1-graph' : model.format === 'keras-v3' ? 'keras3' : 'tf2-keras');
    match = matchPattern(model, pattern, site.syntax, runtime);
    if (match.error) lines.push('', `Pattern error: ${match.error}`);
    const vars = new Set(match.variables);
    const matched = model.variables.filter((v) => vars.has(v.key));
    params = matched.reduce((n, v) => n + (v.size ?? 0), 0);
    lines.push('', `Matches **${matched.length}** variable${matched.length === 1 ? '' : 's'} (${params.toLocaleString('en-US')} parameters) in \`${model.path}\`.`);
    for (const v of matched.slice(0, 12)) lines.push(`- \`${v.name}\` ${JSON.stringify(v.shape)}`);
    if (matched.length > 12) lines.push(`- … ${matched.length - 12} more`);
    let result: AnalysisResult | null = null;
    try {
      const { config } = extractFreezeConfig(m, { modelPath: ctx.modelPath ?? model.path, scriptPath: ctx.scriptPath ?? '', runtime });
      result = analyze(model, config);
    } catch {
      result = null;
    }
    const matchedLayers = new Set(match.layers);
    const bns = model.batchNorms.filter((b) => matchedLayers.has(b.layer) || [b.gamma, b.beta, b.movingMean, b.movingVariance].some((k) => k !== null && vars.has(k)));
    bnPreds = result ? result.batchNorms.filter((p) => bns.some((b) => b.layer === p.layer)) : [];
    if (bns.length > 0) {
      lines.push('', `**BatchNorm layers inside (${bns.length})** under this script's settings:`);
      for (const b of bns.slice(0, 10)) {
        const p = bnPreds.find((x) => x.layer === b.layer);
        lines.push(p ? `- \`${b.layer}\`: normalizes with ${p.normalizesWith} statistics; moving stats ${p.movingStatsUpdate ? '**update**' : 'frozen'}; γ/β ${p.gammaBetaTrained ? 'trained' : 'frozen'}` : `- \`${b.layer}\``);
      }
    }
    lines.push('', verifyLink(ctx));
  }
  return { range, markdown: lines.join('\n'), data: { kind: 'pattern', pattern: site.expr.value, syntax: site.syntax, role: site.role, match, params, batchNorms: bnPreds } };
}

function verifyLink(ctx: HoverContext): string {
  const args = encodeURIComponent(JSON.stringify([{ script: ctx.scriptPath ?? null, model: ctx.modelPath ?? null }]));
  return `[Verify with a short real fine-tune](command:${VERIFY_COMMAND}?${args})`;
}

function runtimeName(r: Runtime | null): string {
  return r === 'tf1-graph' ? 'TF1 graph' : r === 'tf2-keras' ? 'tf.keras (TF 2.0-2.15)' : r === 'keras3' ? 'Keras 3' : 'unknown runtime';
}

function trainableText(r: Runtime | null, v: boolean | null): string {
  const head = `**trainable = ${v === null ? '…' : v ? 'True' : 'False'}** — ${runtimeName(r)}`;
  const body =
    r === 'tf1-graph'
      ? 'In a TF1 graph (V1 Keras) a frozen BatchNorm still normalizes with **batch** statistics during fit; its moving statistics are not updated. Gamma/beta stop training.'
      : r === 'keras3' || r === 'tf2-keras'
        ? 'A frozen BatchNorm runs in **inference mode** (moving statistics, no update) even when called with training=True; gamma/beta stop training. Setting it on a model applies to every layer inside. Recompile after changing it once the model has been trained.'
        : 'tf.keras 2 / Keras 3: a frozen BatchNorm runs in inference mode. Standalone Keras 2 / TF1: it still uses batch statistics. Recompile after changing it.';
  return `${head}\n\n${body}\n\n[Verify with a short real fine-tune](command:${VERIFY_COMMAND})`;
}

function trainingText(r: Runtime | null, v: boolean | null, name: string): string {
  const head = `**${name}=${v === null ? '(decided at run time)' : v ? 'True' : 'False'}** — ${runtimeName(r)}`;
  const body =
    r === 'tf1-graph'
      ? 'True: BatchNorm normalizes with batch statistics and adds its moving-average updates to UPDATE_OPS (they only run if the train op depends on them). False: moving statistics, no update ops.'
      : r === 'keras3'
        ? 'Keras 3: BatchNorm uses batch statistics only if training is true **and** the layer is trainable. In a functional model (Keras ≤ 3.15.1) an inner call\'s training=False is overridden by fit().'
        : 'tf.keras: BatchNorm uses batch statistics only if training is true and the layer is trainable; training=False on a base model keeps its BatchNorm in inference mode even after unfreezing.';
  return `${head}\n\n${body}\n\n[Verify with a short real fine-tune](command:${VERIFY_COMMAND})`;
}

function updateOpsText(r: Runtime | null): string {
  return (
    `**tf.GraphKeys.UPDATE_OPS** — ${runtimeName(r)}\n\n` +
    'The collection where tf.layers / slim BatchNorm in training mode put their moving-average updates. They run only if the train op depends on them ' +
    '(`tf.control_dependencies`) — all of them, unless filtered with `scope=`: with a restricted var_list, the frozen scopes\' statistics still drift.' +
    `\n\n[Verify with a short real fine-tune](command:${VERIFY_COMMAND})`
  );
}

export { containsPosition };
