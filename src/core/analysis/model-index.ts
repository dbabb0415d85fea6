// Lookups over the IR that every analysis step needs, built once per analysis.
import type { BatchNorm, Layer, Model, Variable } from '../model/ir';

export interface ModelIndex {
  readonly model: Model;
  readonly layerByPath: ReadonlyMap<string, Layer>;
  readonly childrenOf: ReadonlyMap<string, readonly Layer[]>;
  readonly variableByKey: ReadonlyMap<string, Variable>;
  /** Model variables: everything except optimizer slots/state. */
  readonly modelVariables: readonly Variable[];
  /** Model variable by TensorFlow name (the first, when a format repeats names). */
  readonly modelVariableByName: ReadonlyMap<string, Variable>;
  /** variable key -> the BatchNorm it belongs to and its slot in it. */
  readonly bnOfVariable: ReadonlyMap<string, { bn: BatchNorm; slot: 'gamma' | 'beta' | 'movingMean' | 'movingVariance' }>;
}

export function indexModel(model: Model): ModelIndex {
  const layerByPath = new Map<string, Layer>();
  const childrenOf = new Map<string, Layer[]>();
  for (const l of model.layers) layerByPath.set(l.path, l);
  for (const l of model.layers) {
    if (l.parent === null) continue;
    let list = childrenOf.get(l.parent);
    if (!list) childrenOf.set(l.parent, (list = []));
    list.push(l);
  }
  const variableByKey = new Map<string, Variable>();
  for (const v of model.variables) variableByKey.set(v.key, v);
  const bnOfVariable = new Map<string, { bn: BatchNorm; slot: 'gamma' | 'beta' | 'movingMean' | 'movingVariance' }>();
  for (const bn of model.batchNorms) {
    for (const slot of ['gamma', 'beta', 'movingMean', 'movingVariance'] as const) {
      const key = bn[slot];
      if (key !== null) bnOfVariable.set(key, { bn, slot });
    }
  }
  const modelVariables = model.variables.filter((v) => !v.optimizerSlot);
  const modelVariableByName = new Map<string, Variable>();
  for (const v of modelVariables) if (!modelVariableByName.has(v.name)) modelVariableByName.set(v.name, v);
  return {
    model,
    layerByPath,
    childrenOf,
    variableByKey,
    modelVariables,
    modelVariableByName,
    bnOfVariable,
  };
}

const ancestorCache = new WeakMap<ModelIndex, Map<string, Layer[]>>();

/** The layer and its ancestors, nearest first (root last). Stops on a cycle or a missing parent. Memoized. */
export function ancestorsOrSelf(index: ModelIndex, path: string): readonly Layer[] {
  let cache = ancestorCache.get(index);
  if (!cache) ancestorCache.set(index, (cache = new Map()));
  let hit = cache.get(path);
  if (!hit) cache.set(path, (hit = computeAncestors(index, path)));
  return hit;
}

function computeAncestors(index: ModelIndex, path: string): Layer[] {
  const out: Layer[] = [];
  const seen = new Set<string>();
  let cur = index.layerByPath.get(path);
  while (cur && !seen.has(cur.path)) {
    out.push(cur);
    seen.add(cur.path);
    cur = cur.parent === null ? undefined : index.layerByPath.get(cur.parent);
  }
  return out;
}

/** Every layer under `path` (excluding it), depth-first. */
export function descendants(index: ModelIndex, path: string): Layer[] {
  const out: Layer[] = [];
  const seen = new Set<string>([path]);
  const stack = [...(index.childrenOf.get(path) ?? [])];
  while (stack.length) {
    const l = stack.pop()!;
    if (seen.has(l.path)) continue;
    seen.add(l.path);
    out.push(l);
    stack.push(...(index.childrenOf.get(l.path) ?? []));
  }
  return out;
}

/** Scope path prefixes of a '/'-separated name, longest first: 'A/b/c' -> ['A/b/c', 'A/b', 'A']. */
export function scopeChain(name: string): string[] {
  const parts = name.split('/');
  const out: string[] = [];
  for (let n = parts.length; n >= 1; n--) out.push(parts.slice(0, n).join('/'));
  return out;
}
