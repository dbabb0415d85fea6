// Each kind of bad input named in the foundation issue gives a typed error naming the file and what is
// wrong (exit code 2 in the CLI), or, where the model is still usable, opens with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openModel } from '../../src/core/open';
import { ModelReadError } from '../../src/core/io/errors';
import { main } from '../../src/cli/main';
import { generated } from '../helpers/paths';

function scratch(fixture: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-bad-'));
  cpSync(generated(fixture), dir, { recursive: true });
  return dir;
}

async function expectReadError(target: string, fileRe: RegExp, detailRe?: RegExp): Promise<ModelReadError> {
  try {
    const h = await openModel(target);
    await h.close();
  } catch (e) {
    assert.ok(e instanceof ModelReadError, `expected ModelReadError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, fileRe);
    if (detailRe) assert.match(e.message, detailRe);
    return e;
  }
  assert.fail(`${target} opened but should not have`);
}

async function cliExit(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(args, { stdout: () => {}, stderr: (s) => (err += s) });
  return { code, err };
}

test('a folder that is not a model', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-bad-'));
  try {
    writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    await expectReadError(dir, /fi-bad-/, /not a model/);
    const { code, err } = await cliExit(['inspect', dir]);
    assert.equal(code, 2);
    assert.match(err, /not a model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a path that does not exist', async () => {
  await expectReadError('/nonexistent/model', /nonexistent/, /no such file/);
});

test('truncated saved_model.pb', async () => {
  const dir = scratch('k2_cnn_bn');
  try {
    const pb = path.join(dir, 'saved_model/saved_model.pb');
    const bytes = readFileSync(pb);
    writeFileSync(pb, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectReadError(path.join(dir, 'saved_model'), /saved_model\.pb/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty saved_model.pb is not silently an empty model', async () => {
  const dir = scratch('k2_cnn_bn');
  try {
    writeFileSync(path.join(dir, 'saved_model/saved_model.pb'), new Uint8Array(0));
    await expectReadError(path.join(dir, 'saved_model'), /saved_model\.pb/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wrong magic: an .h5 that is not HDF5, a .keras that is not a zip', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-bad-'));
  try {
    writeFileSync(path.join(dir, 'model.h5'), 'this is not hdf5 at all, just text');
    await expectReadError(path.join(dir, 'model.h5'), /model\.h5/, /HDF5/);
    writeFileSync(path.join(dir, 'model.keras'), 'not a zip either');
    await expectReadError(path.join(dir, 'model.keras'), /model\.keras/, /zip/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing variables/ folder: the structure still opens, with a warning; values cannot be read', async () => {
  const dir = scratch('tf1_seed');
  try {
    rmSync(path.join(dir, 'saved_model/variables'), { recursive: true });
    const h = await openModel(path.join(dir, 'saved_model'));
    try {
      assert.ok(h.model.variables.length > 0, 'variables still listed from the graph');
      assert.ok(h.model.warnings.length > 0, 'a warning says the checkpoint is missing');
      await assert.rejects(h.readTensor(h.model.variables[0]!.key), ModelReadError);
    } finally {
      await h.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing data shard: opens with a warning naming the shard; reading a value is a typed error', async () => {
  const dir = scratch('k2_cnn_bn');
  try {
    rmSync(path.join(dir, 'saved_model/variables/variables.data-00000-of-00001'));
    const h = await openModel(path.join(dir, 'saved_model'));
    try {
      assert.equal(h.model.variables.filter((v) => !v.optimizerSlot).length, 14);
      assert.ok(h.model.warnings.some((w) => /variables\.data-00000-of-00001/.test(w.message)), JSON.stringify(h.model.warnings));
      const err = await h.readTensor(h.model.variables[0]!.key).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ModelReadError);
      assert.match(err.message, /variables\.data-00000-of-00001/);
    } finally {
      await h.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupted CRC in variables.index', async () => {
  const dir = scratch('k2_cnn_bn');
  try {
    const idx = path.join(dir, 'saved_model/variables/variables.index');
    const bytes = readFileSync(idx);
    bytes[20] ^= 0x40; // inside the first data block; its masked CRC32C no longer matches
    writeFileSync(idx, bytes);
    await expectReadError(path.join(dir, 'saved_model'), /variables\.index/, /crc|checksum/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('protobuf with unknown fields is read as before (unknown fields are skipped)', async () => {
  const dir = scratch('tf1_seed');
  try {
    const before = await openModel(generated('tf1_seed/saved_model'));
    const pb = path.join(dir, 'saved_model/saved_model.pb');
    // field 15, wire type 2 (length-delimited), 3 bytes; then field 14 varint 150.
    appendFileSync(pb, new Uint8Array([(15 << 3) | 2, 3, 1, 2, 3, (14 << 3) | 0, 0x96, 0x01]));
    const after = await openModel(path.join(dir, 'saved_model'));
    assert.deepEqual(after.model.variables, before.model.variables);
    assert.deepEqual(after.model.batchNorms, before.model.batchNorms);
    await before.close();
    await after.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('huge declared length', async () => {
  const dir = scratch('tf1_seed');
  try {
    const pb = path.join(dir, 'saved_model/saved_model.pb');
    // SavedModel.meta_graphs (field 2, length-delimited) declaring 2^35 bytes.
    appendFileSync(pb, new Uint8Array([(2 << 3) | 2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    await expectReadError(path.join(dir, 'saved_model'), /saved_model\.pb/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deep nesting is refused, not a stack overflow', async () => {
  const dir = scratch('tf1_seed');
  try {
    const pb = path.join(dir, 'saved_model/saved_model.pb');
    // A MetaGraphDef (SavedModel field 2) whose graph_def (field 2) holds a NodeDef (field 1) whose attr map
    // entry's AttrValue nests func attrs 2,000 levels deep (LIMITS.maxDepth is 100): AttrValue.func (field 10) is a
    // NameAttrList whose attr (field 2) map value is again an AttrValue.
    let inner: Uint8Array = new Uint8Array([(3 << 3) | 0, 1]); // AttrValue{ b: true }
    const lenPrefixed = (field: number, body: Uint8Array) => {
      const len: number[] = [];
      let n = body.length;
      do {
        let b = n & 0x7f;
        n >>>= 7;
        if (n) b |= 0x80;
        len.push(b);
      } while (n);
      return new Uint8Array([(field << 3) | 2, ...len, ...body]);
    };
    const key = new TextEncoder().encode('k');
    for (let i = 0; i < 2000; i++) {
      const entry = new Uint8Array([...lenPrefixed(1, key), ...lenPrefixed(2, inner)]); // map entry {key, value}
      const nameAttrList = lenPrefixed(2, entry);
      inner = lenPrefixed(10, nameAttrList);
    }
    const attrEntry = new Uint8Array([...lenPrefixed(1, key), ...lenPrefixed(2, inner)]);
    const node = new Uint8Array([...lenPrefixed(1, new TextEncoder().encode('deep')), ...lenPrefixed(2, new TextEncoder().encode('NoOp')), ...lenPrefixed(5, attrEntry)]);
    const graph = lenPrefixed(1, node);
    const meta = lenPrefixed(2, graph);
    writeFileSync(pb, new Uint8Array([...readFileSync(pb), ...lenPrefixed(2, meta)]));
    await expectReadError(path.join(dir, 'saved_model'), /saved_model\.pb/, /nest|deep/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated .h5 and a truncated .keras', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-bad-'));
  try {
    const h5 = readFileSync(generated('k2_cnn_bn_h5/k2_cnn_bn.h5'));
    writeFileSync(path.join(dir, 'cut.h5'), h5.subarray(0, 4000));
    await expectReadError(path.join(dir, 'cut.h5'), /cut\.h5/);
    mkdirSync(path.join(dir, 'k'), { recursive: true });
    const keras = readFileSync(generated('k3_cnn_bn/k3_cnn_bn.keras'));
    writeFileSync(path.join(dir, 'k/cut.keras'), keras.subarray(0, keras.length - 30));
    await expectReadError(path.join(dir, 'k/cut.keras'), /cut\.keras/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
