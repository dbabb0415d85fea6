// Entry point of the script analysis: facts (cached per statement) -> idioms -> rules -> findings.
// Synchronous once the grammar is loaded; never throws on malformed Python (rules that trip on a partial
// tree say nothing).
import type { Runtime } from '../analysis/types';
import { type ScriptModel, buildScriptModel } from './idioms';
import { FactCollector } from './idioms/collect';
import { PythonScript } from './parser';
import { SCRIPT_RULES } from './rules';
import { comparePositions } from './text';
import type { ScriptFinding, ScriptFindingCode } from './types';

export interface AnalyzeOptions {
  /** Runtime from the linked freeze config or a setting; overrides the guess (a `# freeze-inspector: runtime=` pragma wins). */
  readonly runtime?: Runtime | null;
  /** Only these rules (default: all). */
  readonly rules?: readonly ScriptFindingCode[];
}

export interface ScriptAnalysis {
  readonly version: number;
  readonly findings: readonly ScriptFinding[];
  readonly model: ScriptModel;
  /** Statements walked vs reused from the cache (incremental re-analysis). */
  readonly stats: { readonly walked: number; readonly reused: number };
}

/** Analysis of one open document; keeps its per-statement cache across edits. */
export class ScriptAnalyzer {
  private readonly collector = new FactCollector();
  private last: ScriptAnalysis | null = null;
  /** The model of the last analysis (kept across setOptions: its passes do not depend on the options). */
  private reusable: ScriptModel | null = null;

  constructor(
    readonly script: PythonScript,
    private options: AnalyzeOptions = {},
  ) {}

  setOptions(options: AnalyzeOptions): void {
    this.options = options;
    this.last = null;
  }

  analyze(): ScriptAnalysis {
    if (this.last && this.last.version === this.script.version) return this.last;
    const src = this.script.text;
    const facts = this.collector.collect(this.script.tree, src);
    // an edit that only moved the facts (whitespace, comments, blank lines) keeps the passes built on them
    const previous = this.collector.unchanged ? this.reusable : null;
    const model = buildScriptModel(src, previous ? previous.facts : facts, this.script.lines, this.options.runtime ?? null, previous ?? undefined);
    this.reusable = model;
    const findings = runRules(model, this.options.rules);
    this.last = { version: this.script.version, findings, model, stats: this.collector.stats };
    return this.last;
  }
}

export function runRules(model: ScriptModel, only?: readonly ScriptFindingCode[]): ScriptFinding[] {
  const out: ScriptFinding[] = [];
  for (const rule of SCRIPT_RULES) {
    if (only && !only.includes(rule.code)) continue;
    try {
      out.push(...rule.run(model));
    } catch {
      // A rule confused by a half-typed script says nothing rather than taking the others down.
    }
  }
  return out.sort((a, b) => comparePositions(a.range.start, b.range.start) || a.code.localeCompare(b.code));
}

/** One-shot analysis of a script's text (CLI, tests). */
export async function analyzeScriptText(text: string, options: AnalyzeOptions = {}): Promise<ScriptAnalysis> {
  const script = await PythonScript.parse(text);
  try {
    return new ScriptAnalyzer(script, options).analyze();
  } finally {
    script.dispose();
  }
}
