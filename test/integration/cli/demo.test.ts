// The README's main job: `freeze-inspector demo` on the bundled seed sample answers the question and
// shows that the prediction equals what real TensorFlow observed on the same model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import { repoRoot } from '../../helpers/paths';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

test('the sample ships the oracle observation of the seed case, unchanged', () => {
  const sample = JSON.parse(readFileSync(path.join(repoRoot, 'samples/seed-tf1/observed.json'), 'utf8')) as unknown;
  const oracle = JSON.parse(readFileSync(path.join(repoRoot, 'test/oracle/observations/tf1_seed_all_updates.json'), 'utf8')) as unknown;
  assert.deepEqual(sample, oracle, 'copy test/oracle/observations/tf1_seed_all_updates.json to samples/seed-tf1/observed.json');
  const model = readFileSync(path.join(repoRoot, 'samples/seed-tf1/model/saved_model/saved_model.pb'));
  const fixture = readFileSync(path.join(repoRoot, 'test/fixtures/generated/tf1_seed/saved_model/saved_model.pb'));
  assert.ok(model.equals(fixture), 'the sample model is the tf1_seed fixture the oracle ran');
});

test('demo answers the seed question and agrees with real TensorFlow on every variable', { timeout: 300_000 }, async () => {
  const { code, out, err } = await run(['demo']);
  assert.equal(code, 0, err);
  assert.match(out, /Q: Will BatchNorm train if the layers are frozen but is_training is True\?/);
  assert.match(out, /A: YES, partly: in A\/batch_normalization, B\/batch_normalization, C\/batch_normalization gamma\/beta stay frozen, but moving_mean\/moving_variance change/);
  assert.match(out, /real TensorFlow 2\.15\.1 ran 2 steps/);
  assert.match(out, /predicted = observed for 24 of 24 variables/);
  assert.match(out, /frozen-bn-stats-drift/);
  // The second half of the main job: with a TensorFlow on this machine (CI installs one), the same config
  // is run for real by the Python engine and must agree; without one the demo says how to run it.
  const tfHere = existsSync(path.join(os.homedir(), '.cache/freeze-inspector/venvs/tf215/bin/python')) || !!process.env.FREEZE_INSPECTOR_PYTHON;
  if (tfHere || process.env.FREEZE_INSPECTOR_REQUIRE_TF === '1') {
    assert.match(out, /Verification: 3 real training steps/);
    assert.match(out, /agreement: 100\.0% \(0 disagreement\(s\)\)/);
  } else {
    assert.match(out, /Verify it with your own TensorFlow/);
  }
});

test('inspect prints the tree and a summary line; --json carries the documented fields', async () => {
  const model = path.join(repoRoot, 'samples/seed-tf1/model/saved_model');
  const text = await run(['inspect', model]);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /24 variables \(16 trainable, 8 frozen\), 4 BatchNorm layers \(0 frozen\)/);
  const json = await run(['inspect', '--json', model]);
  const j = JSON.parse(json.out) as Record<string, unknown> & { variables: Record<string, unknown>[]; layers: Record<string, unknown>[]; batchNorms: Record<string, unknown>[] };
  for (const k of ['format', 'tensorflowVersion', 'kerasVersion', 'variables', 'layers', 'batchNorms', 'warnings']) assert.ok(k in j, k);
  for (const k of ['key', 'name', 'shape', 'dtype', 'savedTrainable', 'trainable', 'layer', 'role', 'optimizerSlot']) assert.ok(k in j.variables[0]!, k);
  for (const k of ['path', 'className', 'trainable', 'configTrainable']) assert.ok(k in j.layers[0]!, k);
  for (const k of ['layer', 'momentum', 'epsilon', 'center', 'scale', 'gamma', 'beta', 'movingMean', 'movingVariance']) assert.ok(k in j.batchNorms[0]!, k);
  assert.equal(j.format, 'saved-model-tf1');
  assert.equal(j.tensorflowVersion, '2.15.1');
});

test('bad input exits 2 with the file named', async () => {
  const r = await run(['inspect', path.join(repoRoot, 'README.md')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /README\.md/);
  const u = await run(['frobnicate']);
  assert.equal(u.code, 2);
});
