// The TensorFlow.js engine against real TensorFlow: for every Keras case of the oracle matrix
// (test/oracle/cases/*.freeze.json) with a real-TF observation (test/oracle/observations/), the engine's
// changed/unchanged set must equal TensorFlow's for every variable. Same steps, batch size and learning rate
// as the oracle (2 SGD steps, batch 8, lr 0.1; the data differ, which cannot change which variables move).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { parseFreezeConfig, resolveModelPath } from '../../../src/core/analysis/freeze-config';
import { buildVerifyRequest } from '../../../src/core/finetune/plan';
import { runTfjsVerification } from '../../../src/core/finetune/tfjs/tfjs-engine';
import { isFreezeInspectorError } from '../../../src/core/io/errors';

const casesDir = path.join(repoRoot, 'test/oracle/cases');
const obsDir = path.join(repoRoot, 'test/oracle/observations');

interface Observation {
  runtime: string;
  steps: number;
  learningRate: number;
  batch: number;
  variables: { name: string; key: string | null; changed: boolean }[];
}

const cases = existsSync(casesDir) ? readdirSync(casesDir).filter((f) => f.endsWith('.freeze.json')).sort() : [];
let compared = 0;
let equalVariables = 0;
let totalVariables = 0;
const refused: string[] = [];

for (const file of cases) {
  const name = file.replace(/\.freeze\.json$/, '');
  const cfgPath = path.join(casesDir, file);
  const raw = JSON.parse(readFileSync(cfgPath, 'utf8')) as { runtime?: string };
  if (raw.runtime !== 'tf2-keras' && raw.runtime !== 'keras3') continue; // TF1 graphs cannot be rebuilt in tfjs
  test(`tfjs engine vs real TensorFlow: ${name}`, async (t) => {
    const obsPath = path.join(obsDir, `${name}.json`);
    if (!existsSync(obsPath)) {
      t.skip(`no real-TF observation yet (${path.relative(repoRoot, obsPath)})`);
      return;
    }
    const obs = JSON.parse(readFileSync(obsPath, 'utf8')) as Observation;
    const text = readFileSync(cfgPath, 'utf8');
    const parsed = parseFreezeConfig(text, cfgPath);
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    if (!parsed.config || errors.length > 0) {
      t.skip(`the config uses values parseFreezeConfig rejects (${errors.map((e) => e.message).join('; ')}): the product cannot run it`);
      return;
    }
    const config = parsed.config;
    const handle = await openModel(resolveModelPath(cfgPath, config));
    const analysis = analyze(handle.model, config, text);
    const request = buildVerifyRequest({
      requestId: name,
      model: handle.model,
      config,
      configPath: cfgPath,
      analysis,
      settings: { steps: obs.steps, batchSize: obs.batch, optimizer: 'sgd', learningRate: obs.learningRate, seed: 4321, data: { kind: 'synthetic' } },
    });
    await handle.close();
    let result;
    try {
      result = await runTfjsVerification(request, { emit: () => {}, open: openModel, backend: { prefer: (process.env.FREEZE_INSPECTOR_TEST_BACKEND as 'wasm' | 'tensorflow' | undefined) ?? 'wasm' } });
    } catch (e) {
      // Subclassed models have no functional topology: the engine must refuse clearly, never guess.
      assert.ok(isFreezeInspectorError(e), `unexpected ${String(e)}`);
      assert.equal(e.reason, 'unsupported-model');
      assert.match(e.message, /only Functional and Sequential models can be rebuilt/);
      refused.push(name);
      return;
    }
    const ours = new Map(result.variables.map((v) => [v.key, v.observed]));
    const mismatches: string[] = [];
    for (const v of obs.variables) {
      if (v.key === null) continue;
      const mine = ours.get(v.key);
      totalVariables++;
      if (mine === v.changed) equalVariables++;
      else mismatches.push(`${v.name}: TF ${v.changed ? 'changed' : 'unchanged'}, tfjs ${mine === undefined ? 'not observed' : mine ? 'changed' : 'unchanged'}`);
    }
    compared++;
    assert.deepEqual(mismatches, [], `tfjs disagrees with real TensorFlow on ${mismatches.length} variable(s)`);
  });
}

test('summary: agreement of the tfjs engine with real TensorFlow', (t) => {
  t.diagnostic(`cases compared: ${compared}; variables equal: ${equalVariables}/${totalVariables} (${totalVariables ? ((100 * equalVariables) / totalVariables).toFixed(1) : '-'}%); refused (subclassed): ${refused.join(', ') || 'none'}`);
});
