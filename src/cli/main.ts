// freeze-inspector CLI: one binary over the same core as the extension.
// Commands load lazily so `inspect` never pays for TensorFlow.js or tree-sitter.
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

import { commands } from './commands/registry';

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
