// One error class per domain. Every message names the file and says what is wrong, quoting the bad value:
// "variables/variables.index: unsupported block compression 7". Readers throw only ModelReadError; the
// freeze-config parser only ConfigError; the CLI maps both to exit code 2.

export type ErrorDomain = 'model' | 'config' | 'script' | 'finetune';

export abstract class FreezeInspectorError extends Error {
  abstract readonly domain: ErrorDomain;
  /** Short machine-readable reason, e.g. 'truncated', 'bad-magic', 'crc-mismatch'. */
  readonly reason: string;
  /** The file the problem is in (as the user would recognise it), or '' when none. */
  readonly file: string;
  /** The sentence after the file name. */
  readonly detail: string;

  constructor(file: string, reason: string, detail: string, options?: { cause?: unknown }) {
    super(file ? `${file}: ${detail}` : detail, options);
    this.file = file;
    this.reason = reason;
    this.detail = detail;
  }
}

/** A model file could not be read: missing, truncated, corrupted, not the format it claims, or over a limit. */
export class ModelReadError extends FreezeInspectorError {
  readonly domain = 'model' as const;
  override readonly name = 'ModelReadError';
}

/** A freeze config is not valid JSON, breaks the schema, or cannot be applied to its model. */
export class ConfigError extends FreezeInspectorError {
  readonly domain = 'config' as const;
  override readonly name = 'ConfigError';
}

/** A fine-tune could not run (unsupported layer, engine failure, cancelled). */
export class FinetuneError extends FreezeInspectorError {
  readonly domain = 'finetune' as const;
  override readonly name = 'FinetuneError';
}

export function isFreezeInspectorError(e: unknown): e is FreezeInspectorError {
  return e instanceof FreezeInspectorError;
}

/** Limits every reader obeys, so that a hostile or corrupted file cannot exhaust memory or the stack. */
export const LIMITS = {
  /** Deepest protobuf / JSON / HDF5 nesting we follow. */
  maxDepth: 100,
  /** Largest single file we read whole (structure files only: saved_model.pb, .meta, keras_metadata.pb). */
  maxStructureFileBytes: 2 * 1024 * 1024 * 1024 - 1,
  /** Most entries in a checkpoint index. */
  maxCheckpointEntries: 10_000_000,
} as const;
