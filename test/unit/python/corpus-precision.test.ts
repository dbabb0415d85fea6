// Precision/recall of the script rules on real public training scripts (test/python-corpus), against the
// hand labels in labels.json. A finding matches a label when line and code agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { analyzeScriptText } from '../../../src/core/python/analyze';

const corpus = path.resolve(__dirname, '../../python-corpus');
interface Labels {
  files: Record<string, { labels: { line: number; code: string }[] }>;
}

export async function corpusScores(): Promise<{ tp: number; fp: number; fn: number; perFile: { file: string; tp: number; fp: string[]; fn: string[] }[] }> {
  const labels = JSON.parse(readFileSync(path.join(corpus, 'labels.json'), 'utf8')) as Labels;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const perFile: { file: string; tp: number; fp: string[]; fn: string[] }[] = [];
  for (const file of readdirSync(path.join(corpus, 'scripts')).filter((f) => f.endsWith('.py')).sort()) {
    const expected = new Set((labels.files[file]?.labels ?? []).map((l) => `${l.line}:${l.code}`));
    const a = await analyzeScriptText(readFileSync(path.join(corpus, 'scripts', file), 'utf8'));
    const got = new Set(a.findings.map((f) => `${f.range.start.line + 1}:${f.code}`));
    const row = { file, tp: 0, fp: [] as string[], fn: [] as string[] };
    for (const g of got) {
      if (expected.has(g)) row.tp++;
      else row.fp.push(g);
    }
    for (const e of expected) if (!got.has(e)) row.fn.push(e);
    tp += row.tp;
    fp += row.fp.length;
    fn += row.fn.length;
    perFile.push(row);
  }
  return { tp, fp, fn, perFile };
}

test('every corpus script is labelled and names its source and license', () => {
  const labels = JSON.parse(readFileSync(path.join(corpus, 'labels.json'), 'utf8')) as Labels;
  const scripts = readdirSync(path.join(corpus, 'scripts')).filter((f) => f.endsWith('.py'));
  assert.ok(scripts.length >= 25, `the corpus needs at least 25 real scripts, has ${scripts.length}`);
  for (const file of Object.keys(labels.files)) assert.ok(scripts.includes(file), `labels.json names ${file}, which is not in scripts/`);
  for (const file of scripts) {
    assert.ok(labels.files[file], `${file} has no entry in labels.json`);
    const head = readFileSync(path.join(corpus, 'scripts', file), 'utf8').split('\n').slice(0, 4).join('\n');
    assert.match(head, /Source: github\.com\/[\w.-]+\/[\w.-]+, \S+/, `${file}: header must name repository and path`);
    assert.match(head, /License: (MIT|Apache License 2\.0|BSD)/, `${file}: header must name a permissive license`);
  }
});

test('script rules reach precision >= 0.95 and recall >= 0.9 on the labelled corpus', async () => {
  const { tp, fp, fn, perFile } = await corpusScores();
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const detail = perFile.filter((r) => r.fp.length || r.fn.length).map((r) => `${r.file}: fp ${r.fp.join(',') || '-'} fn ${r.fn.join(',') || '-'}`).join('\n');
  assert.ok(precision >= 0.95, `precision ${precision.toFixed(3)} < 0.95\n${detail}`);
  assert.ok(recall >= 0.9, `recall ${recall.toFixed(3)} < 0.9\n${detail}`);
});
