// Runs every unit/integration test with node's own test runner (TypeScript through tsx).
// usage: node scripts/run-tests.mjs [substring filters...]
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filters = process.argv.slice(2);
const dirs = ['test/unit', 'test/integration', 'test/robustness', 'test/oracle'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const e of entries) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.ts$/.test(e)) files.push(path.relative(root, p));
  }
}
for (const d of dirs) walk(path.join(root, d));
const selected = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...selected], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
