// `freeze-inspector analyze PATH --config FILE` (or PATH = the config itself, or --freeze/--runtime/--training
// flags): per-variable predictions of one training step, a table per BatchNorm layer, findings with fixes.
// Exit codes: 0 ok, 1 an error-level finding, 2 bad input (unreadable model, invalid config, bad flags).
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../core/open';
import { isFreezeInspectorError } from '../../core/io/errors';
import type { ModelHandle } from '../../core/model/ir';
import { analyzeDetailed } from '../../core/analysis/analyze';
import { defaultFreezeConfig, lineColumn, parseFreezeConfig, resolveModelPath, RUNTIME_SETTINGS, PATTERN_SYNTAXES } from '../../core/analysis/freeze-config';
import { compilePattern } from '../../core/analysis/patterns';
import { renderReport } from '../../core/analysis/report-text';
import { toSarif } from '../../core/analysis/sarif';
import type { ConfigDiagnostic, FreezeConfig, PatternSyntax, RuntimeSetting, UpdateOpsSetting } from '../../core/analysis/types';
import { EXIT, flag, parseArgs, type CliIO, type ParsedArgs } from '../io';

const USAGE = `usage:
  freeze-inspector analyze CONFIG.freeze.json [--json | --format text|json|sarif]
  freeze-inspector analyze MODEL --config FILE [--json | --format text|json|sarif]
  freeze-inspector analyze MODEL --freeze PATTERN... [--train PATTERN...]
                           [--runtime auto|tf1-graph|tf2-keras|keras3] [--training true|false]
                           [--pattern-syntax regex|prefix|glob] [--update-ops all|none|SCOPE,SCOPE...]
                           [--override LAYER=true|false...] [--json | --format ...]
options:
  --all-variables   list every variable in the text report (default: BatchNorm variables only)
flags given next to --config override the config's values.
exit codes: 0 ok, 1 an error-level finding, 2 bad input.
`;

const KNOWN_FLAGS = ['config', 'freeze', 'train', 'runtime', 'training', 'pattern-syntax', 'update-ops', 'override', 'json', 'format', 'all-variables', 'help'];

class BadInput extends Error {}

const MULTI_VALUE = new Set(['--freeze', '--train', '--override']);

/** `--freeze A B C` = `--freeze A --freeze B --freeze C`: values run until the next option (so PATH goes first). */
export function expandMultiValue(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!MULTI_VALUE.has(a)) {
      out.push(a);
      continue;
    }
    let n = 0;
    while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      out.push(a, argv[++i]!);
      n++;
    }
    if (n === 0) out.push(a);
  }
  return out;
}

export async function runAnalyze(argv: string[], io: { stdout: (s: string) => void; stderr: (s: string) => void }): Promise<number> {
  const args = parseArgs(expandMultiValue(argv), ['json', 'help', 'all-variables']);
  if (flag(args, 'help')) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  try {
    return await run(args, io);
  } catch (e) {
    if (e instanceof BadInput || isFreezeInspectorError(e)) {
      io.stderr(`error: ${(e as Error).message}\n`);
      if (e instanceof BadInput) io.stderr(`\n${USAGE}`);
      return EXIT.badInput;
    }
    throw e;
  }
}

interface Inputs {
  modelPath: string;
  config: FreezeConfig;
  configFile: string | null;
  configText: string | undefined;
  diagnostics: readonly ConfigDiagnostic[];
}

async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const unknown = [...args.flags.keys()].filter((k) => !KNOWN_FLAGS.includes(k));
  if (unknown.length) throw new BadInput(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `--${u}`).join(', ')}`);
  const format = flag(args, 'json') ? 'json' : (flag(args, 'format') ?? 'text');
  if (!['text', 'json', 'sarif'].includes(format)) throw new BadInput(`--format must be text, json or sarif, not "${format}"`);
  if (args.positionals.length !== 1) {
    throw new BadInput(args.positionals.length === 0 ? 'PATH is missing (put PATH before --freeze/--train: their values run until the next option)' : `one PATH expected, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
  }

  const inputs = await resolveInputs(args);
  const errors = inputs.diagnostics.filter((d) => d.severity === 'error');
  for (const d of inputs.diagnostics) io.stderr(`${formatDiagnostic(inputs, d)}\n`);
  if (errors.length) {
    io.stderr(`error: ${inputs.configFile} has ${errors.length} error(s); nothing analysed\n`);
    return EXIT.badInput;
  }

  let handle: ModelHandle;
  try {
    handle = await openModel(inputs.modelPath);
  } catch (e) {
    if (isFreezeInspectorError(e)) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
  try {
    const model = handle.model;
    const { result, prediction } = analyzeDetailed(model, inputs.config, inputs.configText);
    const cwdRel = (p: string) => path.relative(process.cwd(), path.resolve(p)).split(path.sep).join('/') || '.';
    if (format === 'json') {
      const json = {
        model: { path: inputs.modelPath, format: model.format, tensorflowVersion: model.tensorflowVersion, kerasVersion: model.kerasVersion },
        config: inputs.configFile,
        runtime: result.runtime,
        runtimeWhy: result.runtimeWhy,
        updateOps: prediction.tf1?.updateOpsSource ?? null,
        variables: result.variables,
        batchNorms: result.batchNorms,
        findings: result.findings,
        configDiagnostics: inputs.diagnostics,
      };
      io.stdout(JSON.stringify(json, null, 2) + '\n');
    } else if (format === 'sarif') {
      const sarif = toSarif([
        {
          result,
          modelUri: cwdRel(inputs.modelPath),
          ...(inputs.configFile && inputs.configText !== undefined ? { configUri: cwdRel(inputs.configFile), configText: inputs.configText } : {}),
        },
      ]);
      io.stdout(JSON.stringify(sarif, null, 2) + '\n');
    } else {
      io.stdout(
        renderReport(result, {
          modelPath: inputs.modelPath,
          ...(inputs.configFile ? { configPath: inputs.configFile } : {}),
          ...(prediction.tf1 ? { updateOpsSource: prediction.tf1.updateOpsSource } : {}),
          allVariables: flag(args, 'all-variables') === 'true',
          locate: (f) => {
            if (!f.configRange || inputs.configText === undefined || !inputs.configFile) return null;
            const lc = lineColumn(inputs.configText, f.configRange.offset);
            return `${inputs.configFile}:${lc.line}:${lc.column}`;
          },
        }),
      );
    }
    return result.findings.some((f) => f.severity === 'error') ? EXIT.findings : EXIT.ok;
  } finally {
    await handle.close();
  }
}

function formatDiagnostic(inputs: Inputs, d: ConfigDiagnostic): string {
  if (inputs.configText === undefined || !inputs.configFile) return `${d.severity} ${d.code}: ${d.message}`;
  const lc = lineColumn(inputs.configText, d.offset);
  return `${inputs.configFile}:${lc.line}:${lc.column}: ${d.severity} ${d.code}: ${d.message}`;
}

function isConfigFile(p: string): boolean {
  return /\.freeze\.jsonc?$/i.test(p) || /\.json$/i.test(p);
}

async function resolveInputs(args: ParsedArgs): Promise<Inputs> {
  const positional = args.positionals[0]!;
  let configFile = flag(args, 'config') ?? null;
  let modelPath: string | null = positional;
  if (!configFile && isConfigFile(positional)) {
    configFile = positional;
    modelPath = null;
  }
  let config: FreezeConfig;
  let configText: string | undefined;
  let diagnostics: readonly ConfigDiagnostic[] = [];
  if (configFile) {
    try {
      configText = await fsp.readFile(configFile, 'utf8');
    } catch (e) {
      throw new BadInput(`${configFile}: cannot read the config (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const parsed = parseFreezeConfig(configText, configFile);
    diagnostics = parsed.diagnostics;
    if (!parsed.config) return { modelPath: modelPath ?? '', config: defaultFreezeConfig(''), configFile, configText, diagnostics };
    config = parsed.config;
    if (modelPath === null) {
      if (!config.model) return { modelPath: '', config, configFile, configText, diagnostics };
      modelPath = resolveModelPath(configFile, config);
    }
  } else {
    config = defaultFreezeConfig(positional);
  }
  return { modelPath: modelPath!, config: applyFlags(config, args), configFile, configText, diagnostics };
}

function applyFlags(base: FreezeConfig, args: ParsedArgs): FreezeConfig {
  let config = { ...base };
  const runtime = flag(args, 'runtime');
  if (runtime !== undefined) {
    if (!RUNTIME_SETTINGS.includes(runtime as RuntimeSetting)) throw new BadInput(`--runtime must be one of ${RUNTIME_SETTINGS.join(', ')}, not "${runtime}"`);
    config = { ...config, runtime: runtime as RuntimeSetting };
  }
  const syntax = flag(args, 'pattern-syntax');
  if (syntax !== undefined) {
    if (!PATTERN_SYNTAXES.includes(syntax as PatternSyntax)) throw new BadInput(`--pattern-syntax must be one of ${PATTERN_SYNTAXES.join(', ')}, not "${syntax}"`);
    config = { ...config, patternSyntax: syntax as PatternSyntax };
  }
  const training = flag(args, 'training');
  if (training !== undefined) {
    if (training !== 'true' && training !== 'false') throw new BadInput(`--training must be true or false, not "${training}"`);
    config = { ...config, training: training === 'true' };
  }
  const checkPatterns = (name: string, list: string[]) => {
    for (const p of list) {
      const c = compilePattern(p, config.patternSyntax);
      if (!c.ok) throw new BadInput(`--${name} ${JSON.stringify(p)}: ${c.error}`);
    }
    return list;
  };
  const freeze = args.flags.get('freeze');
  if (freeze) config = { ...config, freeze: checkPatterns('freeze', freeze) };
  const train = args.flags.get('train');
  if (train) config = { ...config, train: checkPatterns('train', train) };
  const updateOps = flag(args, 'update-ops');
  if (updateOps !== undefined) {
    let setting: UpdateOpsSetting;
    if (updateOps === 'all' || updateOps === 'none') setting = updateOps;
    else {
      const scopes = updateOps.split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const s of scopes) {
        const c = compilePattern(s, 'regex');
        if (!c.ok) throw new BadInput(`--update-ops scope ${JSON.stringify(s)}: ${c.error}`);
      }
      setting = { scopes };
    }
    config = { ...config, updateOps: setting };
  }
  const overrides = args.flags.get('override');
  if (overrides) {
    const map: Record<string, boolean> = { ...config.trainingOverrides };
    for (const o of overrides) {
      const m = /^(.+)=(true|false)$/.exec(o);
      if (!m) throw new BadInput(`--override takes LAYER=true|false, not "${o}"`);
      map[m[1]!.replace(/\/+$/, '')] = m[2] === 'true';
    }
    config = { ...config, trainingOverrides: map };
  }
  return config;
}
