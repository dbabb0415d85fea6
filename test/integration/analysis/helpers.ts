import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { openModel } from '../../../src/core/open';
import type { Model } from '../../../src/core/model/ir';
import { defaultFreezeConfig } from '../../../src/core/analysis/freeze-config';
import type { FreezeConfig } from '../../../src/core/analysis/types';

export const repoRoot = path.resolve(__dirname, '../../..');
export const generatedDir = path.join(repoRoot, 'test/fixtures/generated');

export function fixturePath(name: string, ...rest: string[]): string {
  return path.join(generatedDir, name, ...rest);
}

export function hasFixture(name: string): boolean {
  return existsSync(path.join(generatedDir, name, 'expected.json'));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expected(name: string): any {
  return JSON.parse(readFileSync(fixturePath(name, 'expected.json'), 'utf8'));
}

const cache = new Map<string, Promise<Model>>();

/** Opens a generated fixture with the real readers (structure only), once per process. */
export function openFixture(name: string, ...rest: string[]): Promise<Model> {
  const p = rest.length ? fixturePath(name, ...rest) : path.join(repoRoot, expected(name).path);
  let m = cache.get(p);
  if (!m) {
    m = openModel(p).then(async (h) => {
      const model = h.model;
      await h.close();
      return model;
    });
    cache.set(p, m);
  }
  return m;
}

export function config(over: Partial<FreezeConfig>): FreezeConfig {
  return { ...defaultFreezeConfig('model'), ...over };
}
