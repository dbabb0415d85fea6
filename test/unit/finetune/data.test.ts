// User data files written by numpy itself (.npy in several dtypes, .npz stored and compressed, CSV), decoded by
// src/core/finetune/data.ts and used for a real training run; wrong shapes are refused with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generated } from '../../helpers/paths';
import { loadUserData, parseNpy, readZip } from '../../../src/core/finetune/data';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { defaultFreezeConfig } from '../../../src/core/analysis/freeze-config';
import { buildVerifyRequest } from '../../../src/core/finetune/plan';
import { runTfjsVerification } from '../../../src/core/finetune/tfjs/tfjs-engine';
import { isFreezeInspectorError } from '../../../src/core/io/errors';

let dir = '';
let numpy = true;

function py(code: string): string {
  return execFileSync('python3', ['-c', code], { encoding: 'utf8', cwd: dir });
}

test('setup: numpy writes the data files', (t) => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fi-data-'));
  try {
    py(`
import numpy as np
rs = np.random.RandomState(0)
x = rs.normal(size=(10, 16, 16, 3)).astype('float32')
y = rs.uniform(size=(10, 4)).astype('float32')
np.save('x.npy', x)
np.savez('xy.npz', x=x, y=y)
np.savez_compressed('xyc.npz', x=x, y=y)
for dt in ['float64', 'int64', 'uint8', 'float16', 'int32', 'bool']:
    np.save('a_%s.npy' % dt, (rs.normal(size=(3, 5)) * 10).astype(dt))
np.save('wrong.npy', x[:, :8])
with open('data.csv', 'w') as f:
    f.write(','.join('c%d' % i for i in range(768 + 4)) + '\\n')
    for i in range(10):
        f.write(','.join(repr(float(v)) for v in list(x[i].ravel()) + list(y[i])) + '\\n')
`);
  } catch (e) {
    numpy = false;
    t.skip(`python3 with numpy not available: ${(e as Error).message.split('\n')[0]}`);
  }
});

test('.npy of every common dtype decodes to the values numpy holds', { skip: false }, (t) => {
  if (!numpy) return t.skip('no numpy');
  for (const dt of ['float64', 'int64', 'uint8', 'float16', 'int32', 'bool']) {
    const f = path.join(dir, `a_${dt}.npy`);
    const ours = parseNpy(new Uint8Array(readFileSync(f)), f);
    const ref = JSON.parse(py(`import numpy as np, json; print(json.dumps(np.load('a_${dt}.npy').astype('float32').ravel().tolist()))`)) as number[];
    assert.deepEqual(ours.shape, [3, 5], dt);
    assert.deepEqual(Array.from(ours.data), ref.map((v) => Math.fround(v)), dt);
  }
});

test('.npz stored and deflated: the same arrays', (t) => {
  if (!numpy) return t.skip('no numpy');
  const a = readZip(new Uint8Array(readFileSync(path.join(dir, 'xy.npz'))), 'xy.npz');
  const b = readZip(new Uint8Array(readFileSync(path.join(dir, 'xyc.npz'))), 'xyc.npz');
  assert.deepEqual([...a.keys()].sort(), ['x.npy', 'y.npy']);
  assert.deepEqual(Array.from(parseNpy(a.get('x.npy')!, 'x').data), Array.from(parseNpy(b.get('x.npy')!, 'x').data));
  assert.deepEqual(Array.from(parseNpy(a.get('y.npy')!, 'y').data), Array.from(parseNpy(b.get('y.npy')!, 'y').data));
});

test('CSV with a header row: inputs then targets', async (t) => {
  if (!numpy) return t.skip('no numpy');
  const d = await loadUserData('csv', path.join(dir, 'data.csv'), [16, 16, 3], [4]);
  const npz = await loadUserData('npy', path.join(dir, 'xy.npz'), [16, 16, 3], [4]);
  assert.deepEqual(d.x.shape, [10, 768]);
  assert.deepEqual(Array.from(d.x.data), Array.from(npz.x.data));
  assert.deepEqual(Array.from(d.y!.data), Array.from(npz.y!.data));
});

test('shapes that do not fit the model, and a folder without images, are refused with a message', async (t) => {
  if (!numpy) return t.skip('no numpy');
  await assert.rejects(loadUserData('npy', path.join(dir, 'wrong.npy'), [16, 16, 3], [4]), /do not fit the model's input \(N, 16, 16, 3\)/);
  await assert.rejects(loadUserData('csv', path.join(dir, 'data.csv'), [8, 8, 3], [4]), /rows have 772 columns; the model needs 192 input values/);
  await assert.rejects(loadUserData('images', dir, [16, 16, 3], [4]), /no images \(\.png, \.jpg, \.jpeg, \.bmp, \.gif\)/);
  await assert.rejects(loadUserData('npy', path.join(dir, 'missing.npy'), [16, 16, 3], [4]), (e: unknown) => isFreezeInspectorError(e) && e.reason === 'data');
});

const k2 = generated('k2_cnn_bn/saved_model');

test('the tfjs engine trains on .npz data with its targets (one batch a step, cycling)', { skip: !existsSync(k2) && 'fixture absent' }, async (t) => {
  if (!numpy) return t.skip('no numpy');
  const h = await openModel(k2);
  const config = defaultFreezeConfig(k2);
  const req = buildVerifyRequest({ requestId: 'd', model: h.model, config, configPath: null, analysis: analyze(h.model, config), settings: { steps: 3, batchSize: 4, optimizer: 'sgd', learningRate: 0.05, seed: 1, data: { kind: 'npy', path: path.join(dir, 'xyc.npz') } } });
  await h.close();
  const r = await runTfjsVerification(req, { emit: () => {}, open: openModel, backend: { prefer: 'wasm' } });
  assert.equal(r.loss.length, 3);
  assert.ok(r.loss.every(Number.isFinite));
  assert.match(r.data, /^npy: .*xyc\.npz$/);
  assert.equal(r.agreement, 1);
});

test('cleanup', () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
