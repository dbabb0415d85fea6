// Random and mutated bytes must only ever produce ModelReadError (never RangeError/TypeError or a hang).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { decodeSavedModel, decodeTrackableObjectGraph, decodeKerasSavedMetadata, type SavedModel } from '../../../src/core/formats/proto/gen';
import { parseTextFormat } from '../../../src/core/formats/proto/text-format';
import { ModelReadError } from '../../../src/core/io/errors';
import { realSavedModels } from './real-files';
import { sharedReal } from '../../helpers/paths';
import { mulberry32 as rng } from '../../../src/core/finetune/plan';

function decodeAll(bytes: Uint8Array): void {
  const sm = decodeMessage(bytes, 'saved_model.pb', decodeSavedModel);
  for (const mg of sm.metaGraphs) {
    const lib = mg.graphDef?.library?.get();
    for (const f of lib?.function.slice(0, 20) ?? []) f.get();
    for (const n of mg.graphDef?.node ?? []) for (const a of n.get().attr.values()) a.tensor?.tensorContent?.get();
  }
}

function expectOnlyModelReadError(fn: () => void, what: string): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!(e instanceof ModelReadError)) assert.fail(`${what}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    assert.ok(e.message.startsWith('saved_model.pb: ') || e.message.startsWith('x: ') || e.message.startsWith('saved_model.pbtxt: '), e.message);
    return 'error';
  }
}

test('random bytes: only ModelReadError', () => {
  const rand = rng(1);
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const n = Math.floor(rand() * 200);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) b[j] = Math.floor(rand() * 256);
    if (expectOnlyModelReadError(() => decodeAll(b), `random #${i}`) === 'error') errors++;
    expectOnlyModelReadError(() => decodeMessage(b, 'x', decodeTrackableObjectGraph), `random TOG #${i}`);
    expectOnlyModelReadError(() => decodeMessage(b, 'x', decodeKerasSavedMetadata), `random meta #${i}`);
  }
  assert.ok(errors > 1000, `most random inputs should be rejected (${errors})`);
});

test('mutated and truncated real saved_model.pb: only ModelReadError', (t) => {
  const files = realSavedModels().filter((f) => readFileSync(f).length < 300_000);
  if (files.length === 0) return t.skip('no small real SavedModel on this machine');
  const rand = rng(7);
  let rejected = 0;
  let total = 0;
  for (const f of files) {
    const orig = new Uint8Array(readFileSync(f));
    for (let i = 0; i < 150; i++) {
      const b = orig.slice();
      const flips = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      total++;
      if (expectOnlyModelReadError(() => decodeAll(b), `${f} mutation #${i}`) === 'error') rejected++;
    }
    for (let i = 0; i < 60; i++) {
      const cut = Math.floor(rand() * orig.length);
      total++;
      if (expectOnlyModelReadError(() => decodeAll(orig.subarray(0, cut)), `${f} cut at ${cut}`) === 'error') rejected++;
    }
  }
  t.diagnostic(`${rejected}/${total} damaged inputs rejected, the rest decoded without crashing`);
});

test('mutated text format: only ModelReadError', (t) => {
  const p = [sharedReal('vespa_tf1_batchnorm_train/saved_model.pbtxt')].find((x) => existsSync(x));
  if (!p) return t.skip('no saved_model.pbtxt on this machine');
  const text = readFileSync(p, 'utf8').slice(0, 60_000);
  const rand = rng(3);
  const alphabet = '{}<>[]:;,"\'\\#-.0123456789abcxyzTF \n';
  for (let i = 0; i < 300; i++) {
    const chars = text.split('');
    for (let k = 0; k < 4; k++) chars[Math.floor(rand() * chars.length)] = alphabet[Math.floor(rand() * alphabet.length)];
    expectOnlyModelReadError(() => parseTextFormat<SavedModel>(chars.join(''), 'tensorflow.SavedModel', 'saved_model.pbtxt'), `text mutation #${i}`);
  }
});
