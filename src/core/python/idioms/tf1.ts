// TF1 graph idioms: BatchNorm calls and their training flag, UPDATE_OPS collections, control dependencies
// and the train ops with the variables they train.
import { type CallExpr, type Expr, type Kwarg, argument, dottedName, kwarg, mentionsName, strValue, visitExpr } from '../syntax';
import { type Ctx, type CtxEntry, type Fact, type StmtInfo, ctxEntries, ctxFunction } from './collect';
import type { Bindings } from './env';
import type { NameResolver } from './names';
import { type LocalFunction, type Selector, type SelectorEnv, isUpdateOpsKey, resolveSelector } from './selectors';

/** The training flag of a BN call: a literal, or something decided at run time (placeholder, parameter). */
export type TrainingFlag = { readonly kind: 'literal'; readonly value: boolean; readonly expr: Expr | null } | { readonly kind: 'dynamic'; readonly expr: Expr };

export interface Tf1BatchNorm {
  readonly api: 'tf.layers' | 'slim';
  /** The call that creates the BN: the BN call itself, or the conv/fc call with normalizer_fn. */
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  readonly training: TrainingFlag;
  /** Where the flag is written (kwarg in this call, normalizer_params, arg_scope), null when defaulted. */
  readonly trainingKwarg: Kwarg | null;
  /** Name of the keyword that carries the flag ('training' for tf.layers, 'is_training' for slim). */
  readonly trainingParam: 'training' | 'is_training';
  readonly trainable: boolean | null;
  /** slim: updates_collections=None forces updates in place (no UPDATE_OPS needed). */
  readonly inPlaceUpdates: boolean;
  /** Static variable-scope path ('A/block1'); null when some enclosing scope is computed at run time. */
  readonly scope: string | null;
  /** `name=`/`scope=` of the BN itself, when literal. */
  readonly name: string | null;
}

/** A network from the TF-Slim model zoo (they contain BN, except VGG and friends), called with is_training. */
export interface Tf1Network {
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  readonly training: TrainingFlag;
}

export interface UpdateOpsRef {
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  /** undefined: no scope (every update op); string: literal scope (re.match); null: scope computed at run time. */
  readonly scope: string | null | undefined;
  /** The name the collection was assigned to, if any. */
  readonly assignedTo: string | null;
  /** Used somewhere: in control_dependencies, a group, a sess.run, an update_ops= argument... */
  readonly used: boolean;
  /** Narrowed after collection: passed to filter_variables, or iterated by a comprehension with a condition. */
  readonly filtered: boolean;
}

export type TrainOpKind = 'minimize' | 'compute_gradients' | 'apply_gradients' | 'gradients' | 'create_train_op' | 'optimize_loss' | 'optimize_clones';

export interface TrainOp {
  readonly kind: TrainOpKind;
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  readonly fn: string;
  /** The var_list expression (null when absent). */
  readonly varListExpr: Expr | null;
  readonly selector: Selector;
  /** create_train_op / optimize_loss: the update_ops argument (undefined when absent = all UPDATE_OPS). */
  readonly updateOpsArg: Expr | undefined;
  /** UPDATE_OPS collections this op is built under (control_dependencies), [] when none. */
  readonly underUpdateOps: readonly UpdateOpsRef[];
  /** Under some control_dependencies whose content we cannot see. */
  readonly underOtherDeps: boolean;
  /** The name the op is assigned to (`train_op = opt.minimize(...)`), if any. */
  readonly assignedTo: string | null;
  /** compute_gradients whose pairs feed this apply_gradients (they are one train op together). */
  readonly consumes: readonly CallExpr[];
}

export interface Tf1Model {
  readonly batchNorms: readonly Tf1BatchNorm[];
  readonly networks: readonly Tf1Network[];
  readonly updateOps: readonly UpdateOpsRef[];
  readonly trainOps: readonly TrainOp[];
  /** The script mentions UPDATE_OPS / 'update_ops' in any way (also in a way we do not model). */
  readonly mentionsUpdateOps: boolean;
  /** Keras layers' own update mechanism in a TF1 graph (model.updates / get_updates_for). */
  readonly usesKerasUpdates: boolean;
  /** get_updates_for(...) calls among the facts (usesKerasUpdates also looks at the text). */
  readonly kerasUpdateCalls: boolean;
}

const TF_LAYERS_BN = new Set(['tf.layers.batch_normalization', 'tf.layers.BatchNormalization']);
const SLIM_BN = new Set(['slim.batch_norm', 'slim.layers.batch_norm', 'tf.contrib.layers.batch_norm', 'tf.contrib.layers.python.layers.batch_norm', 'slim.layers.python.layers.batch_norm']);
const SLIM_NETS = /(^|\.)(resnet_v1_\d+|resnet_v2_\d+|inception_v[1-4]|inception_resnet_v2|mobilenet_v1(_\d+)?|mobilenet_v2(_\d+)?|mobilenet|nasnet_large|nasnet_mobile|nasnet_cifar|pnasnet_large|pnasnet_mobile|i3d|s3dg)$/;

export function buildTf1(facts: readonly Fact[], names: NameResolver, bindings: Bindings, src: string): Tf1Model {
  const env: SelectorEnv = { names, bindings, src, functions: localFunctions(facts) };
  const batchNorms: Tf1BatchNorm[] = [];
  const networks: Tf1Network[] = [];
  const updateOps: UpdateOpsRef[] = [];
  const trainOpsRaw: { kind: TrainOpKind; call: CallExpr; stmt: StmtInfo }[] = [];
  let usesKerasUpdates = false;

  // UPDATE_OPS collections first (train ops refer to them)
  const assignedCall = new Map<CallExpr, string>();
  for (const f of facts) {
    if (f.kind === 'assign' && f.targets.length === 1 && f.targets[0]!.k === 'name' && f.value.k === 'call') assignedCall.set(f.value, f.targets[0]!.name);
  }
  for (const f of facts) {
    if (f.kind !== 'call') continue;
    const name = names.canon(f.call.callee) ?? '';
    if (/(^|\.)get_collection(_ref)?$/.test(name) && isUpdateOpsKey(argument(f.call, 'key', 0), names)) {
      const scopeE = argument(f.call, 'scope', 1);
      const scope = !scopeE || scopeE.k === 'none' || isCloneScope(scopeE, bindings, f.call.s, ctxFunction(f.stmt.ctx)) ? undefined : strValue(scopeE);
      const assignedTo = assignedCall.get(f.call) ?? null;
      // used: the call is not simply assigned, or the name it is assigned to is read elsewhere (counted below)
      const used = assignedTo === null ? f.stmt.type !== 'expression_statement' || !isBareCall(f) : false;
      updateOps.push({ call: f.call, stmt: f.stmt, scope, assignedTo, used, filtered: false });
    }
    if (/(^|\.)(get_updates_for)$/.test(f.call.callee ?? '')) usesKerasUpdates = true;
  }
  const uses = countIdentUses(facts, new Set(updateOps.flatMap((r) => (r.assignedTo === null ? [] : [r.assignedTo]))));
  for (let i = 0; i < updateOps.length; i++) {
    const r = updateOps[i]!;
    if (r.assignedTo !== null) updateOps[i] = { ...r, used: (uses.get(r.assignedTo) ?? 0) > 1 };
  }
  // narrowed collections: filter_variables(get_collection(UPDATE_OPS), ...), [op for op in ... if cond]
  const narrowers: { s: number; e: number }[] = [];
  for (const f of updateOps.length > 0 ? facts : []) {
    if (f.kind === 'call' && /(^|\.)filter_variables$/.test(names.canon(f.call.callee) ?? '')) narrowers.push({ s: f.call.argsS, e: f.call.argsE });
    if ((f.kind === 'assign' || f.kind === 'expr' || f.kind === 'return') && f.stmt.idents.includes('for')) {
      const root = f.kind === 'assign' ? f.value : f.kind === 'expr' ? f.expr : f.value;
      if (root) visitExpr(root, (x) => {
        if (x.k === 'comp' && x.conds.length > 0) narrowers.push({ s: x.iter.s, e: x.iter.e });
      });
    }
  }
  for (let i = 0; i < updateOps.length; i++) {
    const r = updateOps[i]!;
    if (narrowers.some((n) => r.call.s >= n.s && r.call.e <= n.e)) updateOps[i] = { ...r, filtered: true };
  }

  // one closure for the loop (not one per call): the keyword of the current call, or of its functools.partial alias
  let cur: CallExpr | null = null;
  let curPreset: readonly Kwarg[] = [];
  const kw = (k: string): Kwarg | undefined => (cur ? kwarg(cur, k) : undefined) ?? curPreset.find((p) => p.name === k);
  for (const f of facts) {
    if (f.kind !== 'call') continue;
    const method = f.call.fn.k === 'attr' ? f.call.fn.attr : null;
    if (method === 'minimize') trainOpsRaw.push({ kind: 'minimize', call: f.call, stmt: f.stmt });
    else if (method === 'compute_gradients') trainOpsRaw.push({ kind: 'compute_gradients', call: f.call, stmt: f.stmt });
    else if (method === 'apply_gradients') trainOpsRaw.push({ kind: 'apply_gradients', call: f.call, stmt: f.stmt });
    const { name, presetKwargs } = names.resolveCall(f.call);
    if (!name) continue;
    cur = f.call;
    curPreset = presetKwargs;
    if (TF_LAYERS_BN.has(name)) {
      // tf.layers.BatchNormalization(...) is a constructor: its training flag is on the call of the layer
      const isCtor = name.endsWith('BatchNormalization');
      const trainingK = isCtor ? outerCallKwarg(f, facts, 'training') : kw('training');
      batchNorms.push({
        api: 'tf.layers',
        call: f.call,
        stmt: f.stmt,
        training: trainingK ? flagOf(trainingK.value) : { kind: 'literal', value: false, expr: null },
        trainingKwarg: trainingK ?? null,
        trainingParam: 'training',
        trainable: boolLit(kw('trainable')?.value),
        inPlaceUpdates: false,
        scope: staticScope(f.stmt.ctx),
        name: strValue(kw('name')?.value),
      });
    } else if (SLIM_BN.has(name)) {
      batchNorms.push(slimBn(f.call, f.stmt, (k) => kw(k) ?? argScopeKwarg(f.stmt.ctx, names, k), names, bindings));
    } else {
      const nf = kw('normalizer_fn');
      const nfName = nf ? names.canon(dottedName(nf.value)) : null;
      if (nfName && SLIM_BN.has(nfName)) batchNorms.push(slimBn(f.call, f.stmt, (k) => normalizerParam(f.call, presetKwargs, k, bindings, f.stmt) ?? argScopeKwarg(f.stmt.ctx, names, k), names, bindings));
      else if (!nf && /^slim\.(conv2d|fully_connected|separable_conv2d|conv2d_transpose|conv2d_in_plane|layers\.conv2d)$/.test(name) && argScopeNormalizer(f.stmt.ctx, names)) {
        batchNorms.push(slimBn(f.call, f.stmt, (k) => argScopeNormalizerParam(f.stmt.ctx, names, bindings, k) ?? argScopeKwarg(f.stmt.ctx, names, k), names, bindings));
      }
      if (SLIM_NETS.test(name) || /(^|\.)get_network_fn$/.test(name)) {
        const t = kw('is_training');
        networks.push({ call: f.call, stmt: f.stmt, training: t ? flagOf(t.value) : { kind: 'literal', value: !/(^|\.)get_network_fn$/.test(name), expr: null } });
      }
    }
    if (name === 'tf.gradients') trainOpsRaw.push({ kind: 'gradients', call: f.call, stmt: f.stmt });
    else if (/(^|\.)create_train_op$/.test(name)) trainOpsRaw.push({ kind: 'create_train_op', call: f.call, stmt: f.stmt });
    else if (/(^|\.)optimize_loss$/.test(name)) trainOpsRaw.push({ kind: 'optimize_loss', call: f.call, stmt: f.stmt });
    else if (/(^|\.)optimize_clones$/.test(name)) trainOpsRaw.push({ kind: 'optimize_clones', call: f.call, stmt: f.stmt });
  }

  const trainOps: TrainOp[] = trainOpsRaw.map((t) => {
    const fn = ctxFunction(t.stmt.ctx);
    let varListExpr: Expr | null = null;
    switch (t.kind) {
      case 'minimize':
        varListExpr = argument(t.call, 'var_list', 2) ?? null;
        break;
      case 'compute_gradients':
        varListExpr = argument(t.call, 'var_list', 1) ?? null;
        break;
      case 'gradients':
        varListExpr = argument(t.call, 'xs', 1) ?? null;
        break;
      case 'create_train_op':
        varListExpr = argument(t.call, 'variables_to_train', 5) ?? null;
        break;
      case 'optimize_loss':
        varListExpr = kwarg(t.call, 'variables')?.value ?? null;
        break;
      case 'optimize_clones':
        varListExpr = kwarg(t.call, 'var_list')?.value ?? null;
        break;
      case 'apply_gradients':
        varListExpr = argument(t.call, 'grads_and_vars', 0) ?? null;
    }
    // apply_gradients selects what its (gradient, variable) pairs hold: follow them back to compute_gradients
    const visited = new Set<CallExpr>();
    const selector: Selector =
      t.kind === 'apply_gradients' ? (varListExpr ? resolveSelector(varListExpr, { ...env, visited }, t.call.s, fn) : { kind: 'unknown' }) : resolveSelector(varListExpr ?? undefined, env, t.call.s, fn);
    const consumes = [...visited].filter((c) => c.fn.k === 'attr' && c.fn.attr === 'compute_gradients');
    const deps = ctxEntries(t.stmt.ctx).filter((e): e is Extract<CtxEntry, { kind: 'control-deps' }> => e.kind === 'control-deps');
    const under: UpdateOpsRef[] = [];
    let other = false;
    for (const d of deps) {
      const refs = updateOpsIn(d.deps, updateOps, bindings, t.call.s, fn, 0);
      if (refs.length > 0) under.push(...refs);
      else other = true;
    }
    // `loss = with_dependencies([tf.group(*update_ops)], loss)` and friends: the loss depends on them
    const updateArg = t.kind === 'create_train_op' ? argument(t.call, 'update_ops', 6) : t.kind === 'optimize_loss' ? kwarg(t.call, 'update_ops')?.value : undefined;
    return { kind: t.kind, call: t.call, stmt: t.stmt, fn, varListExpr, selector, updateOpsArg: updateArg, underUpdateOps: under, underOtherDeps: other, assignedTo: assignedCall.get(t.call) ?? null, consumes };
  });

  return withTextFlags({ batchNorms, networks, updateOps, trainOps, mentionsUpdateOps: false, usesKerasUpdates: false, kerasUpdateCalls: usesKerasUpdates }, src);
}

/** The flags read from the text itself (a comment or a string can change them without changing any fact). */
export function withTextFlags(m: Tf1Model, src: string): Tf1Model {
  return { ...m, mentionsUpdateOps: /UPDATE_OPS|['"]update_ops['"]/.test(src), usesKerasUpdates: m.kerasUpdateCalls || /\.updates\b/.test(src) };
}

/** Functions defined in the script with their parameters and returned expressions. */
function localFunctions(facts: readonly Fact[]): Map<string, LocalFunction> {
  const out = new Map<string, LocalFunction>();
  const returns = new Map<string, { value: Expr; at: number }[]>();
  for (const f of facts) {
    if (f.kind !== 'return' || !f.value) continue;
    const fn = ctxFunction(f.stmt.ctx);
    const list = returns.get(fn);
    if (list) list.push({ value: f.value, at: f.stmt.s });
    else returns.set(fn, [{ value: f.value, at: f.stmt.s }]);
  }
  for (const f of facts) {
    if (f.kind !== 'def' || f.isClass) continue;
    const outer = ctxFunction(f.stmt.ctx);
    const path = outer ? `${outer}.${f.name}` : f.name;
    const params = f.params.map((p) => p.name).filter((p) => p !== 'self');
    out.set(f.name, { path, params, returns: returns.get(path) ?? [] });
  }
  return out;
}

/** The scope of a whole model replica (`deploy_config.clone_scope(0)`, `clones[0].scope`): every update op of the model. */
function isCloneScope(e: Expr, bindings: Bindings, at: number, fn: string, depth = 0): boolean {
  if (e.k === 'call' && e.fn.k === 'attr' && e.fn.attr === 'clone_scope') return true;
  if (e.k === 'attr' && e.attr === 'scope' && e.object.k === 'subscript' && /(^|\.)clones$/.test(dottedName(e.object.value) ?? '')) return true;
  if (e.k === 'name' && depth < 3) {
    const b = bindings.lookup(e.name, at, fn);
    return !!b && isCloneScope(b.value, bindings, b.stmt.s, b.fn, depth + 1);
  }
  return false;
}

function isBareCall(f: Extract<Fact, { kind: 'call' }>): boolean {
  return f.stmt.s === f.call.s && f.stmt.e === f.call.e;
}

/** How many statements mention each of `names` (a collection assigned to a name no other statement reads is unused). */
function countIdentUses(facts: readonly Fact[], names: ReadonlySet<string>): Map<string, number> {
  const counts = new Map<string, number>();
  if (names.size === 0) return counts;
  const seen = new Set<StmtInfo>();
  for (const f of facts) {
    if (seen.has(f.stmt)) continue;
    seen.add(f.stmt);
    for (const id of f.stmt.idents) if (names.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** UPDATE_OPS collections an expression depends on: the call itself, a name bound to it, tf.group(*it)... */
function updateOpsIn(e: Expr, refs: readonly UpdateOpsRef[], bindings: Bindings, at: number, fn: string, depth: number): UpdateOpsRef[] {
  if (depth > 5) return [];
  const out: UpdateOpsRef[] = [];
  for (const r of refs) if (r.call.s >= e.s && r.call.e <= e.e) out.push(r);
  const visitNames = (x: Expr) => {
    if (x.k === 'name') {
      const b = bindings.lookup(x.name, at, fn);
      if (b) out.push(...updateOpsIn(b.value, refs, bindings, b.stmt.s, b.fn, depth + 1));
      for (const g of bindings.growthOf(x.name, fn)) out.push(...updateOpsIn(g.value, refs, bindings, g.stmt.s, fn, depth + 1));
    }
  };
  walk(e, visitNames);
  return [...new Set(out)];
}

function walk(e: Expr, f: (x: Expr) => void): void {
  f(e);
  switch (e.k) {
    case 'list':
      e.items.forEach((i) => walk(i, f));
      break;
    case 'call':
      e.args.forEach((a) => walk(a, f));
      e.kwargs.forEach((k) => walk(k.value, f));
      break;
    case 'star':
      walk(e.value, f);
      break;
    case 'binop':
      walk(e.left, f);
      walk(e.right, f);
      break;
    case 'comp':
      walk(e.iter, f);
      break;
    default:
      break;
  }
}

export function flagOf(e: Expr): TrainingFlag {
  if (e.k === 'bool') return { kind: 'literal', value: e.value, expr: e };
  if (e.k === 'call' && e.callee && /(^|\.)constant$/.test(e.callee) && e.args[0]?.k === 'bool') return { kind: 'literal', value: e.args[0].value, expr: e };
  return { kind: 'dynamic', expr: e };
}

function boolLit(e: Expr | undefined): boolean | null {
  return e && e.k === 'bool' ? e.value : null;
}

function slimBn(call: CallExpr, stmt: StmtInfo, kw: (k: string) => Kwarg | undefined, _names: NameResolver, _bindings: Bindings): Tf1BatchNorm {
  const t = kw('is_training');
  const uc = kw('updates_collections');
  return {
    api: 'slim',
    call,
    stmt,
    training: t ? flagOf(t.value) : { kind: 'literal', value: true, expr: null },
    trainingKwarg: t ?? null,
    trainingParam: 'is_training',
    trainable: boolLit(kw('trainable')?.value),
    inPlaceUpdates: !!uc && uc.value.k === 'none',
    scope: staticScope(stmt.ctx),
    name: strValue(kw('scope')?.value),
  };
}

/** A keyword of `normalizer_params={...}` (a dict literal or a name bound to one). */
function normalizerParam(call: CallExpr, preset: readonly Kwarg[], key: string, bindings: Bindings, stmt: StmtInfo): Kwarg | undefined {
  const np = kwarg(call, 'normalizer_params') ?? preset.find((p) => p.name === 'normalizer_params');
  if (!np) return undefined;
  return dictKey(np.value, key, bindings, stmt);
}

function dictKey(e: Expr, key: string, bindings: Bindings, stmt: StmtInfo, depth = 0): Kwarg | undefined {
  if (depth > 3) return undefined;
  if (e.k === 'name') {
    const b = bindings.lookup(e.name, stmt.s, ctxFunction(stmt.ctx));
    return b ? dictKey(b.value, key, bindings, b.stmt, depth + 1) : undefined;
  }
  if (e.k === 'dict') {
    for (const p of e.pairs) if (p.key.k === 'str' && p.key.value === key) return { name: key, value: p.value, s: p.key.s, e: p.value.e };
  }
  if (e.k === 'call' && e.callee === 'dict') return e.kwargs.find((k) => k.name === key);
  return undefined;
}

/** `with slim.arg_scope([slim.batch_norm], is_training=...)`: the innermost arg_scope listing batch_norm. */
function argScopeKwarg(ctx: Ctx, names: NameResolver, key: string): Kwarg | undefined {
  const entries = ctxEntries(ctx).reverse();
  for (const e of entries) {
    if (e.kind !== 'arg-scope') continue;
    const ops = e.call.args[0];
    if (!ops || ops.k !== 'list') continue;
    if (!ops.items.some((i) => SLIM_BN.has(names.canon(dottedName(i)) ?? ''))) continue;
    const k = kwarg(e.call, key);
    if (k) return k;
  }
  return undefined;
}

/** `with slim.arg_scope([slim.conv2d], normalizer_fn=slim.batch_norm, normalizer_params=p)` */
function argScopeNormalizer(ctx: Ctx, names: NameResolver): CallExpr | null {
  for (const e of ctxEntries(ctx).reverse()) {
    if (e.kind !== 'arg-scope') continue;
    const nf = kwarg(e.call, 'normalizer_fn');
    if (nf && SLIM_BN.has(names.canon(dottedName(nf.value)) ?? '')) return e.call;
  }
  return null;
}

function argScopeNormalizerParam(ctx: Ctx, names: NameResolver, bindings: Bindings, key: string): Kwarg | undefined {
  const call = argScopeNormalizer(ctx, names);
  if (!call) return undefined;
  const np = kwarg(call, 'normalizer_params');
  return np ? dictKey(np.value, key, bindings, { s: call.s, e: call.e, indent: '', type: '', idents: [], ctx }) : undefined;
}

/** The `training=` of the call that immediately calls this constructor: `tf.layers.BatchNormalization()(x, training=t)`. */
function outerCallKwarg(f: Extract<Fact, { kind: 'call' }>, facts: readonly Fact[], key: string): Kwarg | undefined {
  for (const g of facts) {
    if (g.kind !== 'call' || g.stmt !== f.stmt) continue;
    if (g.call.fn === f.call || (g.call.fn.s === f.call.s && g.call.fn.e === f.call.e && g.call !== f.call)) return kwarg(g.call, key);
  }
  return undefined;
}

export function staticScope(ctx: Ctx): string | null {
  const parts: string[] = [];
  for (const e of ctxEntries(ctx)) {
    if (e.kind !== 'scope' || e.scopeKind !== 'variable_scope') continue;
    if (e.name === null) return null;
    parts.push(e.name);
  }
  return parts.join('/');
}

/** Does this flag possibly mean training (True or decided at run time)? */
export function mayTrain(t: TrainingFlag): boolean {
  return t.kind === 'dynamic' || t.value;
}

export { mentionsName };
