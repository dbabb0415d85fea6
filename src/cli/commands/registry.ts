// Every CLI command, loaded on first use so `inspect` never pays for TensorFlow.js or tree-sitter.
import path from 'node:path';
import type { CliIO } from '../io';

export type Command = (argv: string[], io: CliIO) => Promise<number>;

function requireSibling(file: string): unknown {
  // A computed path: esbuild leaves it to node at run time (an import() would be bundled inline).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, file));
}

export const commands: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import('./inspect')).runInspect,
  analyze: async () => (await import('./analyze')).runAnalyze,
  // The heavy commands (TensorFlow.js, tree-sitter) are separate bundles next to dist/cli.js, so `inspect`
  // and `analyze` do not compile megabytes they never run. From source (tests, tsx) they import normally.
  'check-script': async () =>
    process.env.FI_CLI_BUNDLE === '1'
      ? (requireSibling('cli-check-script.js') as typeof import('./check-script')).runCheckScript
      : (await import('./check-script')).runCheckScript,
  verify: async () =>
    process.env.FI_CLI_BUNDLE === '1' ? (requireSibling('cli-verify.js') as typeof import('./verify')).runVerify : (await import('./verify')).runVerify,
  demo: async () => (await import('./demo')).runDemo,
};
