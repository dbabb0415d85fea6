// Locates the real tensor bundles the checkpoint tests run on: the shared real models and every
// checkpoint listed by a generated fixture's expected.json (written by TensorFlow itself).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generatedFixtures, repoRoot, sharedRealFixtures } from '../../helpers/paths';

export interface ExpectedKey {
  readonly key: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly role?: string;
  readonly variable?: string;
}

export interface BundleFixture {
  /** Display name. */
  readonly name: string;
  /** Directory the FileSource is rooted at. */
  readonly root: string;
  /** Prefix relative to root, e.g. 'variables/variables'. */
  readonly prefix: string;
  /** Keys TensorFlow reported for this checkpoint, when known. */
  readonly expected: readonly ExpectedKey[] | null;
}

interface Artifact {
  readonly format: string;
  readonly path: string;
  readonly checkpoint?: string;
  readonly checkpointKeys?: ExpectedKey[];
}

interface Expected {
  readonly fixture: string;
  readonly format: string;
  readonly path: string;
  readonly checkpointKeys?: ExpectedKey[];
  readonly artifacts?: Artifact[];
}

export function readExpected(fixture: string): Expected | null {
  const p = path.join(generatedFixtures, fixture, 'expected.json');
  if (!existsSync(p)) return null;
  return JSON.parse(readFileSync(p, 'utf8')) as Expected;
}

export function generatedFixtureNames(): string[] {
  if (!existsSync(generatedFixtures)) return [];
  return readdirSync(generatedFixtures).filter((f) => existsSync(path.join(generatedFixtures, f, 'expected.json'))).sort();
}

/** Every tensor bundle (SavedModel variables or TF1 checkpoint) among the generated fixtures. */
export function generatedBundles(): BundleFixture[] {
  const out: BundleFixture[] = [];
  for (const name of generatedFixtureNames()) {
    const exp = readExpected(name);
    if (!exp) continue;
    const artifacts: Artifact[] = exp.artifacts ?? [{ format: exp.format, path: exp.path, checkpointKeys: exp.checkpointKeys }];
    for (const a of artifacts) {
      const prefix = a.checkpoint ?? (a.path.endsWith('saved_model') || a.path.endsWith('/export') ? `${a.path}/variables/variables` : null);
      if (!prefix || prefix.includes('!') || prefix.endsWith('.h5') || prefix.endsWith('.keras')) continue;
      if (!existsSync(path.join(repoRoot, `${prefix}.index`))) continue;
      out.push({ name: `${name} (${a.format})`, root: repoRoot, prefix, expected: a.checkpointKeys ?? exp.checkpointKeys ?? null });
    }
  }
  return out;
}

/** Every `variables/variables.index` among the shared real models. */
export function sharedBundles(): BundleFixture[] {
  if (!existsSync(sharedRealFixtures)) return [];
  return readdirSync(sharedRealFixtures)
    .filter((m) => existsSync(path.join(sharedRealFixtures, m, 'variables', 'variables.index')))
    .sort()
    .map((m) => ({ name: m, root: path.join(sharedRealFixtures, m), prefix: 'variables/variables', expected: null }));
}
