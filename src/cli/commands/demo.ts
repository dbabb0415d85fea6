// `freeze-inspector demo`: the main job on the bundled seed sample. Analyzes samples/seed-tf1 (a real TF1
// training graph: scopes A-D, A/B/C excluded from var_list, is_training=True, train op under
// control_dependencies(UPDATE_OPS)) and answers "will BatchNorm train if the layers are frozen but
// is_training is True?", next to what real TensorFlow observed on the same model.
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openModel } from '../../core/open';
import { isFreezeInspectorError } from '../../core/io/errors';
import { analyze, answerSeedQuestion, parseFreezeConfig, renderReport, resolveModelPath } from '../../core/analysis';
import { EXIT, type CliIO } from '../io';
import { commands } from './registry';

/** The package root, whether we run bundled (dist/cli.js) or from source (src/cli/commands). */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'samples', 'seed-tf1'))) return dir;
    if (path.dirname(dir) === dir) throw new Error('samples/seed-tf1 not found next to the CLI');
  }
}

interface Observation {
  tensorflow: string;
  variables: { name: string; changed: boolean }[];
}

export async function runDemo(_argv: string[], io: CliIO): Promise<number> {
  const root = packageRoot();
  const configFile = path.join(root, 'samples/seed-tf1/seed.freeze.json');
  const text = await fsp.readFile(configFile, 'utf8');
  const { config, diagnostics } = parseFreezeConfig(text, configFile);
  if (!config) {
    for (const d of diagnostics) io.stderr(`${d.message}\n`);
    return EXIT.badInput;
  }
  let handle;
  try {
    handle = await openModel(resolveModelPath(configFile, config));
  } catch (e) {
    if (isFreezeInspectorError(e)) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
  try {
    const result = analyze(handle.model, config, text);
    const rel = (p: string) => path.relative(process.cwd(), p) || '.';
    io.stdout('Q: Will BatchNorm train if the layers are frozen but is_training is True?\n');
    io.stdout(`   (${rel(configFile)}: freeze ${JSON.stringify(config.freeze)}, is_training=${config.training ? 'True' : 'False'}, runtime ${result.runtime})\n\n`);
    io.stdout(`A: ${answerSeedQuestion(result)}\n\n`);
    io.stdout(renderReport(result, { modelPath: rel(handle.model.path), configPath: rel(configFile) }));
    const observed = path.join(root, 'samples/seed-tf1/observed.json');
    if (existsSync(observed)) {
      const obs = JSON.parse(await fsp.readFile(observed, 'utf8')) as Observation;
      const byName = new Map(result.variables.map((v) => [v.name, v]));
      const agree = obs.variables.filter((o) => byName.get(o.name)?.changes === o.changed).length;
      io.stdout(`\nProof: real TensorFlow ${obs.tensorflow} ran 2 steps of this config on this model (samples/seed-tf1/observed.json):\n`);
      io.stdout(`  predicted = observed for ${agree} of ${obs.variables.length} variables.\n`);
      const moved = obs.variables.filter((o) => /^[ABC]\/batch_normalization\/moving_/.test(o.name) && o.changed).map((o) => o.name);
      if (moved.length) io.stdout(`  moving statistics of frozen scopes that changed: ${moved.join(', ')}\n`);
    }
    await verifyWithLocalTensorflow(configFile, io);
    return EXIT.ok;
  } finally {
    await handle.close();
  }
}

/** A Python interpreter with TensorFlow, if this machine has one (checked without importing TensorFlow). */
function findTensorflowPython(): string | null {
  const candidates = [
    process.env.FREEZE_INSPECTOR_PYTHON,
    path.join(process.env.FI_VENV_HOME ?? path.join(os.homedir(), '.cache/freeze-inspector/venvs'), 'tf215/bin/python'),
    'python3',
  ].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("tensorflow") else 3)'], { stdio: 'ignore', timeout: 30_000 });
    if (!r.error && r.status === 0) return py;
  }
  return null;
}

/** The second half of the main job: the same config, run for real with the TensorFlow on this machine. */
async function verifyWithLocalTensorflow(configFile: string, io: CliIO): Promise<void> {
  const rel = path.relative(process.cwd(), configFile) || configFile;
  const python = findTensorflowPython();
  if (!python) {
    io.stdout(`\nVerify it with your own TensorFlow (none found on this machine: set FREEZE_INSPECTOR_PYTHON):\n  freeze-inspector verify ${rel} --engine python --python /path/to/python\n`);
    return;
  }
  io.stdout(`\nVerification: 3 real training steps of this config with ${python} (Python engine):\n`);
  const verify = await commands.verify!();
  const code = await verify([configFile, '--engine', 'python', '--python', python], {
    stdout: (s) => io.stdout(s.replace(/^/gm, '  ')),
    stderr: (s) => io.stdout(s.replace(/^/gm, '  ')),
  });
  if (code === 2) io.stdout(`  (verification could not run here; the analysis above stands)\n`);
}
