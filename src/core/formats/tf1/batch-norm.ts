// BatchNorm layers of a TF1 graph, grouped by variable scope ('A/batch_normalization').
//
// A scope is a BatchNorm layer when it holds a `moving_mean`/`moving_variance` variable, or a
// FusedBatchNorm/V2/V3 op reads its variables (scale input traced back to a variable), or it contains a
// non-fused `<scope>/moments/mean` op. For each layer:
// - normOps: the FusedBatchNorm* ops reading its variables or named under it (both cond branches when
//   `training` is a tensor), else its `moments/mean` ops, else its `batchnorm/Rsqrt` (inference-only
//   non-fused form);
// - isTraining: fused: the ops' `is_training` attrs (OpDef default true applied): all true -> true, all
//   false -> false, both (a tf.cond over two FusedBatchNorm) -> 'dynamic'. Non-fused: no moments op ->
//   false; moments plus a Switch/Select/If in the scope whose predicate comes from a placeholder ->
//   'dynamic'; else true. trainingInput is that Placeholder/PlaceholderWithDefault;
// - moving-stat updates: every Assign/AssignSub/AssignAdd(VariableOp) op whose target traces back to the
//   moving variable, except its initializer and Saver restore ops;
// - momentum: from the update's `AssignMovingAvg/decay` const (1 - decay) or from `AssignMovingAvg/sub`
//   = 1 - momentum, where momentum may be a cond (Merge, v2 If) or a Select between the momentum const and
//   1.0: the value that is not 1.0; default 0.99;
// - v2 control flow (resource variables): FusedBatchNorm ops and moving-average assigns inside the branch
//   functions of an If/StatelessIf are attributed to the If node, whose inputs carry the variables;
// - epsilon: the fused op's attr, or the `batchnorm/add/y` const; default 0.001.
import type { BatchNorm, GraphNode } from '../../model/ir';
import { shortFloat32 } from '../meta-graph/graph-nodes';
import { ASSIGN_OPS, GraphIndex, IF_OPS, scopeOf } from './graph-index';

const FUSED = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
const COND_PREDICATE_INPUT: Readonly<Record<string, number>> = { Switch: 1, RefSwitch: 1, Select: 0, SelectV2: 0, If: 0, StatelessIf: 0 };

export interface Tf1VariableFacts {
  /** Every variable name in the graph. */
  readonly names: ReadonlySet<string>;
  readonly trainable: ReadonlySet<string>;
  /** Initializer op names (excluded as moving-average writers). */
  readonly initializers: ReadonlySet<string>;
  /** Key of each variable name in the IR. */
  keyOf(name: string): string;
}

export function detectBatchNorms(g: GraphIndex, vars: Tf1VariableFacts): BatchNorm[] {
  const scoped = new ScopedNodes(g);
  const groups = new Map<string, { fused: GraphNode[]; moments: GraphNode[]; opScopes: Set<string> }>();
  const group = (scope: string) => {
    let x = groups.get(scope);
    if (!x) groups.set(scope, (x = { fused: [], moments: [], opScopes: new Set([scope]) }));
    return x;
  };

  for (const name of vars.names) {
    const last = name.slice(name.lastIndexOf('/') + 1);
    if (last === 'moving_mean' || last === 'moving_variance') group(scopeOf(name));
  }
  for (const n of g.nodes) {
    if (!FUSED.has(n.op)) continue;
    const inputs = g.dataInputs(n);
    let scope: string | null = null;
    for (const k of [1, 2, 3, 4]) {
      const v = inputs[k] === undefined ? null : g.resolveVariable(inputs[k]);
      if (v && vars.names.has(v.name)) {
        scope = scopeOf(v.name);
        break;
      }
    }
    const opScope = scopeOutsideCond(n.name);
    const x = group(scope ?? opScope);
    x.fused.push(n);
    x.opScopes.add(opScope);
  }
  // v2 control flow (resource variables, `If`): FusedBatchNorm* ops live in the branch functions of an If
  // whose inputs are the variables. The If node stands for them (it is what a train op reaches).
  const ifFlags = new Map<GraphNode, { flags: Set<boolean>; epsilon: number | null; dataFormat: string | null }>();
  for (const n of g.nodes) {
    if (!IF_OPS.has(n.op)) continue;
    let scope: string | null = null;
    const info = { flags: new Set<boolean>(), epsilon: null as number | null, dataFormat: null as string | null };
    for (const body of g.branches(n)) {
      for (const inner of body.index.nodes) {
        if (!FUSED.has(inner.op)) continue;
        info.flags.add(inner.attrs['is_training']?.kind === 'b' ? inner.attrs['is_training'].value : true);
        const e = inner.attrs['epsilon'];
        if (e?.kind === 'f') info.epsilon = e.value;
        const f = inner.attrs['data_format'];
        if (f?.kind === 's') info.dataFormat = f.value;
        const ins = body.index.dataInputs(inner);
        for (const k of [1, 2, 3, 4]) {
          const arg = ins[k] === undefined ? null : g.argIndex(body, ins[k]);
          const v = arg === null ? null : g.ifArgVariable(n, arg);
          if (v && vars.names.has(v.name)) {
            scope ??= scopeOf(v.name);
            break;
          }
        }
      }
    }
    if (info.flags.size === 0) continue;
    const opScope = scopeOutsideCond(n.name + '/x');
    const x = group(scope ?? opScope);
    x.fused.push(n);
    x.opScopes.add(opScope);
    ifFlags.set(n, info);
  }
  // Non-fused form: '<op scope>/moments/mean'. The op scope differs from the variable scope when a layer is
  // called under another name scope ('dnn/batch_normalization' ops, 'batch_normalization/gamma' variables):
  // link them through the variables the scope's ops read. Moments without BatchNorm variables (layer norm,
  // plain tf.nn.moments) are not BatchNorm layers.
  for (const n of g.nodes) {
    if (n.op !== 'Mean' || !n.name.endsWith('/moments/mean')) continue;
    const opScope = n.name.slice(0, -'/moments/mean'.length);
    const varScope = bnVariableScopeRead(g, scoped, opScope, vars);
    if (varScope === null) continue;
    const x = group(varScope);
    x.moments.push(n);
    x.opScopes.add(opScope);
  }

  const writers = movingAverageWriters(g, vars);
  const out: BatchNorm[] = [];
  for (const [scope, x] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const v = (leaf: string): string | null => (vars.names.has(`${scope}/${leaf}`) ? `${scope}/${leaf}` : null);
    const gamma = v('gamma');
    const beta = v('beta');
    const movingMean = v('moving_mean');
    const movingVariance = v('moving_variance');
    const opScopes = [...x.opScopes];
    const fused = x.fused.slice().sort(byName);
    const moments = x.moments.slice().sort(byName);
    const meanUpdates = movingMean ? (writers.get(movingMean) ?? []) : [];
    const varUpdates = movingVariance ? (writers.get(movingVariance) ?? []) : [];
    const form: 'fused' | 'moments' = fused.length > 0 ? 'fused' : 'moments';
    const predicates = opScopes.flatMap((s) => condPredicates(g, scoped, s));

    let isTraining: boolean | 'dynamic';
    let normOps: string[];
    if (form === 'fused') {
      normOps = fused.map((n) => n.name);
      const flags = new Set<boolean>();
      for (const n of fused) {
        const inIf = ifFlags.get(n);
        if (inIf) inIf.flags.forEach((f) => flags.add(f));
        else flags.add(n.attrs['is_training']?.kind === 'b' ? n.attrs['is_training'].value : true);
      }
      isTraining = flags.size > 1 ? 'dynamic' : flags.has(true);
    } else if (moments.length > 0) {
      normOps = moments.map((n) => n.name);
      isTraining = predicates.length > 0 ? 'dynamic' : true;
    } else {
      normOps = scoped.rsqrt
        .filter((n) => opScopes.some((s) => n.name.startsWith(s + '/')))
        .map((n) => n.name)
        .sort();
      isTraining = false;
    }
    let trainingInput: string | null = null;
    if (isTraining === 'dynamic') {
      for (const pred of predicates) {
        const src = g.predicateSource(pred);
        if (src) {
          trainingInput = src.name;
          break;
        }
      }
    }

    const trainable = (gamma !== null && vars.trainable.has(gamma)) || (beta !== null && vars.trainable.has(beta));
    out.push({
      layer: scope,
      className: 'BatchNormalization',
      axis: axisOf(g, opScopes, fused, ifFlags),
      momentum: momentumOf([...meanUpdates, ...varUpdates]),
      epsilon: epsilonOf(g, scoped, opScopes, fused, ifFlags),
      center: beta !== null,
      scale: gamma !== null,
      renorm: vars.names.has(`${scope}/renorm_mean`),
      synchronized: false,
      gamma: gamma && vars.keyOf(gamma),
      beta: beta && vars.keyOf(beta),
      movingMean: movingMean && vars.keyOf(movingMean),
      movingVariance: movingVariance && vars.keyOf(movingVariance),
      trainable,
      graph: {
        normOps,
        isTraining,
        trainingInput,
        movingMeanUpdates: meanUpdates.map((w) => w.node.name),
        movingVarianceUpdates: varUpdates.map((w) => w.node.name),
        form,
      },
    });
  }
  return out;
}

const BN_LEAVES = new Set(['gamma', 'beta', 'moving_mean', 'moving_variance']);

/**
 * The few node lists the per-layer rules scan, built once per graph: scanning every node for every layer
 * made detection O(nodes x layers). Lists keep graph order, so results are the same as a full scan's.
 */
class ScopedNodes {
  /** Cond/select nodes (COND_PREDICATE_INPUT ops) under each scope: 'a/b/Switch' is under 'a' and 'a/b'. */
  readonly conds = new Map<string, GraphNode[]>();
  /** Nodes named '.../batchnorm/add/y' (the non-fused epsilon const). */
  readonly epsilonConsts: GraphNode[] = [];
  /** Rsqrt nodes with 'batchnorm/' in their name (inference-only non-fused form). */
  readonly rsqrt: GraphNode[] = [];
  private under: Map<string, GraphNode[]> | null = null;

  constructor(private readonly g: GraphIndex) {
    for (const n of g.nodes) {
      if (COND_PREDICATE_INPUT[n.op] !== undefined) addUnderScopes(this.conds, n);
      if (n.name.endsWith('batchnorm/add/y')) this.epsilonConsts.push(n);
      if (n.op === 'Rsqrt' && n.name.includes('batchnorm/')) this.rsqrt.push(n);
    }
  }

  /** Every node whose name starts with `scope + '/'`, in graph order (index built on first use). */
  nodesUnder(scope: string): readonly GraphNode[] {
    if (!this.under) {
      this.under = new Map();
      for (const n of this.g.nodes) addUnderScopes(this.under, n);
    }
    return this.under.get(scope) ?? [];
  }
}

/** Adds `n` to the list of every scope `s` with n.name.startsWith(s + '/'). */
function addUnderScopes(into: Map<string, GraphNode[]>, n: GraphNode): void {
  const name = n.name;
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const s = name.slice(0, i);
    let list = into.get(s);
    if (!list) into.set(s, (list = []));
    list.push(n);
  }
}

/** The scope of the BatchNorm variables read by ops under `opScope`, or null. */
function bnVariableScopeRead(g: GraphIndex, scoped: ScopedNodes, opScope: string, vars: Tf1VariableFacts): string | null {
  if (vars.names.has(`${opScope}/moving_mean`) || vars.names.has(`${opScope}/moving_variance`)) return opScope;
  for (const n of scoped.nodesUnder(opScope)) {
    for (const i of g.dataInputs(n)) {
      const v = g.resolveVariable(i);
      if (v && vars.names.has(v.name) && BN_LEAVES.has(v.name.slice(v.name.lastIndexOf('/') + 1))) return scopeOf(v.name);
    }
  }
  return null;
}

function byName(a: GraphNode, b: GraphNode): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** 'A/bn/cond/FusedBatchNormV3_1' -> 'A/bn' (drops the op name and any trailing cond/cond_N scopes). */
function scopeOutsideCond(nodeName: string): string {
  const parts = scopeOf(nodeName).split('/');
  while (parts.length > 1 && /^cond(_\d+)?$/.test(parts[parts.length - 1])) parts.pop();
  return parts.join('/');
}

/** An op writing a variable: `node` is in the graph; `inner` is the assign op itself (inside a branch function when `node` is an If). */
interface Writer {
  readonly node: GraphNode;
  readonly inner: GraphNode;
  /** Where `inner` lives (the graph, or the branch body). */
  readonly index: GraphIndex;
}

/**
 * Variable name -> the ops that write it, minus its initializer and Saver restores. An If/StatelessIf whose
 * branch function assigns to one of its variable arguments counts as a writer of that variable.
 */
function movingAverageWriters(g: GraphIndex, vars: Tf1VariableFacts): Map<string, Writer[]> {
  const out = new Map<string, Writer[]>();
  const add = (v: string, w: Writer): void => {
    let list = out.get(v);
    if (!list) out.set(v, (list = []));
    if (!list.some((x) => x.node === w.node)) list.push(w);
  };
  for (const n of g.nodes) {
    if (ASSIGN_OPS.has(n.op)) {
      if (vars.initializers.has(n.name)) continue;
      const target = g.dataInputs(n)[0];
      const v = target === undefined ? null : g.resolveVariable(target);
      if (!v || !vars.names.has(v.name)) continue;
      if (n.name === `${v.name}/Assign` || g.isRestoreWrite(n)) continue;
      add(v.name, { node: n, inner: n, index: g });
    } else if (IF_OPS.has(n.op)) {
      for (const body of g.branches(n)) {
        for (const inner of body.index.nodes) {
          if (!ASSIGN_OPS.has(inner.op)) continue;
          const target = body.index.dataInputs(inner)[0];
          const k = target === undefined ? null : g.argIndex(body, target);
          const v = k === null ? null : g.ifArgVariable(n, k);
          if (v && vars.names.has(v.name)) add(v.name, { node: n, inner, index: body.index });
        }
      }
    }
  }
  for (const list of out.values()) list.sort((a, b) => byName(a.node, b.node));
  return out;
}

/** Predicate tensors of the conds/selects inside a scope. */
function condPredicates(g: GraphIndex, scoped: ScopedNodes, scope: string): string[] {
  const out: string[] = [];
  for (const n of scoped.conds.get(scope) ?? []) {
    const k = COND_PREDICATE_INPUT[n.op];
    if (k === undefined) continue;
    const pred = g.dataInputs(n)[k];
    if (pred !== undefined && !out.includes(pred)) out.push(pred);
  }
  return out;
}

function epsilonOf(
  g: GraphIndex,
  scoped: ScopedNodes,
  opScopes: readonly string[],
  fused: readonly GraphNode[],
  inIf: ReadonlyMap<GraphNode, { epsilon: number | null }>,
): number {
  for (const n of fused) {
    const e0 = inIf.get(n)?.epsilon;
    if (e0 !== undefined && e0 !== null) return shortFloat32(e0);
    const e = n.attrs['epsilon'];
    if (e?.kind === 'f') return shortFloat32(e.value);
  }
  for (const n of scoped.epsilonConsts) {
    if (opScopes.some((s) => n.name.startsWith(s + '/'))) {
      const c = g.constScalar(n.name);
      if (typeof c === 'number') return shortFloat32(c);
    }
  }
  return 0.001;
}

function momentumOf(updates: readonly Writer[]): number {
  for (const { inner, index } of updates) {
    const decay = index.byName.get(`${inner.name}/decay`) ?? index.byName.get(`${scopeOf(inner.name)}/decay`);
    if (decay) {
      const c = index.constScalar(decay.name);
      if (typeof c === 'number') return shortFloat32(1 - c);
    }
    // update = (var - value) * (1 - momentum): AssignMovingAvg/sub = Sub(1.0, momentum)
    const sub = index.byName.get(`${inner.name}/sub`) ?? index.byName.get(`${scopeOf(inner.name)}/sub`);
    if (sub && sub.op === 'Sub') {
      const [x, y] = index.dataInputs(sub);
      if (x !== undefined && y !== undefined && index.constScalar(x) === 1) {
        const m = momentumConst(index, y);
        if (m !== null) return shortFloat32(m);
      }
    }
  }
  return 0.99;
}

/**
 * The momentum behind a tensor: a const, or when `training` is a tensor the non-1.0 const among the
 * branches of a cond Merge / Select (TF 1.4 builds `Select(training, momentum, 1.0)` through
 * ExpandDims/Reshape/Squeeze).
 */
function momentumConst(g: GraphIndex, tensor: string): number | null {
  const queue = [tensor];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < 64) {
    const t = queue.shift() as string;
    const n = g.node(t);
    if (!n || seen.has(n.name)) continue;
    seen.add(n.name);
    const c = g.constScalar(n.name);
    if (typeof c === 'number') {
      if (c !== 1) return c;
      continue;
    }
    const inputs = g.dataInputs(n);
    if (IF_OPS.has(n.op)) {
      // v2 cond(training, momentum, 1.0): the branches return scalar consts
      const consts = new Set<number>();
      for (const body of g.branches(n)) {
        for (const c of body.index.nodes) {
          const v = c.op === 'Const' ? body.index.constScalar(c.name) : null;
          if (typeof v === 'number' && v !== 1) consts.add(v);
        }
      }
      if (consts.size === 1) return [...consts][0];
    } else if (n.op === 'Merge') queue.push(...inputs);
    else if (n.op === 'Select' || n.op === 'SelectV2') queue.push(...inputs.slice(1, 3));
    else if (MOMENTUM_PASS.has(n.op) && inputs[0] !== undefined) queue.push(inputs[0]);
  }
  return null;
}

const MOMENTUM_PASS = new Set(['Identity', 'Squeeze', 'ExpandDims', 'Reshape', 'Switch', 'Cast']);

function axisOf(g: GraphIndex, opScopes: readonly string[], fused: readonly GraphNode[], inIf: ReadonlyMap<GraphNode, { dataFormat: string | null }>): number[] {
  if (fused.length > 0) {
    const f = fused[0].attrs['data_format'];
    const fmt = inIf.get(fused[0])?.dataFormat ?? (f?.kind === 's' ? f.value : 'NHWC');
    if (fmt === 'NCHW' || fmt === 'NCDHW') return [1];
    return [fmt === 'NDHWC' ? 4 : 3];
  }
  for (const scope of opScopes) {
    const red = g.constValues(`${scope}/moments/mean/reduction_indices`);
    if (red && red.every((x) => typeof x === 'number')) {
      const r = (red as number[]).slice().sort((a, b) => a - b);
      if (r.every((x, i) => x === i)) return [r.length];
    }
  }
  return [-1];
}
