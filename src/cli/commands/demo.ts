// `freeze-inspector demo`: the main job on the bundled seed sample. Analyzes samples/seed-tf1 (a real TF1
// training graph: scopes A-D, A/B/C excluded from var_list, is_training=True, train op under
// control_dependencies(UPDATE_OPS)) and answers "will BatchNorm train if the layers are frozen but
// is_training is True?", next to what real TensorFlow observed on the same model.
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../core/open';
import { isFreezeInspectorError } from '../../core/io/errors';
import { analyze, answerSeedQuestion, parseFreezeConfig, renderReport, resolveModelPath } from '../../core/analysis';
import { EXIT, type CliIO } from '../io';

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
    return EXIT.ok;
  } finally {
    await handle.close();
  }
}
