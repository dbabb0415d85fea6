// Byte mutations of real fixtures: whatever we flip or cut, openModel either succeeds or throws our
// typed ModelReadError naming a file. Anything else (TypeError, RangeError, a hang) fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openModel } from '../../src/core/open';
import { ModelReadError } from '../../src/core/io/errors';
import { generated } from '../helpers/paths';
import { mulberry32 as rng } from '../../src/core/finetune/plan';

type Mutation = (bytes: Uint8Array, r: () => number) => Uint8Array;

const flipBytes: Mutation = (b, r) => {
  const out = b.slice();
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] ^= 1 << Math.floor(r() * 8);
  return out;
};
const setByte: Mutation = (b, r) => {
  const out = b.slice();
  out[Math.floor(r() * out.length)] = r() < 0.5 ? 0xff : 0x00;
  return out;
};
const truncate: Mutation = (b, r) => b.slice(0, Math.floor(r() * b.length));
const hugeVarint: Mutation = (b, r) => {
  // Overwrite 5 bytes with a varint that declares ~4 GiB: a length prefix that cannot be satisfied.
  const out = b.slice();
  const at = Math.floor(r() * Math.max(1, out.length - 5));
  out.set([0xff, 0xff, 0xff, 0xff, 0x0f], at);
  return out;
};
const mutations: [string, Mutation][] = [
  ['flip', flipBytes],
  ['set', setByte],
  ['truncate', truncate],
  ['huge-length', hugeVarint],
];

interface Target {
  fixture: string; // folder under test/fixtures/generated
  file: string; // file to damage, relative to the fixture folder
  open: string; // what to open, relative to the fixture folder
  cases: number;
}

const targets: Target[] = [
  { fixture: 'k2_cnn_bn', file: 'saved_model/saved_model.pb', open: 'saved_model', cases: 500 },
  { fixture: 'k2_cnn_bn', file: 'saved_model/keras_metadata.pb', open: 'saved_model', cases: 300 },
  { fixture: 'k2_cnn_bn', file: 'saved_model/variables/variables.index', open: 'saved_model', cases: 400 },
  { fixture: 'tf1_seed', file: 'saved_model/saved_model.pb', open: 'saved_model', cases: 400 },
  { fixture: 'tf1_seed', file: 'ckpt/model.ckpt.meta', open: 'ckpt/model.ckpt.meta', cases: 300 },
  { fixture: 'tf1_seed', file: 'ckpt/model.ckpt.index', open: 'ckpt/model.ckpt.meta', cases: 200 },
  { fixture: 'k2_cnn_bn_h5', file: 'k2_cnn_bn.h5', open: 'k2_cnn_bn.h5', cases: 500 },
  { fixture: 'k3_cnn_bn', file: 'k3_cnn_bn.keras', open: 'k3_cnn_bn.keras', cases: 400 },
];

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`hang: ${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

for (const target of targets) {
  const src = generated(target.fixture);
  test(`mutations of ${target.fixture}/${target.file}: only typed errors`, async () => {
    assert.ok(existsSync(path.join(src, target.file)), `fixture file ${target.fixture}/${target.file} is missing`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-mut-'));
    try {
      cpSync(src, dir, { recursive: true });
      const damaged = path.join(dir, target.file);
      const original = readFileSync(damaged);
      const r = rng(0xf1 + target.cases);
      let typed = 0;
      let opened = 0;
      for (let i = 0; i < target.cases; i++) {
        const [name, mutate] = mutations[i % mutations.length]!;
        const bytes = mutate(new Uint8Array(original), r);
        writeFileSync(damaged, bytes);
        try {
          const h = await withTimeout(openModel(path.join(dir, target.open)), 5000, `${name} #${i}`);
          await h.close();
          opened++;
        } catch (e) {
          if (e instanceof ModelReadError) {
            assert.ok(e.message.length > 0 && e.file.length > 0, `error without file: ${e.message}`);
            typed++;
          } else {
            assert.fail(`case ${name} #${i} of ${target.file} threw ${(e as Error)?.name}: ${(e as Error)?.stack ?? e}`);
          }
        }
      }
      writeFileSync(damaged, original);
      assert.equal(typed + opened, target.cases);
      assert.ok(typed > 0, 'no mutation was detected at all: the reader ignores this file?');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
