// What the optimizer trains under a config: the freeze/train patterns applied to the model.
// TF1 graphs: patterns select variables by op name, as filter_variables(include_patterns, exclude_patterns)
// does on the trainable_variables collection. Keras: patterns select layers by path; a matching layer gets
// trainable=False, and so does everything inside it.
import type { Model, Variable } from '../model/ir';
import { compilePattern, type CompiledPattern } from './patterns';
import { ancestorsOrSelf, indexModel, type ModelIndex } from './model-index';
import type { FreezeConfig, PatternMatch, PatternSyntax, Runtime } from './types';

export type PatternList = 'freeze' | 'train';

export interface PatternRef {
  readonly list: PatternList;
  readonly index: number;
  readonly pattern: string;
}

/** Why a variable is left out: a freeze pattern, missing from the train allow-list, frozen in the saved model, or never trainable. */
export type ExclusionCause = 'freeze-pattern' | 'not-in-train-list' | 'saved-frozen' | 'not-trainable' | 'not-in-saved-train-op';

export type VariableTrainStatus =
  | { readonly trains: true }
  | {
      readonly trains: false;
      readonly reason: 'not-in-var-list' | 'frozen' | 'not-trainable';
      readonly cause: ExclusionCause;
      readonly by: PatternRef | null;
      /** Keras: the layer whose trainable=False froze this variable. */
      readonly frozenLayer: string | null;
    };

export interface LayerFreeze {
  readonly cause: Exclude<ExclusionCause, 'not-trainable' | 'not-in-saved-train-op'>;
  readonly by: PatternRef | null;
  readonly layer: string;
}

export interface TrainSelection {
  readonly byKey: ReadonlyMap<string, VariableTrainStatus>;
  /** Keras: layer path -> trainable after the config is applied (TF1: empty). */
  readonly layerTrainable: ReadonlyMap<string, boolean>;
  /** Keras: layer path -> what froze it (a pattern, or the model's own saved flag on this layer or an ancestor). */
  readonly layerFrozenBy: ReadonlyMap<string, LayerFreeze>;
  readonly patterns: readonly { readonly ref: PatternRef; readonly match: PatternMatch }[];
}

/** Patterns match layer paths for the Keras runtimes when the model has layers, else variable names. */
export function matchesLayers(model: Model, runtime: Runtime): boolean {
  return runtime !== 'tf1-graph' && model.layers.some((l) => l.parent !== null);
}

/** What `pattern` selects in `model` (hovers, "matches nothing"). */
export function matchPattern(model: Model, pattern: string, syntax: PatternSyntax, runtime: Runtime, index?: ModelIndex): PatternMatch {
  const compiled = compilePattern(pattern, syntax);
  if (!compiled.ok) return { target: matchesLayers(model, runtime) ? 'layer-path' : 'variable-name', variables: [], layers: [], error: compiled.error };
  return matchCompiled(index ?? indexModel(model), compiled.pattern, runtime);
}

function matchCompiled(index: ModelIndex, p: CompiledPattern, runtime: Runtime): PatternMatch {
  const model = index.model;
  if (matchesLayers(model, runtime)) {
    const layers = model.layers.filter((l) => l.parent !== null && p.test(l.path));
    const matched = new Set(layers.map((l) => l.path));
    const keys: string[] = [];
    if (matched.size > 0) {
      // A matching layer takes every layer inside it along: one pass over the layers, not one per match.
      for (const l of model.layers) {
        if (l.variables.length > 0 && ancestorsOrSelf(index, l.path).some((a) => matched.has(a.path))) keys.push(...l.variables);
      }
    }
    // Variables no layer claims can only be matched by name.
    for (const v of index.modelVariables) if (v.layer === null && p.test(v.name)) keys.push(v.key);
    return { target: 'layer-path', variables: [...new Set(keys)], layers: layers.map((l) => l.path) };
  }
  const vars = index.modelVariables.filter((v) => p.test(v.name));
  const layers = [...new Set(vars.map((v) => v.layer).filter((l): l is string => l !== null))];
  return { target: 'variable-name', variables: vars.map((v) => v.key), layers };
}

export function selectTrained(index: ModelIndex, config: FreezeConfig, runtime: Runtime): TrainSelection {
  const compile = (list: PatternList, patterns: readonly string[]) =>
    patterns.flatMap((pattern, i) => {
      const c = compilePattern(pattern, config.patternSyntax);
      return c.ok ? [{ ref: { list, index: i, pattern }, compiled: c.pattern }] : [];
    });
  const freeze = compile('freeze', config.freeze);
  const train = config.train === null ? null : compile('train', config.train);
  const patterns = [...freeze, ...(train ?? [])].map(({ ref, compiled }) => ({ ref, match: matchCompiled(index, compiled, runtime) }));
  if (!matchesLayers(index.model, runtime)) return selectByName(index, freeze, train, patterns, runtime);
  // Each pattern is tested against each layer path once (in matchCompiled); selection reuses those sets.
  const direct = new Map(patterns.map(({ ref, match }) => [`${ref.list}:${ref.index}`, new Set(match.layers)]));
  for (const c of [...freeze, ...(train ?? [])]) {
    const set = direct.get(`${c.ref.list}:${c.ref.index}`)!;
    const test = c.compiled.test;
    c.compiled = { ...c.compiled, test: (t: string) => set.has(t) || (!index.layerByPath.has(t) && test(t)) };
  }
  return selectKeras(index, freeze, train, patterns, unfreezesSaved(index, config, runtime));
}

/** Does `baseTrainable` override the saved flags? 'model' recurses in tf_keras; Keras 3 skips it when the outer model already is trainable. */
export function unfreezesSaved(index: ModelIndex, config: FreezeConfig, runtime: Runtime): boolean {
  if (config.baseTrainable === 'all') return true;
  if (config.baseTrainable === 'saved') return false;
  if (runtime !== 'keras3') return true;
  const root = index.model.layers.find((l) => l.parent === null);
  return root !== undefined && !root.configTrainable;
}

/** TF1 with the saved train op: the optimizer trains exactly the variables its Apply ops write. */
export function selectBySavedTrainOp(index: ModelIndex, base: TrainSelection, written: ReadonlyMap<string, string>): TrainSelection {
  const byKey = new Map<string, VariableTrainStatus>();
  for (const v of index.modelVariables) {
    const op = written.get(v.name);
    if (op !== undefined && /Apply/.test(op)) byKey.set(v.key, { trains: true });
    else if (!v.trainable) byKey.set(v.key, { trains: false, reason: 'not-trainable', cause: 'not-trainable', by: null, frozenLayer: null });
    else byKey.set(v.key, { trains: false, reason: 'not-in-var-list', cause: 'not-in-saved-train-op', by: null, frozenLayer: null });
  }
  return { ...base, byKey };
}

/**
 * Whether a Keras weight is a trainable kind, independent of its layer's flag (for baseTrainable 'all'):
 * the recorded creation flag when the format has one, else trainable unless it is a BatchNorm statistic or
 * was non-trainable in a trainable layer.
 */
function intrinsicTrainable(v: Variable, index: ModelIndex): boolean {
  if (v.trainable) return true;
  if (v.savedTrainable !== null) return v.savedTrainable;
  if (v.role === 'moving_mean' || v.role === 'moving_variance') return false;
  const layer = v.layer === null ? undefined : index.layerByPath.get(v.layer);
  return layer !== undefined && !layer.trainable && v.role !== 'other';
}

type Compiled = { ref: PatternRef; compiled: CompiledPattern };


function selectByName(index: ModelIndex, freeze: Compiled[], train: Compiled[] | null, patterns: TrainSelection['patterns'], runtime: Runtime): TrainSelection {
  const byKey = new Map<string, VariableTrainStatus>();
  const excluded = runtime === 'tf1-graph' ? 'not-in-var-list' : 'frozen';
  for (const v of index.modelVariables) byKey.set(v.key, statusByName(v, freeze, train, excluded));
  return { byKey, layerTrainable: new Map(), layerFrozenBy: new Map(), patterns };
}

function statusByName(v: Variable, freeze: Compiled[], train: Compiled[] | null, excluded: 'not-in-var-list' | 'frozen'): VariableTrainStatus {
  if (!v.trainable) return { trains: false, reason: 'not-trainable', cause: 'not-trainable', by: null, frozenLayer: null };
  const f = freeze.find((p) => p.compiled.test(v.name));
  if (f) return { trains: false, reason: excluded, cause: 'freeze-pattern', by: f.ref, frozenLayer: null };
  if (train !== null && !train.some((t) => t.compiled.test(v.name))) return { trains: false, reason: excluded, cause: 'not-in-train-list', by: null, frozenLayer: null };
  return { trains: true };
}

function selectKeras(index: ModelIndex, freeze: Compiled[], train: Compiled[] | null, patterns: TrainSelection['patterns'], unfreezeSaved: boolean): TrainSelection {
  const model = index.model;
  const layerTrainable = new Map<string, boolean>();
  const layerFrozenBy = new Map<string, LayerFreeze>();
  for (const l of model.layers) {
    let frozenBy: LayerFreeze | null = null;
    let allowed = train === null;
    for (const a of ancestorsOrSelf(index, l.path)) {
      if (a.parent === null) break; // the root model is never matched: '' would match every regex
      if (!frozenBy) {
        const f = freeze.find((p) => p.compiled.test(a.path));
        if (f) frozenBy = { cause: 'freeze-pattern', by: f.ref, layer: a.path };
      }
      if (!allowed && train!.some((t) => t.compiled.test(a.path))) allowed = true;
    }
    if (!frozenBy && !unfreezeSaved) {
      const savedFrozen = ancestorsOrSelf(index, l.path).find((a) => !a.configTrainable);
      if (savedFrozen || !l.trainable) frozenBy = { cause: 'saved-frozen', by: null, layer: savedFrozen?.path ?? l.path };
    }
    if (!frozenBy && !allowed && l.parent !== null) frozenBy = { cause: 'not-in-train-list', by: null, layer: l.path };
    layerTrainable.set(l.path, frozenBy === null);
    if (frozenBy) layerFrozenBy.set(l.path, frozenBy);
  }
  const byKey = new Map<string, VariableTrainStatus>();
  for (const v of index.modelVariables) {
    if (v.layer === null || !layerTrainable.has(v.layer)) {
      byKey.set(v.key, statusByName(v, freeze, train, 'frozen'));
      continue;
    }
    const frozen = layerFrozenBy.get(v.layer);
    if (frozen) byKey.set(v.key, { trains: false, reason: 'frozen', cause: frozen.cause, by: frozen.by, frozenLayer: frozen.layer });
    else if (!(unfreezeSaved ? intrinsicTrainable(v, index) : v.trainable)) byKey.set(v.key, { trains: false, reason: 'not-trainable', cause: 'not-trainable', by: null, frozenLayer: null });
    else byKey.set(v.key, { trains: true });
  }
  return { byKey, layerTrainable, layerFrozenBy, patterns };
}
