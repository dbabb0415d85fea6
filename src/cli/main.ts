// freeze-inspector CLI: one binary over the same core as the extension.
// Commands load lazily so `inspect` never pays for TensorFlow.js or tree-sitter.
import path from 'node:path';
import { processIO, EXIT, type CliIO } from './io';

const USAGE = `freeze-inspector — what freezing layers really does to BatchNorm, before you train

usage:
  freeze-inspector inspect PATH [--json]
      layers, variables (shape, dtype, trainable/frozen) and BatchNorm layers of a model
  freeze-inspector analyze PATH --config FILE [--json | --format text|json|sarif]
  freeze-inspector analyze PATH --freeze PATTERN... [--runtime R] [--training true|false] [--json]
      per-variable prediction of one training step, BatchNorm behaviour, findings with fixes
  freeze-inspector check-script FILE... [--model PATH] [--json]
      freeze/BatchNorm mistakes in Python training scripts
  freeze-inspector verify PATH --config FILE [--engine tfjs|python] [--json]
      a short real fine-tune: predicted vs observed change for every variable
  freeze-inspector demo
      the bundled seed sample: will BatchNorm train if the layers are frozen but is_training is True?

PATH is a SavedModel folder (or its saved_model.pb / saved_model.pbtxt), a TF1 .meta file, a Keras .h5 or .keras file.
exit codes: 0 ok, 1 an error-level finding (or a prediction disagreed), 2 bad input.
`;

type Command = (argv: string[], io: CliIO) => Promise<number>;

function requireSibling(file: string): unknown {
  // A computed path: esbuild leaves it to node at run time (an import() would be bundled inline).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(__dirname, file));
}

const commands: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import('./commands/inspect')).runInspect,
  analyze: async () => (await import('./commands/analyze')).runAnalyze,
  // The heavy commands (TensorFlow.js, tree-sitter) are separate bundles next to dist/cli.js, so `inspect`
  // and `analyze` do not compile megabytes they never run. From source (tests, tsx) they import normally.
  'check-script': async () =>
    process.env.FI_CLI_BUNDLE === '1'
      ? (requireSibling('cli-check-script.js') as typeof import('./commands/check-script')).runCheckScript
      : (await import('./commands/check-script')).runCheckScript,
  verify: async () =>
    process.env.FI_CLI_BUNDLE === '1'
      ? (requireSibling('cli-verify.js') as typeof import('./commands/verify')).runVerify
      : (await import('./commands/verify')).runVerify,
  demo: async () => (await import('./commands/demo')).runDemo,
};

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name ? EXIT.ok : EXIT.badInput;
  }
  if (name === '--version') {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const load = commands[name];
  if (!load) {
    io.stderr(`unknown command '${name}'\n\n${USAGE}`);
    return EXIT.badInput;
  }
  return (await load())(rest, io);
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.1.0';

/** Runs the CLI on this process's argv and sets the exit code. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 3;
    },
  );
}

if (require.main === module) run();
