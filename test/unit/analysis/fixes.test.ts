import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfigEdits, configEditsToTextEdits, coverScopes, patternsExcluding } from '../../../src/core/analysis/fixes';
import { compilePattern } from '../../../src/core/analysis/patterns';
import { parseFreezeConfig } from '../../../src/core/analysis/freeze-config';

const TEXT = `{
  // seed config
  "model": "./m",
  "freeze": ["A", "B", "C"]
}
`;

function applyText(text: string, edits: { offset: number; length: number; newText: string }[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.offset - a.offset)) out = out.slice(0, e.offset) + e.newText + out.slice(e.offset + e.length);
  return out;
}

test('set creates missing objects, keeps comments and indentation', () => {
  const out = applyConfigEdits(TEXT, [
    { kind: 'set', path: ['trainingOverrides', 'A'], value: false },
    { kind: 'set', path: ['updateOps'], value: { scopes: ['D/'] } },
  ]);
  assert.match(out, /\/\/ seed config/);
  const cfg = parseFreezeConfig(out, 'x').config!;
  assert.deepEqual(cfg.trainingOverrides, { A: false });
  assert.deepEqual(cfg.updateOps, { scopes: ['D/'] });
  assert.match(out, /\n {2}"updateOps"/);
});

test('insert appends to an array (or creates it), remove deletes an item', () => {
  const inserted = parseFreezeConfig(applyConfigEdits(TEXT, [{ kind: 'insert', path: ['freeze', 3], value: '^D/dense/' }]), 'x').config!;
  assert.deepEqual(inserted.freeze, ['A', 'B', 'C', '^D/dense/']);
  const created = parseFreezeConfig(applyConfigEdits(TEXT, [{ kind: 'insert', path: ['train', 0], value: 'D' }]), 'x').config!;
  assert.deepEqual(created.train, ['D']);
  const removed = parseFreezeConfig(applyConfigEdits(TEXT, [{ kind: 'remove', path: ['freeze', 1] }]), 'x').config!;
  assert.deepEqual(removed.freeze, ['A', 'C']);
});

test('text edits apply to the original text and give the same result', () => {
  const edits = [
    { kind: 'set' as const, path: ['trainingOverrides', 'A'], value: false },
    { kind: 'remove' as const, path: ['freeze', 0] },
  ];
  const textEdits = configEditsToTextEdits(TEXT, edits);
  assert.equal(textEdits.length, 1);
  assert.equal(applyText(TEXT, textEdits), applyConfigEdits(TEXT, edits));
  assert.deepEqual(configEditsToTextEdits(TEXT, []), []);
});

test('coverScopes picks the shortest scopes that hold only the targets', () => {
  const all = ['A/batch_normalization', 'B/batch_normalization', 'C/batch_normalization', 'D/batch_normalization'];
  assert.deepEqual(coverScopes(['A/batch_normalization', 'B/batch_normalization'], all), ['A', 'B']);
  assert.deepEqual(coverScopes(['base/bn1', 'base/bn2'], ['base/bn1', 'base/bn2', 'head_bn']), ['base']);
  assert.deepEqual(coverScopes(['base/bn1'], ['base/bn1', 'base/bn2']), ['base/bn1']);
  assert.deepEqual(coverScopes([], all), []);
});

test('patternsExcluding keeps a regex but lets the named variables go', () => {
  const [p] = patternsExcluding('A', 'regex', [], ['A/batch_normalization/gamma', 'A/batch_normalization/beta']);
  const c = compilePattern(p!, 'regex');
  assert.ok(c.ok);
  assert.equal(c.pattern.test('A/conv2d/kernel'), true);
  assert.equal(c.pattern.test('A/batch_normalization/gamma'), false);
  assert.equal(c.pattern.test('A/batch_normalization/beta'), false);
  assert.equal(c.pattern.test('A/batch_normalization/moving_mean'), true);
  assert.equal(c.pattern.test('D/dense/kernel'), false);
  const names = patternsExcluding('A/', 'prefix', ['A/k', 'A/gamma'], ['A/gamma']);
  assert.deepEqual(names, ['A/k']);
});
