// `freeze-inspector verify PATH --config FILE [--engine tfjs|python] [--json]`: a short real fine-tune with the
// config applied, predicted vs observed change for every variable. A disagreement is a first-class result:
// it is printed first and loudly, and the exit code is 1.
// Exit codes: 0 every prediction agreed, 1 at least one disagreed, 2 bad input / the engine cannot run this model.
import { spawnSync } from 'node:child_process';
import { promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../core/open';
import { isFreezeInspectorError } from '../../core/io/errors';
import { analyze } from '../../core/analysis/analyze';
import { defaultVerifySettings, lineColumn, parseFreezeConfig, resolveModelPath } from '../../core/analysis/freeze-config';
import type { VerifySettings } from '../../core/analysis/types';
import { buildVerifyRequest } from '../../core/finetune/plan';
import type { EngineEvent, VerifyRequest, VerifyResult } from '../../core/finetune/types';
import { resolvePythonInterpreter } from '../../core/finetune/python-engine';
import { EXIT, flag, parseArgs } from '../io';

const USAGE = `usage:
  freeze-inspector verify PATH --config FILE [--engine tfjs|python] [--json]
                          [--steps N] [--batch-size N] [--data PATH] [--python INTERPRETER] [--backend auto|wasm|cpu]
  freeze-inspector verify CONFIG.freeze.json [...]
Runs a short local fine-tune with the freeze config applied and compares, for every variable, the predicted
change with the observed one. Nothing is written into the model's folder.
  --engine tfjs     TensorFlow.js (embedded; default for Keras models)
  --data PATH       train on this data instead of the config's verify.data: a folder of images (PNG, JPEG, BMP,
                    GIF; labels from sub-folder names), a .npy/.npz array, or a .csv file (relative to the current folder)
  --engine python   your TensorFlow, run by python/engine/runner.py (--python, else $FREEZE_INSPECTOR_PYTHON, else python3);
                    the default for TF1 graphs (TF1 SavedModel, .meta + checkpoint), which TensorFlow.js cannot train
exit codes: 0 all predictions agree, 1 a prediction disagreed, 2 bad input or the engine cannot run this model.
`;

class BadInput extends Error {}

export async function runVerify(argv: string[], io: { stdout(s: string): void; stderr(s: string): void }): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (flag(args, 'help')) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof BadInput || isFreezeInspectorError(e)) {
      io.stderr(`error: ${(e as Error).message}\n`);
      const unsupported = (e as { unsupported?: { layer: string; className: string; what: string }[] }).unsupported;
      if (unsupported) for (const u of unsupported) io.stderr(`  unsupported: ${u.layer || '(model)'} ${u.className}: ${u.what}\n`);
      if (e instanceof BadInput) io.stderr(`\n${USAGE}`);
      return EXIT.badInput;
    }
    throw e;
  }
}

function positiveInt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BadInput(`--${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** --data PATH: the kind from what the path is (a folder: images; .npy/.npz; .csv), made absolute from the current folder. */
function dataFlag(v: string | undefined): VerifySettings['data'] | undefined {
  if (v === undefined) return undefined;
  const abs = path.resolve(v);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    throw new BadInput(`--data ${v}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
  }
  if (isDir) return { kind: 'images', path: abs };
  if (/\.(npy|npz)$/i.test(abs)) return { kind: 'npy', path: abs };
  if (/\.csv$/i.test(abs)) return { kind: 'csv', path: abs };
  throw new BadInput(`--data ${v}: expected a folder of images, a .npy/.npz file or a .csv file`);
}

async function run(argv: string[], io: { stdout(s: string): void; stderr(s: string): void }): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  const json = flag(args, 'json') === 'true';
  const engineFlag = flag(args, 'engine');
  if (engineFlag !== undefined && engineFlag !== 'tfjs' && engineFlag !== 'python') throw new BadInput(`--engine must be tfjs or python, got ${JSON.stringify(engineFlag)}`);
  const backend = flag(args, 'backend') ?? 'auto';
  if (!['auto', 'wasm', 'cpu', 'tensorflow'].includes(backend)) throw new BadInput(`--backend must be auto, wasm, cpu or tensorflow, got ${JSON.stringify(backend)}`);

  let configFile = flag(args, 'config');
  let modelArg: string | undefined = args.positionals[0];
  if (!configFile && modelArg && /\.freeze\.json$/i.test(modelArg)) {
    configFile = modelArg;
    modelArg = undefined;
  }
  if (!configFile) throw new BadInput('verify needs a freeze config (--config FILE)');
  let text: string;
  try {
    text = await fsp.readFile(configFile, 'utf8');
  } catch (e) {
    throw new BadInput(`cannot read the config ${configFile}: ${(e as Error).message}`);
  }
  const parsed = parseFreezeConfig(text, configFile);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  for (const d of errors) {
    const lc = lineColumn(text, d.offset);
    io.stderr(`${configFile}:${lc.line}:${lc.column}: error ${d.code}: ${d.message}\n`);
  }
  if (!parsed.config || errors.length > 0) return EXIT.badInput;
  const config = parsed.config;
  const modelPath = modelArg ?? resolveModelPath(configFile, config);

  const base: VerifySettings = config.verify ?? defaultVerifySettings();
  const settings: VerifySettings = {
    ...base,
    steps: positiveInt(flag(args, 'steps'), 'steps') ?? base.steps,
    batchSize: positiveInt(flag(args, 'batch-size'), 'batch-size') ?? base.batchSize,
    data: dataFlag(flag(args, 'data')) ?? base.data,
  };

  const handle = await openModel(modelPath);
  let request: VerifyRequest;
  try {
    const analysis = analyze(handle.model, config, text);
    request = buildVerifyRequest({ requestId: `cli-${process.pid}`, model: handle.model, config, configPath: path.resolve(configFile), analysis, settings });
  } finally {
    await handle.close();
  }
  const interpreter = resolvePythonInterpreter(flag(args, 'python'));
  let engineName = engineFlag ?? 'tfjs';
  if (engineFlag === undefined && request.runtime === 'tf1-graph') {
    // TF1 graphs have no Keras structure for TensorFlow.js: only the user's TensorFlow can train them.
    const why = tensorflowMissing(interpreter);
    if (why !== null) {
      io.stderr(`error: ${modelPath}: a TF1 graph cannot be rebuilt in TensorFlow.js, so it is verified with your TensorFlow (the Python engine), but ${why}. Pass --python INTERPRETER (a Python with TensorFlow), or set $FREEZE_INSPECTOR_PYTHON.\n`);
      return EXIT.badInput;
    }
    engineName = 'python';
  }

  const onEvent = (e: EngineEvent): void => {
    if (json) return;
    if (e.type === 'step') io.stderr(`step ${e.step}/${settings.steps}: loss ${e.loss.toPrecision(6)} (${e.ms.toFixed(0)} ms)\n`);
    else if (e.type === 'progress' && e.phase !== 'training') io.stderr(`${e.message}\n`);
  };
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  let result: VerifyResult;
  try {
    if (engineName === 'python') {
      const { PythonEngine } = await import('../../core/finetune/python-engine');
      const engine = new PythonEngine({ interpreter });
      result = await engine.run(request, onEvent, ac.signal);
    } else {
      const { runTfjsVerification } = await import('../../core/finetune/tfjs/tfjs-engine');
      result = await runTfjsVerification(request, { emit: onEvent, signal: ac.signal, open: openModel, backend: { prefer: backend as 'auto' } });
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }

  if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout(renderText(result));
  return result.disagreements > 0 ? EXIT.findings : EXIT.ok;
}

function yesNo(b: boolean | null): string {
  return b === null ? '?' : b ? 'changes' : 'unchanged';
}

export function renderText(r: VerifyResult): string {
  const lines: string[] = [];
  const bad = r.variables.filter((v) => v.predicted !== null && !v.agree);
  if (bad.length > 0) {
    lines.push(`!!! ${bad.length} PREDICTION(S) DISAGREE WITH WHAT ${r.engine === 'python' ? 'TENSORFLOW' : 'THE ENGINE'} DID !!!`);
    for (const v of bad) lines.push(`!!! ${v.name} [${v.key}]: predicted ${yesNo(v.predicted)} (${v.predictedReason}), observed ${v.observed ? 'changed' : 'unchanged'} (max |delta| ${v.maxAbsDelta.toExponential(2)})${v.note ? ` - note: ${v.note}` : ''}`);
    lines.push('');
  }
  lines.push(`engine: ${r.engineDetail}`);
  lines.push(`runtime: ${r.runtime}; ${r.steps} step(s), batch ${r.batchSize}, ${r.data}`);
  lines.push(`loss: ${r.loss.map((l) => l.toPrecision(5)).join(' -> ')}`);
  lines.push(`agreement: ${(r.agreement * 100).toFixed(1)}% (${r.disagreements} disagreement(s))`);
  lines.push('');
  lines.push('variable | predicted | observed | max |delta| | rel');
  for (const v of r.variables) {
    lines.push(`${v.agree ? ' ' : '!'} ${v.name} [${v.key}] | ${yesNo(v.predicted)} | ${v.observed ? 'changed' : 'unchanged'} | ${v.maxAbsDelta.toExponential(2)} | ${v.relativeDelta.toExponential(2)}`);
  }
  if (r.batchNorms.length > 0) {
    lines.push('');
    lines.push('BatchNorm | normalized with | moving mean drift | moving var drift | train/inference gap before -> after');
    for (const b of r.batchNorms) {
      lines.push(`${b.layer} | ${b.normalizedWith}${b.updatedMovingStats ? ' (updating)' : ''} | ${b.movingMeanDrift.toExponential(2)} | ${b.movingVarianceDrift.toExponential(2)} | ${b.trainInferenceGapBefore.toPrecision(3)} -> ${b.trainInferenceGapAfter.toPrecision(3)}`);
    }
  }
  lines.push('');
  // The Python engine omits the gap for a TF1 graph whose output tensor it cannot identify.
  const gap = r as { modelTrainInferenceGapBefore?: number; modelTrainInferenceGapAfter?: number };
  if (typeof gap.modelTrainInferenceGapBefore === 'number' && typeof gap.modelTrainInferenceGapAfter === 'number') {
    lines.push(`model output, training vs inference mode (mean |diff|): ${gap.modelTrainInferenceGapBefore.toPrecision(3)} -> ${gap.modelTrainInferenceGapAfter.toPrecision(3)}`);
  } else {
    lines.push('model output, training vs inference mode: not measured (no output tensor identified in the graph)');
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/** Why `interpreter` cannot run TensorFlow (found without importing it: a spec lookup takes milliseconds), or null. */
export function tensorflowMissing(interpreter: string): string | null {
  const r = spawnSync(interpreter, ['-c', 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("tensorflow") else 3)'], { stdio: 'ignore', timeout: 30_000 });
  if (r.error) return `the Python interpreter ${JSON.stringify(interpreter)} cannot be started (${r.error.message})`;
  if (r.status !== 0) return `${JSON.stringify(interpreter)} has no TensorFlow installed`;
  return null;
}
