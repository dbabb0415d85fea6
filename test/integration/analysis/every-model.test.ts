// analyze() on every real model we have (generated fixtures and, when present, the shared real models),
// under the configs that stress each path: no throw, one prediction per model variable, every BatchNorm
// predicted, fixes that apply cleanly to a config text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../../src/core/open';
import { analyze, applyConfigEdits, parseFreezeConfig, toSarif } from '../../../src/core/analysis/index';
import type { FreezeConfig } from '../../../src/core/analysis/types';
import { config, generatedDir, repoRoot } from './helpers';

const sharedDir = path.resolve(repoRoot, '../shared/fixtures/real');

function targets(): { label: string; path: string }[] {
  const out: { label: string; path: string }[] = [];
  if (existsSync(path.join(generatedDir, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(path.join(generatedDir, 'manifest.json'), 'utf8')) as { fixtures: { name: string; artifacts: { path: string }[] }[] };
    for (const f of manifest.fixtures) for (const a of f.artifacts) out.push({ label: `${f.name} (${path.basename(a.path)})`, path: path.join(repoRoot, a.path) });
  }
  if (existsSync(sharedDir)) {
    for (const name of readdirSync(sharedDir).sort()) {
      const dir = path.join(sharedDir, name);
      const files = readdirSync(dir);
      const h5 = files.find((f) => f.endsWith('.h5'));
      if (files.includes('saved_model.pb') || files.includes('saved_model.pbtxt')) out.push({ label: `shared/${name}`, path: dir });
      else if (h5) out.push({ label: `shared/${name}`, path: path.join(dir, h5) });
    }
  }
  return out;
}

const CONFIGS: Record<string, Partial<FreezeConfig>> = {
  default: {},
  'freeze half, inference': { freeze: ['^[a-m]', 'nothing_matches_this'], training: false },
  'allow-list, all unfrozen, no updates': { train: ['bn|batch_norm|BatchNorm'], baseTrainable: 'all', updateOps: 'none' },
  'saved train op, overrides': { useSavedTrainOp: true, trainingOverrides: { base: false, A: false }, patternSyntax: 'glob', freeze: ['*'] },
};

const list = targets();
test('there are models to analyse', { skip: list.length === 0 && 'no fixtures' }, () => assert.ok(list.length > 0));

for (const t of list) {
  test(`analyze ${t.label}`, async () => {
    let handle;
    try {
      handle = await openModel(t.path);
    } catch (e) {
      // Readers are tested elsewhere; a model they cannot open is not this test's subject.
      return void assert.ok((e as Error).name === 'ModelReadError', String(e));
    }
    const model = handle.model;
    await handle.close();
    for (const [name, over] of Object.entries(CONFIGS)) {
      const cfg = config(over);
      const result = analyze(model, cfg);
      const modelVars = model.variables.filter((v) => !v.optimizerSlot);
      for (const v of modelVars) assert.ok(result.variables.some((p) => p.key === v.key), `${name}: no prediction for ${v.key}`);
      assert.equal(result.batchNorms.length, model.batchNorms.length, name);
      for (const b of result.batchNorms) assert.ok(b.explanation.length > 20, `${name}: ${b.layer} explanation`);
      const text = JSON.stringify({ model: 'm', ...over }, null, 2);
      for (const f of result.findings) {
        for (const fix of f.fixes) {
          const after = parseFreezeConfig(applyConfigEdits(text, fix.edits), 'x.freeze.json');
          assert.deepEqual(after.diagnostics.filter((d) => d.severity === 'error'), [], `${name}: fix "${fix.title}" breaks the config`);
        }
      }
      assert.ok(JSON.stringify(toSarif([{ result, modelUri: 'm', configUri: 'c.freeze.json', configText: text }])).length > 0);
    }
  });
}
