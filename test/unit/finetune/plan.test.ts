// Pure planning: BN modes per runtime (SEMANTICS rows D2, D5, E2, E5), the shared synthetic data, agreement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths';
import { agreementOf, bnModeFor, mulberry32, selfAndAncestors, syntheticNormal } from '../../../src/core/finetune/plan';

test('tf2-keras: frozen => inference mode; an explicit training=False on a parent wins (D2, D5)', () => {
  assert.deepEqual(bnModeFor('tf2-keras', 'bn1', true, true, {}).normalizesWith, 'batch');
  const frozen = bnModeFor('tf2-keras', 'bn1', false, true, {});
  assert.equal(frozen.normalizesWith, 'moving');
  assert.equal(frozen.updatesMovingStats, false);
  const inBase = bnModeFor('tf2-keras', 'base/bn1', true, true, { base: false });
  assert.equal(inBase.normalizesWith, 'moving');
  assert.match(inBase.flagFrom, /training=False passed to base/);
  assert.equal(bnModeFor('tf2-keras', 'base/bn1', true, false, { base: true }).normalizesWith, 'batch');
  assert.equal(bnModeFor('tf2-keras', 'head_bn', true, false, {}).normalizesWith, 'moving');
});

test('keras3: a recorded training=False in a functional graph is overridden by the outer flag (E5)', () => {
  assert.equal(bnModeFor('keras3', 'base/bn1', true, true, { base: false }).normalizesWith, 'batch');
  assert.equal(bnModeFor('keras3', 'base/bn1', false, true, { base: false }).normalizesWith, 'moving');
});

test('selfAndAncestors', () => {
  assert.deepEqual(selfAndAncestors('a/b/c'), ['a/b/c', 'a/b', 'a']);
  assert.deepEqual(selfAndAncestors('x'), ['x']);
});

test('the synthetic data are bit-identical to python/engine/runner.py (both engines train on the same numbers)', (t) => {
  let out: string;
  try {
    out = execFileSync('python3', ['-c', [
      'import sys, json',
      `sys.path.insert(0, ${JSON.stringify(path.join(repoRoot, 'python/engine'))})`,
      'import runner',
      'r = runner.mulberry32(1234)',
      'u = [r() for _ in range(1000)]',
      'n = [float(v) for v in runner.synthetic_normal(4321, 101)]',
      'runner.PROTOCOL_OUT.write(json.dumps({"u": u, "n": n}))',
    ].join('\n')], { encoding: 'utf8' });
  } catch (e) {
    t.skip(`python3 with numpy not available (${(e as Error).message.split('\n')[0]})`);
    return;
  }
  const py = JSON.parse(out) as { u: number[]; n: number[] };
  const r = mulberry32(1234);
  assert.deepEqual(Array.from({ length: 1000 }, () => r()), py.u);
  assert.deepEqual(Array.from(syntheticNormal(4321, 101)), py.n);
  const n = syntheticNormal(4321, 20000);
  const mean = n.reduce((a, b) => a + b, 0) / n.length;
  const varc = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(varc - 1) < 0.05, `${mean} ${varc}`);
});

test('agreement counts only predicted variables', () => {
  assert.deepEqual(agreementOf([]), { agreement: 1, disagreements: 0 });
  assert.deepEqual(agreementOf([{ predicted: true, agree: true }, { predicted: false, agree: false }, { predicted: null, agree: false }]), { agreement: 0.5, disagreements: 1 });
});
