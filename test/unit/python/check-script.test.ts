import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCheckScript } from '../../../src/cli/commands/check-script';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
}

test('check-script --json prints findings with 1-based lines and exits 1 on an error-level finding', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-check-'));
  const bad = path.join(dir, 'bad.py');
  writeFileSync(bad, 'for layer in model.layers:\n    layer.trainable == False\n');
  const good = path.join(dir, 'good.py');
  writeFileSync(good, 'for layer in model.layers:\n    layer.trainable = False\n');
  const a = io();
  assert.equal(await runCheckScript([bad, good, '--json'], a.io), 1);
  const json = JSON.parse(a.out.join('')) as { findings: { file: string; line: number; code: string; severity: string; message: string; fixes: unknown[] }[] };
  assert.equal(json.findings.length, 1);
  assert.deepEqual({ file: json.findings[0]!.file, line: json.findings[0]!.line, code: json.findings[0]!.code, severity: json.findings[0]!.severity }, { file: bad, line: 2, code: 'trainable-comparison', severity: 'error' });
  assert.equal(json.findings[0]!.fixes.length, 1);
  const b = io();
  assert.equal(await runCheckScript([good], b.io), 0);
  const c = io();
  assert.equal(await runCheckScript([path.join(dir, 'missing.py')], c.io), 2);
  assert.match(c.err.join(''), /missing\.py: cannot read file/);
  assert.equal(await runCheckScript([], io().io), 2);
  assert.equal(await runCheckScript([good, '--runtime', 'tf3'], io().io), 2);
});
