// `freeze-inspector check-script FILE... [--model PATH] [--runtime R] [--json]`: the Python-script rules
// outside the editor, for CI. Exit codes: 0 no error-level finding, 1 an error-level finding, 2 bad input.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../../core/analysis/types';
import { isFreezeInspectorError } from '../../core/io/errors';
import { analyzeScriptText } from '../../core/python/analyze';
import { runtimeOfModelFile } from '../../core/python/link';
import type { ScriptFinding } from '../../core/python/types';
import { EXIT, flag, parseArgs } from '../io';

const USAGE = `usage: freeze-inspector check-script FILE... [--model PATH] [--runtime tf1-graph|tf2-keras|keras3] [--json]
Checks Python training scripts for BatchNorm/freezing mistakes (the rules the editor shows as problems).
  --model PATH   the model the scripts train: its format decides the runtime when the script does not say
  --runtime R    the training runtime, instead of guessing it from the imports
  --json         print {"findings": [{file, line, column, code, severity, message, fixes}]}
exit codes: 0 no error-level finding, 1 an error-level finding, 2 bad input.
`;

const RUNTIMES: readonly Runtime[] = ['tf1-graph', 'tf2-keras', 'keras3'];

export interface CheckScriptJsonFinding {
  readonly file: string;
  /** 1-based */
  readonly line: number;
  /** 1-based, UTF-16 code units */
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly fixes: ScriptFinding['fixes'];
}

export async function runCheckScript(argv: string[], io: { stdout(s: string): void; stderr(s: string): void }): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (flag(args, 'help') === 'true') {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  const json = flag(args, 'json') === 'true';
  const files = args.positionals;
  if (files.length === 0) {
    io.stderr(`error: no script given\n\n${USAGE}`);
    return EXIT.badInput;
  }
  const runtimeFlag = flag(args, 'runtime');
  if (runtimeFlag !== undefined && !(RUNTIMES as readonly string[]).includes(runtimeFlag)) {
    io.stderr(`error: --runtime must be one of ${RUNTIMES.join(', ')}, got ${JSON.stringify(runtimeFlag)}\n`);
    return EXIT.badInput;
  }
  let runtime: Runtime | null = (runtimeFlag as Runtime | undefined) ?? null;
  const modelPath = flag(args, 'model');
  if (modelPath !== undefined && runtime === null) {
    try {
      runtime = (await runtimeOfModelFile(modelPath)).runtime;
    } catch (e) {
      if (!isFreezeInspectorError(e)) throw e;
      io.stderr(`error: ${e.message}\n`);
      return EXIT.badInput;
    }
  }

  const all: CheckScriptJsonFinding[] = [];
  let bad = false;
  for (const file of files) {
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (e) {
      io.stderr(`error: ${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})\n`);
      bad = true;
      continue;
    }
    try {
      const analysis = await analyzeScriptText(text, { runtime });
      for (const f of analysis.findings) {
        all.push({
          file,
          line: f.range.start.line + 1,
          column: f.range.start.character + 1,
          endLine: f.range.end.line + 1,
          endColumn: f.range.end.character + 1,
          code: f.code,
          severity: f.severity,
          message: f.message,
          fixes: f.fixes,
        });
      }
    } catch (e) {
      if (!isFreezeInspectorError(e)) throw e;
      io.stderr(`error: ${e.message}\n`);
      return EXIT.badInput;
    }
  }
  if (json) io.stdout(`${JSON.stringify({ findings: all }, null, 2)}\n`);
  else {
    for (const f of all) io.stdout(`${path.normalize(f.file)}:${f.line}:${f.column}: ${f.severity} [${f.code}] ${f.message}\n`);
    const errors = all.filter((f) => f.severity === 'error').length;
    io.stdout(`${files.length} script${files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${all.length - errors} other finding${all.length - errors === 1 ? '' : 's'}\n`);
  }
  if (bad) return EXIT.badInput;
  return all.some((f) => f.severity === 'error') ? EXIT.findings : EXIT.ok;
}
