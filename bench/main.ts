// `npm run bench`: every figure with a baseline measured in the same run (timings are noisy here;
// ratios are what to compare). Sections whose inputs are missing say so instead of inventing numbers.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { coldProcess, fixtureTargets, nodeFloorMs, pythonLoadMs, warmOpenMs } from './readers.bench';
import { repoRoot } from '../test/helpers/paths';

const venv215 = path.join(process.env.FI_VENV_HOME ?? path.join(os.homedir(), '.cache/freeze-inspector/venvs'), 'tf215/bin/python');
const only = process.argv.slice(2);
const want = (s: string) => only.length === 0 || only.includes(s);

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}

function table(rows: (string | number)[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  for (const r of rows) console.log('  ' + r.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  '));
}

async function readers(): Promise<void> {
  console.log('\n## Readers: open + build the IR (structure only; variables.data is never read)');
  const floor = nodeFloorMs();
  console.log(`  baseline: empty node process ${floor.toFixed(0)} ms (the floor of any whole-process figure)`);
  console.log('  anchors from the issue (Netron, whole process, measured on this machine kind): 650 ms for the 2 MB openmv MobileNet, 1,200-1,900 ms for ResNet152/EfficientNetB7 SavedModels');
  const rows: (string | number)[][] = [['model', 'structure', 'data', 'warm ms', 'cold ms', 'cold - floor', 'peak RSS', 'RSS/structure', 'tf.saved_model.load ms', 'ratio']];
  for (const t of fixtureTargets()) {
    const warm = await warmOpenMs(t.path, t.structureBytes > 50e6 ? 3 : 7);
    const cold = coldProcess(['inspect', '--json', t.path], t.structureBytes > 50e6 ? 1 : 3);
    const py = t.label.startsWith('large/') || t.label.startsWith('shared/openmv') ? pythonLoadMs(venv215, t.path) : null;
    rows.push([
      t.label,
      mb(t.structureBytes),
      mb(t.dataBytes),
      Number(warm.toFixed(1)),
      Number(cold.ms.toFixed(0)),
      Number((cold.ms - floor).toFixed(0)),
      `${cold.rssMB.toFixed(0)} MB`,
      t.structureBytes > 20e6 ? `${((cold.rssMB * 1048576) / t.structureBytes).toFixed(2)}x` : '-',
      py ? Number(py.ms.toFixed(0)) : '-',
      py ? `${(py.ms / cold.ms).toFixed(1)}x slower` : '-',
    ]);
  }
  table(rows);
  if (!existsSync(path.join(repoRoot, '.bench/resnet152'))) {
    console.log('  (large models missing: generate them with `$VENV/bin/python python/bench/make_large.py .bench`, see bench/README.md)');
  }
}

async function main(): Promise<void> {
  console.log(`# Freeze Inspector benchmarks (${new Date().toISOString()}, node ${process.version}, ${os.cpus().length} cores)`);
  if (want('readers')) await readers();
  if (want('analysis')) {
    // analysis.bench.ts prints its own table (per model and per 1000 graph nodes).
    console.log('\n## analysis');
    spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'analysis.bench.ts')], { stdio: 'inherit' });
  }
  const sections: [string, string, string][] = [
    ['python', './python.bench', 'benchPython'],
    ['finetune', './finetune.bench', 'benchFinetune'],
  ];
  for (const [name, mod, fn] of sections) {
    if (!want(name)) continue;
    const file = path.join(__dirname, `${mod.slice(2)}.ts`);
    if (!existsSync(file)) continue;
    const m = (await import(mod)) as Record<string, () => Promise<Record<string, number | string>>>;
    console.log(`\n## ${name}`);
    const figures = await m[fn]!();
    for (const [k, v] of Object.entries(figures)) console.log(`  ${k}: ${typeof v === 'number' ? Number(v.toFixed(3)) : v}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
