// The predictions against real TensorFlow. Every case in test/oracle/cases/*.freeze.json was run by the
// oracle (python/oracle) with real TensorFlow, which wrote test/oracle/observations/<case>.json: which
// variables changed in a short training run and what each BatchNorm did. Here the same model is opened by
// our readers, analysed under the same config, and every variable's `changes` must equal what TF observed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../../src/core/open';
import { analyze, parseFreezeConfig, resolveModelPath } from '../../../src/core/analysis/index';
import type { AnalysisResult, VariablePrediction } from '../../../src/core/analysis/types';

const repoRoot = path.resolve(__dirname, '../../..');
const casesDir = path.join(repoRoot, 'test/oracle/cases');
const observationsDir = path.join(repoRoot, 'test/oracle/observations');

interface Observation {
  case: string;
  fixture: string;
  runtime: string;
  variables: { name: string; key?: string; changed: boolean; maxAbsDelta?: number }[];
  batchNorms?: { layer: string; normalizesWith?: 'batch' | 'moving'; movingStatsChanged: boolean }[];
}

const cases = existsSync(casesDir) ? readdirSync(casesDir).filter((f) => f.endsWith('.freeze.json')).sort() : [];
const tally = { cases: 0, variables: 0, agree: 0, batchNorms: 0, bnAgree: 0, disagreements: [] as string[] };

test('there are oracle cases to check', () => {
  assert.ok(cases.length > 0, `no *.freeze.json in ${path.relative(repoRoot, casesDir)}`);
});

function findPrediction(result: AnalysisResult, v: Observation['variables'][number]): VariablePrediction | undefined {
  if (v.key !== undefined) {
    const byKey = result.variables.find((p) => p.key === v.key);
    if (byKey) return byKey;
  }
  const byName = result.variables.filter((p) => p.name === v.name);
  return byName.length === 1 ? byName[0] : undefined;
}

for (const file of cases) {
  const name = file.slice(0, -'.freeze.json'.length);
  test(`oracle case ${name}`, async () => {
    const obsFile = path.join(observationsDir, `${name}.json`);
    assert.ok(existsSync(obsFile), `case ${name} has no observation (${path.relative(repoRoot, obsFile)}): run the oracle`);
    const observation = JSON.parse(readFileSync(obsFile, 'utf8')) as Observation;
    const configFile = path.join(casesDir, file);
    const text = readFileSync(configFile, 'utf8');
    const parsed = parseFreezeConfig(text, configFile);
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors, [], `${file} has config errors`);
    const handle = await openModel(resolveModelPath(configFile, parsed.config!));
    try {
      const result = analyze(handle.model, parsed.config!, text);
      tally.cases++;
      const problems: string[] = [];
      if (observation.runtime) {
        assert.equal(result.runtime, observation.runtime, `${name}: runtime (${result.runtimeWhy})`);
      }
      for (const v of observation.variables) {
        tally.variables++;
        const p = findPrediction(result, v);
        if (!p) {
          problems.push(`${v.name}: no prediction (observed changed=${v.changed})`);
          continue;
        }
        if (p.changes === v.changed) tally.agree++;
        else problems.push(`${v.name}: predicted changes=${p.changes} (${p.reason}: ${p.explanation}) but TF observed changed=${v.changed} (max |delta| ${v.maxAbsDelta ?? '?'})`);
      }
      for (const b of observation.batchNorms ?? []) {
        tally.batchNorms++;
        const p = result.batchNorms.find((x) => x.layer === b.layer);
        if (!p) {
          problems.push(`BatchNorm ${b.layer}: not found by the analysis`);
          continue;
        }
        let ok = p.movingStatsUpdate === b.movingStatsChanged;
        if (b.normalizesWith !== undefined && p.normalizesWith !== b.normalizesWith) ok = false;
        if (ok) tally.bnAgree++;
        else problems.push(`BatchNorm ${b.layer}: predicted ${p.normalizesWith}/${p.movingStatsUpdate ? 'updates' : 'no update'}, TF observed ${b.normalizesWith ?? '?'}/${b.movingStatsChanged ? 'updates' : 'no update'}`);
      }
      tally.disagreements.push(...problems.map((p) => `${name}: ${p}`));
      assert.deepEqual(problems, [], `${name}: predictions disagree with real TensorFlow`);
    } finally {
      await handle.close();
    }
  });
}

after(() => {
  const pct = (a: number, n: number) => (n === 0 ? 'n/a' : `${((100 * a) / n).toFixed(1)}%`);
  console.log(
    `# oracle agreement: ${tally.agree}/${tally.variables} variables (${pct(tally.agree, tally.variables)}), ` +
      `${tally.bnAgree}/${tally.batchNorms} BatchNorm layers (${pct(tally.bnAgree, tally.batchNorms)}) over ${tally.cases}/${cases.length} cases`,
  );
  for (const d of tally.disagreements) console.log(`#   ${d}`);
});
