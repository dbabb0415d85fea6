// Damaged copies of real models (in a temp dir): a typed ModelReadError naming the file, or a warning when
// only the checkpoint is missing. Never another exception.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { ModelReadError } from '../../../src/core/io/errors';
import { openSavedModel, readSavedModelParts } from '../../../src/core/formats/saved-model/open';
import { openMetaGraph } from '../../../src/core/formats/meta-graph/open';
import { generated, sharedReal } from '../../helpers/paths';

function copyFixture(src: string): string {
  const dst = mkdtempSync(path.join(tmpdir(), 'fi-sm-'));
  cpSync(src, dst, { recursive: true });
  const makeWritable = (p: string): void => {
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) makeWritable(path.join(p, e));
  };
  makeWritable(dst);
  return dst;
}

async function expectReadError(fn: () => Promise<unknown>, file: string, detail?: RegExp): Promise<ModelReadError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof ModelReadError, `expected ModelReadError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.equal(e.file, file, e.message);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    if (detail) assert.match(e.detail, detail);
    return e;
  }
  assert.fail(`expected a ModelReadError for ${file}`);
}

const TF1_SM = [generated('tf1_seed/saved_model'), sharedReal('rust_regression_tf1_train')].find((d) => existsSync(path.join(d, 'saved_model.pb')));
const TF2_SM = [generated('k2_cnn_bn/saved_model'), sharedReal('openmv_mobilenet_bn')].find((d) => existsSync(path.join(d, 'keras_metadata.pb')));

test('a folder without saved_model.pb(txt) is a ModelReadError', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fi-empty-'));
  try {
    writeFileSync(path.join(dir, 'README.txt'), 'not a model');
    const e = await expectReadError(() => openSavedModel(new NodeFileSource(dir), dir), dir, /no saved_model\.pb or saved_model\.pbtxt/);
    assert.equal(e.reason, 'not-a-saved-model');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truncated and mutated saved_model.pb: ModelReadError naming saved_model.pb', async (t) => {
  if (!TF1_SM) return t.skip('no TF1 SavedModel fixture');
  const dir = copyFixture(TF1_SM);
  try {
    const pb = path.join(dir, 'saved_model.pb');
    const orig = readFileSync(pb);
    writeFileSync(pb, orig.subarray(0, Math.floor(orig.length / 2)));
    await expectReadError(() => openSavedModel(new NodeFileSource(dir), dir), 'saved_model.pb', /declares \d+ bytes but \d+ remain|ends inside|runs \d+ bytes past/);
    writeFileSync(pb, new Uint8Array(0));
    await expectReadError(() => openSavedModel(new NodeFileSource(dir), dir), 'saved_model.pb', /holds no meta graph/);
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < 40; i++) {
      const b = Buffer.from(orig);
      for (let k = 0; k < 6; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      writeFileSync(pb, b);
      try {
        await openSavedModel(new NodeFileSource(dir), dir);
      } catch (e) {
        assert.ok(e instanceof ModelReadError, `mutation ${i}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing variables/ folder: opens with a missing-checkpoint warning; readTensor is a ModelReadError', async (t) => {
  if (!TF1_SM) return t.skip('no TF1 SavedModel fixture');
  const dir = copyFixture(TF1_SM);
  try {
    rmSync(path.join(dir, 'variables'), { recursive: true });
    const h = await openSavedModel(new NodeFileSource(dir), dir);
    assert.ok(h.model.variables.length > 0);
    assert.ok(h.model.warnings.some((w) => w.code === 'missing-checkpoint'));
    await expectReadError(() => h.readTensor(h.model.variables[0].key), 'variables/variables.index');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing data shard: opens with a missing-data-shard warning (structure reads the index only)', async (t) => {
  if (!TF2_SM) return t.skip('no Keras SavedModel fixture');
  const dir = copyFixture(TF2_SM);
  try {
    const vdir = path.join(dir, 'variables');
    for (const f of readdirSync(vdir)) if (f.includes('.data-')) rmSync(path.join(vdir, f));
    const parts = await readSavedModelParts(new NodeFileSource(dir), dir);
    assert.ok(!('tf1' in parts));
    if ('tf1' in parts) return;
    assert.ok(parts.warnings.some((w) => w.code === 'missing-data-shard' && w.file === 'variables/variables.data-00000-of-00001'));
    assert.ok(parts.objectMap.variables.every((v) => v.inCheckpoint === true));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupted keras_metadata.pb and variables.index: ModelReadError naming each', async (t) => {
  if (!TF2_SM) return t.skip('no Keras SavedModel fixture');
  const dir = copyFixture(TF2_SM);
  try {
    const meta = path.join(dir, 'keras_metadata.pb');
    const good = readFileSync(meta);
    writeFileSync(meta, good.subarray(0, good.length - 7));
    await expectReadError(() => readSavedModelParts(new NodeFileSource(dir), dir), 'keras_metadata.pb');
    writeFileSync(meta, good);
    const index = path.join(dir, 'variables', 'variables.index');
    const idx = readFileSync(index);
    writeFileSync(index, idx.subarray(0, idx.length - 20));
    await expectReadError(() => readSavedModelParts(new NodeFileSource(dir), dir), 'variables/variables.index');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('truncated saved_model.pbtxt: ModelReadError with line:column', async (t) => {
  const src = sharedReal('vespa_tf1_batchnorm_train');
  if (!existsSync(src)) return t.skip('shared real fixtures absent');
  const dir = copyFixture(src);
  try {
    const p = path.join(dir, 'saved_model.pbtxt');
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.slice(0, 100_000));
    await expectReadError(() => openSavedModel(new NodeFileSource(dir), dir), 'saved_model.pbtxt', /^line \d+:\d+: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('.meta + checkpoint: truncated .meta is a ModelReadError naming it; missing checkpoint is a warning', async (t) => {
  const ck = generated('tf1_seed/ckpt');
  if (!existsSync(path.join(ck, 'model.ckpt.meta'))) return t.skip('generated fixture absent');
  const dir = copyFixture(ck);
  try {
    for (const f of readdirSync(dir)) if (f.startsWith('model.ckpt.data') || f === 'model.ckpt.index') rmSync(path.join(dir, f));
    const h = await openMetaGraph(new NodeFileSource(dir), 'model.ckpt.meta', path.join(dir, 'model.ckpt.meta'));
    assert.equal(h.model.variables.length, 24);
    assert.ok(h.model.warnings.some((w) => w.code === 'missing-checkpoint' && w.file === 'model.ckpt.index'));
    const meta = path.join(dir, 'model.ckpt.meta');
    writeFileSync(meta, readFileSync(meta).subarray(0, 5000));
    await expectReadError(() => openMetaGraph(new NodeFileSource(dir), 'model.ckpt.meta', meta), 'model.ckpt.meta');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
