// Linking a script to the model it trains: a `# freeze-inspector: model=PATH` pragma, the `scripts` field of
// a freeze config (the caller passes the configs it knows), a setting (the caller), or a suggestion from a
// literal path given to load_model / saved_model.load.
import path from 'node:path';
import type { FreezeConfig, Runtime } from '../analysis/types';
import type { ModelFormat } from '../model/ir';
import type { ScriptModel } from './idioms';
import type { Range } from './types';

export interface ModelLink {
  /** Absolute path of the model (or of the config that names it, for 'config'). */
  readonly modelPath: string;
  readonly source: 'pragma' | 'config';
  /** Where the pragma's path is written (for a document link), when source is 'pragma'. */
  readonly range: Range | null;
  /** The config that lists the script, when source is 'config'. */
  readonly configPath?: string;
}

export interface LinkSuggestion {
  readonly modelPath: string;
  readonly loader: string;
  readonly range: Range;
}

/**
 * The model a script is linked to. `configs`: freeze configs the caller found ({ path of the config file,
 * parsed config }); a config links the script when its `scripts` lists it (relative to the config file).
 */
export function findModelLink(m: ScriptModel, scriptPath: string, configs: readonly { readonly path: string; readonly config: FreezeConfig }[] = []): ModelLink | null {
  const pragma = m.pragmas.values['model'];
  if (pragma) {
    const r = m.pragmas.ranges['model']!;
    return { modelPath: path.resolve(path.dirname(scriptPath), pragma), source: 'pragma', range: m.range(r.s, r.e) };
  }
  const abs = path.resolve(scriptPath);
  for (const c of configs) {
    const dir = path.dirname(c.path);
    if (c.config.scripts.some((s) => path.resolve(dir, s) === abs)) {
      return { modelPath: path.resolve(dir, c.config.model), source: 'config', range: null, configPath: c.path };
    }
  }
  return null;
}

/** Literal model paths the script loads: candidates the extension can offer to link. */
export function linkSuggestions(m: ScriptModel, scriptPath: string): LinkSuggestion[] {
  return m.keras.loadPaths
    .filter((p) => !/(^|\.)load_weights$/.test(p.loader))
    .map((p) => ({ modelPath: path.resolve(path.dirname(scriptPath), p.path), loader: p.loader, range: m.range(p.expr.s, p.expr.e) }));
}

/** The runtime a model's format implies (the analysis engine refines this with versions). */
export function runtimeOfFormat(format: ModelFormat): Runtime {
  switch (format) {
    case 'saved-model-tf1':
    case 'tf1-meta-checkpoint':
      return 'tf1-graph';
    case 'keras-v3':
    case 'saved-model-keras3-export':
      return 'keras3';
    default:
      return 'tf2-keras';
  }
}

/** Opens a model (structure only) and resolves its runtime with the analysis engine. Throws ModelReadError. */
export async function runtimeOfModelFile(modelPath: string): Promise<{ runtime: Runtime; why: string }> {
  const { openModel } = await import('../open');
  const { resolveRuntime } = await import('../analysis/runtimes/resolve');
  const handle = await openModel(modelPath);
  try {
    return resolveRuntime(handle.model, { runtime: 'auto' });
  } finally {
    await handle.close();
  }
}
