import path from 'node:path';
import { existsSync } from 'node:fs';

export const repoRoot = path.resolve(__dirname, '../..');
export const generatedFixtures = path.join(repoRoot, 'test/fixtures/generated');
export const sharedRealFixtures = path.resolve(repoRoot, '../shared/fixtures/real');
export const hasSharedFixtures = existsSync(sharedRealFixtures);
export const hasGeneratedFixtures = existsSync(path.join(generatedFixtures, 'manifest.json'));

export function generated(...parts: string[]): string {
  return path.join(generatedFixtures, ...parts);
}
export function sharedReal(...parts: string[]): string {
  return path.join(sharedRealFixtures, ...parts);
}
