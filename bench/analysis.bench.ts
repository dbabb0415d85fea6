// Analysis benchmark: analyze() time on every model available (the generated fixtures, the shared real
// models and the large benchmark-only models in .bench/), and the per-call cost of the TF1 reachability
// (index built once, then one BFS + deadness pass per config change), reported per 1000 graph nodes so the
// linear cost is visible across graph sizes. Run: npx tsx bench/analysis.bench.ts
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../src/core/open';
import { analyze, defaultFreezeConfig, GraphIndex } from '../src/core/analysis/index';
import { analyzeTf1Updates } from '../src/core/analysis/runtimes/tf1-graph';
import type { FreezeConfig } from '../src/core/analysis/types';
import type { Model } from '../src/core/model/ir';
import { fixtureTargets } from './readers.bench';
import { generatedFixtures } from '../test/helpers/paths';

/** Minimum over runs: the uncontended cost (medians swing with other processes on a shared machine). */
function time(fn: () => void, runs: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return Math.min(...t);
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A config freezing the first half of the top-level scopes (TF1) or layers (Keras) with one regex, as a user would. */
function halfFrozen(model: Model): FreezeConfig {
  const base = defaultFreezeConfig('bench');
  if (model.tf1Graph) {
    const scopes = [...new Set(model.variables.filter((v) => !v.optimizerSlot).map((v) => v.name.split('/')[0]!))];
    return { ...base, freeze: [`^(?:${scopes.slice(0, Math.floor(scopes.length / 2)).map(esc).join('|')})/`] };
  }
  const top = model.layers.filter((l) => l.parent !== null && !l.path.includes('/'));
  return { ...base, freeze: [`^(?:${top.slice(0, Math.floor(top.length / 2)).map((l) => esc(l.path)).join('|')})$`] };
}

async function main(): Promise<void> {
  const targets = fixtureTargets();
  const extra = ['tf1_seed/saved_model', 'tf1_slim/saved_model', 'k3_nested_frozen_base/k3_nested_frozen_base.keras'];
  for (const e of extra) {
    const p = path.join(generatedFixtures, e);
    if (existsSync(p) && !targets.some((t) => t.path === p)) targets.push({ label: `generated/${e.split('/')[0]}`, path: p, structureBytes: 0, dataBytes: 0 });
  }
  console.log('analyze(): fastest of warm runs, model already open (config: first half frozen with one regex)');
  console.log('model'.padEnd(38), 'layers'.padStart(6), 'vars'.padStart(6), 'BNs'.padStart(5), 'nodes'.padStart(8), 'analyze ms'.padStart(11), 'index ms'.padStart(9), 'reach ms'.padStart(9), 'reach us/1k nodes'.padStart(18));
  for (const t of targets) {
    let model: Model;
    try {
      const h = await openModel(t.path);
      model = h.model;
      await h.close();
    } catch (e) {
      console.log(t.label.padEnd(38), `cannot open: ${(e as Error).message}`);
      continue;
    }
    const config = halfFrozen(model);
    const runs = model.variables.length > 2000 ? 10 : 30;
    const analyzeMs = time(() => analyze(model, config), runs);
    let indexMs = NaN;
    let reachMs = NaN;
    const nodes = model.tf1Graph?.nodes.length ?? 0;
    if (model.tf1Graph) {
      const g = model.tf1Graph;
      indexMs = time(() => new GraphIndex(g), runs); // analyze() itself caches it per graph (graphIndexFor)
      const index = new GraphIndex(g);
      // What the editor pays per config edit: reachability on the prebuilt index.
      reachMs = time(() => analyzeTf1Updates(model, { ...config, training: true }, index), runs);
    }
    const perK = nodes ? ((reachMs * 1000) / (nodes / 1000)).toFixed(1) : '';
    console.log(
      t.label.padEnd(38),
      String(model.layers.length).padStart(6),
      String(model.variables.length).padStart(6),
      String(model.batchNorms.length).padStart(5),
      String(nodes).padStart(8),
      analyzeMs.toFixed(2).padStart(11),
      (Number.isNaN(indexMs) ? '' : indexMs.toFixed(2)).padStart(9),
      (Number.isNaN(reachMs) ? '' : reachMs.toFixed(2)).padStart(9),
      perK.padStart(18),
    );
  }
}

void main();
