// Helpers for corruption tests of the checkpoint, HDF5 and zip readers: copy real fixtures to a temp
// dir, damage bytes, and assert that only ModelReadError comes out.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelReadError } from '../../../src/core/io/errors';
import { mulberry32 } from '../../../src/core/finetune/plan';

/** Deterministic PRNG (mulberry32, the engines' own) so that a failing mutation can be reproduced from its seed. */
export const rng = mulberry32;

/** A fresh temp dir; remove it with `cleanup`. */
export function tempDir(prefix = 'fi-damage-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies a file or a directory tree into `destDir` (created if needed). */
export function copyInto(src: string, destDir: string): string {
  const dest = path.join(destDir, path.basename(src));
  if (statSync(src).isDirectory()) {
    mkdirSync(dest, { recursive: true });
    for (const e of readdirSync(src)) copyInto(path.join(src, e), dest);
  } else {
    mkdirSync(destDir, { recursive: true });
    copyFileSync(src, dest);
  }
  return dest;
}

/** Flips 1..maxFlips random bytes (XOR with a non-zero value) of a copy of `bytes`, within [from, to). */
export function mutate(bytes: Uint8Array, random: () => number, maxFlips = 4, from = 0, to = bytes.length): Uint8Array {
  const out = bytes.slice();
  const n = 1 + Math.floor(random() * maxFlips);
  for (let i = 0; i < n; i++) {
    const at = from + Math.floor(random() * (to - from));
    out[at] = out[at]! ^ (1 + Math.floor(random() * 255));
  }
  return out;
}

/** Awaits `fn` and requires a ModelReadError (optionally with this reason / file / message fragment). */
export async function expectModelReadError(
  fn: () => Promise<unknown>,
  expected: { reason?: string; file?: string; message?: RegExp | string } = {},
): Promise<ModelReadError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected a ModelReadError, but nothing was thrown');
  assert.ok(caught instanceof ModelReadError, `expected ModelReadError, got ${(caught as Error)?.name}: ${(caught as Error)?.message}\n${(caught as Error)?.stack}`);
  if (expected.reason !== undefined) assert.equal(caught.reason, expected.reason, `reason of: ${caught.message}`);
  if (expected.file !== undefined) assert.equal(caught.file, expected.file, `file of: ${caught.message}`);
  if (expected.message !== undefined) {
    if (typeof expected.message === 'string') assert.ok(caught.message.includes(expected.message), `"${caught.message}" should contain "${expected.message}"`);
    else assert.match(caught.message, expected.message);
  }
  assert.ok(caught.message.startsWith(`${caught.file}: `) || caught.file === '', `message names the file: ${caught.message}`);
  return caught;
}

/** Runs `fn`; any error must be a ModelReadError. Returns the error or null. */
export async function onlyModelReadError(fn: () => Promise<unknown>, context: string): Promise<ModelReadError | null> {
  try {
    await fn();
    return null;
  } catch (e) {
    if (e instanceof ModelReadError) return e;
    assert.fail(`${context}: ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
  }
}
