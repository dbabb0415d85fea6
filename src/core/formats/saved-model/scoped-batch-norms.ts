// BatchNorm layers recognised from variable names alone (TF2 object graphs without Keras metadata: Keras 3
// exports, tf.Module): a scope holding `moving_mean` and `moving_variance` is one. Momentum is not recorded
// in such files; epsilon is taken from the traced functions' `<layer>[_N]/batchnorm/add/y` const when present.
import type { BatchNorm, Variable } from '../../model/ir';
import type { FunctionDef, GraphDef } from '../proto/gen';
import { BUILTIN_OP_DEFAULTS, functionName, lazyGraphNodes, shortFloat32, tensorValues } from '../meta-graph/graph-nodes';

export const KERAS_DEFAULT_MOMENTUM = 0.99;
export const KERAS_DEFAULT_EPSILON = 0.001;

export interface ScopedBatchNorms {
  readonly batchNorms: BatchNorm[];
  /** Layers whose epsilon was not found in any function (defaults used). */
  readonly defaultedEpsilon: string[];
}

/** `scopeOf(v)` gives a variable's layer (scope) or null. */
export function batchNormsFromVariableNames(variables: readonly Variable[], graph: GraphDef | undefined): ScopedBatchNorms {
  const byScope = new Map<string, Map<string, Variable>>();
  for (const v of variables) {
    if (v.optimizerSlot || v.layer === null) continue;
    const leaf = v.name.slice(v.name.lastIndexOf('/') + 1);
    let m = byScope.get(v.layer);
    if (!m) byScope.set(v.layer, (m = new Map()));
    m.set(leaf, v);
  }
  const scopes = [...byScope.entries()].filter(([, m]) => m.has('moving_mean') && m.has('moving_variance'));
  const eps = scopes.length > 0 ? epsilonConsts(graph) : [];
  const batchNorms: BatchNorm[] = [];
  const defaultedEpsilon: string[] = [];
  for (const [scope, m] of scopes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const leaf = scope.slice(scope.lastIndexOf('/') + 1);
    const re = new RegExp(`(^|/)${escapeRe(leaf)}(_\\d+)?/batchnorm/add/y$`);
    const found = eps.find((e) => re.test(e.name));
    if (!found) defaultedEpsilon.push(scope);
    const gamma = m.get('gamma') ?? null;
    const beta = m.get('beta') ?? null;
    batchNorms.push({
      layer: scope,
      className: 'BatchNormalization',
      axis: [-1],
      momentum: KERAS_DEFAULT_MOMENTUM,
      epsilon: found ? found.value : KERAS_DEFAULT_EPSILON,
      center: beta !== null,
      scale: gamma !== null,
      renorm: m.has('renorm_mean'),
      synchronized: false,
      gamma: gamma?.key ?? null,
      beta: beta?.key ?? null,
      movingMean: m.get('moving_mean')?.key ?? null,
      movingVariance: m.get('moving_variance')?.key ?? null,
      trainable: (gamma?.trainable ?? false) || (beta?.trainable ?? false),
      graph: null,
    });
  }
  return { batchNorms, defaultedEpsilon };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `.../batchnorm/add/y` scalar consts in the traced functions (save/restore functions skipped). */
function epsilonConsts(graph: GraphDef | undefined): { name: string; value: number }[] {
  const out: { name: string; value: number }[] = [];
  const fns = graph?.library?.get().function ?? [];
  for (const lazy of fns) {
    // The name first: save/restore functions are skipped without decoding their bodies.
    const fname = functionName(lazy);
    if (fname.includes('_traced_save') || fname.includes('_traced_restore')) continue;
    const f: FunctionDef = lazy.get();
    const heads = lazyGraphNodes(f.nodeDef, BUILTIN_OP_DEFAULTS);
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (head.op !== 'Const' || !head.name.endsWith('batchnorm/add/y')) continue;
      const n = f.nodeDef[i].get();
      const t = n.attr.get('value')?.tensor;
      const v = t ? tensorValues(t, 1) : null;
      if (v && typeof v[0] === 'number') out.push({ name: n.name, value: shortFloat32(v[0]) });
    }
  }
  return out;
}
