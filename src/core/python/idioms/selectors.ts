// What a `var_list=` / `variables_to_train=` expression selects, as far as the script says it literally:
// tf.trainable_variables(scope) and get_collection(TRAINABLE_VARIABLES, scope) select by re.match of the
// scope (a prefix, in practice); filter_variables(include_patterns/exclude_patterns) by re.search; list
// comprehensions by startswith / `in`. Anything else is 'restricted' (a subset, unknown which) or 'unknown'.
import { type CallExpr, type Expr, argument, dottedName, strList, strValue } from '../syntax';
import type { Bindings } from './env';
import type { NameResolver } from './names';

export type PatternKind = 'search' | 'match' | 'prefix' | 'substring';

export type Selector =
  | { readonly kind: 'all' }
  | {
      readonly kind: 'patterns';
      /** How each pattern is applied to a variable name. */
      readonly how: PatternKind;
      readonly include: readonly string[] | null;
      readonly exclude: readonly string[];
      readonly base: Selector;
      /** The call/comprehension that selects (for fix generation). */
      readonly source: Expr;
      /** Callee as written, for filter_variables (to reuse in a fix). */
      readonly calleeText: string | null;
    }
  | { readonly kind: 'union'; readonly parts: readonly Selector[] }
  | { readonly kind: 'restricted'; readonly why: string }
  | { readonly kind: 'unknown' };

/** A function of the script, for following calls to helpers that return variable lists. */
export interface LocalFunction {
  /** Dotted path of the function ('main._filter'). */
  readonly path: string;
  readonly params: readonly string[];
  readonly returns: readonly { readonly value: Expr; readonly at: number }[];
}

export interface SelectorEnv {
  readonly names: NameResolver;
  readonly bindings: Bindings;
  readonly src: string;
  /** Local functions by their simple name (the last one defined wins). */
  readonly functions?: ReadonlyMap<string, LocalFunction>;
  /** Calls reached while resolving (to tell which compute_gradients feed an apply_gradients). */
  readonly visited?: Set<CallExpr>;
}

/** Arguments bound to the parameters of a local function being followed. */
type Frame = ReadonlyMap<string, { readonly expr: Expr; readonly at: number; readonly fn: string; readonly frame: Frame | undefined }>;

const VAR_LISTERS = new Set([
  'tf.trainable_variables',
  'tf.global_variables',
  'tf.all_variables',
  'tf.model_variables',
  'slim.get_trainable_variables',
  'slim.get_model_variables',
  'slim.get_variables',
  'tf.contrib.framework.get_trainable_variables',
  'tf.contrib.framework.get_model_variables',
  'tf.contrib.framework.get_variables',
]);

export function isVariablesCollectionKey(e: Expr | undefined, names: NameResolver): boolean {
  if (!e) return false;
  if (e.k === 'str') return e.value === 'trainable_variables' || e.value === 'variables' || e.value === 'model_variables';
  const d = names.canon(dottedName(e));
  return !!d && /(^|\.)(TRAINABLE_VARIABLES|GLOBAL_VARIABLES|MODEL_VARIABLES)$/.test(d);
}

export function isUpdateOpsKey(e: Expr | undefined, names: NameResolver): boolean {
  if (!e) return false;
  if (e.k === 'str') return e.value === 'update_ops';
  const d = dottedName(e);
  return !!d && /(^|\.)UPDATE_OPS$/.test(names.canon(d) ?? d);
}

export function resolveSelector(e: Expr | undefined, env: SelectorEnv, at: number, fn: string, depth = 0, frame?: Frame): Selector {
  if (!e || e.k === 'none') return { kind: 'all' };
  if (depth > 8) return { kind: 'unknown' };
  const d = depth + 1;
  switch (e.k) {
    case 'call':
      return callSelector(e, env, at, fn, d, frame);
    case 'name':
    case 'attr': {
      const key = dottedName(e);
      if (key === null) return { kind: 'unknown' };
      const arg = frame?.get(key);
      if (arg) return resolveSelector(arg.expr, env, arg.at, arg.fn, d, arg.frame);
      const b = env.bindings.lookup(key, at, fn);
      if (!b) return { kind: 'unknown' };
      const own = resolveSelector(b.value, env, b.stmt.s, b.fn, d, frame);
      const growth = env.bindings.growthOf(key, fn).filter((g) => g.stmt.s > b.stmt.s && g.stmt.s < at);
      if (growth.length === 0) return own;
      const parts: Selector[] = [];
      if (!(b.value.k === 'list' && b.value.items.length === 0)) parts.push(own);
      for (const g of growth) parts.push(g.how === 'append' ? { kind: 'restricted', why: 'variables appended one by one' } : resolveSelector(g.value, env, g.stmt.s, fn, d, frame));
      return union(parts);
    }
    case 'binop':
      if (e.op === '+') return union([resolveSelector(e.left, env, at, fn, d, frame), resolveSelector(e.right, env, at, fn, d, frame)]);
      return { kind: 'unknown' };
    case 'list':
      if (e.items.length === 0) return { kind: 'restricted', why: 'an empty list' };
      if (e.items.every((i) => i.k === 'star')) return union(e.items.map((i) => resolveSelector((i as { value: Expr }).value, env, at, fn, d, frame)));
      return { kind: 'restricted', why: 'an explicit list of variables' };
    case 'comp':
      return comprehensionSelector(e, env, at, fn, d, frame);
    default:
      return { kind: 'unknown' };
  }
}

/**
 * A call to a helper defined in the script: what its returns select, with the call's arguments bound to its
 * parameters. A helper that returns every variable on one branch and a subset on another (a configuration flag
 * such as --trainable_scopes) selects a subset when so configured.
 */
function localFunctionSelector(c: CallExpr, env: SelectorEnv, at: number, fn: string, d: number, frame: Frame | undefined): Selector | null {
  if (c.fn.k !== 'name' || c.splat) return null;
  const f = env.functions?.get(c.fn.name);
  if (!f || f.returns.length === 0) return null;
  const bound = new Map<string, { expr: Expr; at: number; fn: string; frame: Frame | undefined }>();
  f.params.forEach((p, i) => {
    const a = c.kwargs.find((k) => k.name === p)?.value ?? c.args[i];
    if (a) bound.set(p, { expr: a, at, fn, frame });
  });
  const parts = f.returns.map((r) => resolveSelector(r.value, env, r.at, f.path, d, bound));
  if (parts.some((p) => p.kind === 'unknown')) return { kind: 'unknown' };
  const narrowed = parts.filter((p) => p.kind !== 'all');
  if (narrowed.length > 0 && narrowed.length < parts.length) {
    return narrowed.length === 1 && narrowed[0]!.kind === 'patterns' ? narrowed[0]! : { kind: 'restricted', why: `a subset when ${c.fn.name}() takes its narrowing branch` };
  }
  return union(parts);
}

function union(parts: Selector[]): Selector {
  const flat: Selector[] = [];
  for (const p of parts) {
    if (p.kind === 'union') flat.push(...p.parts);
    else flat.push(p);
  }
  if (flat.some((p) => p.kind === 'all')) return { kind: 'all' };
  if (flat.some((p) => p.kind === 'unknown')) return { kind: 'unknown' };
  if (flat.length === 1) return flat[0]!;
  return { kind: 'union', parts: flat };
}

function callSelector(c: CallExpr, env: SelectorEnv, at: number, fn: string, d: number, frame: Frame | undefined): Selector {
  env.visited?.add(c);
  // optimizer.compute_gradients(loss, var_list): (gradient, variable) pairs of the variables it selects
  if (c.fn.k === 'attr' && c.fn.attr === 'compute_gradients') return resolveSelector(argument(c, 'var_list', 1), env, at, fn, d, frame);
  const local = localFunctionSelector(c, env, at, fn, d, frame);
  if (local) return local;
  const name = env.names.canon(c.callee);
  if (!name) return { kind: 'unknown' };
  if (name === 'list' || name === 'set' || name === 'tuple' || name === 'sorted') return c.args[0] ? resolveSelector(c.args[0], env, at, fn, d, frame) : { kind: 'unknown' };
  // zip(grads, variables): the variables
  if (name === 'zip' && c.args.length === 2 && !c.splat) return resolveSelector(c.args[1], env, at, fn, d, frame);
  if (VAR_LISTERS.has(name)) {
    const scope = argument(c, 'scope', 0);
    if (!scope || scope.k === 'none') return { kind: 'all' };
    const s = strValue(scope);
    return s !== null ? { kind: 'patterns', how: 'match', include: [s], exclude: [], base: { kind: 'all' }, source: c, calleeText: c.callee } : { kind: 'restricted', why: 'a scope computed at run time' };
  }
  if (/(^|\.)get_collection(_ref)?$/.test(name)) {
    if (!isVariablesCollectionKey(argument(c, 'key', 0), env.names)) return { kind: 'unknown' };
    const scope = argument(c, 'scope', 1);
    if (!scope || scope.k === 'none') return { kind: 'all' };
    const s = strValue(scope);
    return s !== null ? { kind: 'patterns', how: 'match', include: [s], exclude: [], base: { kind: 'all' }, source: c, calleeText: c.callee } : { kind: 'restricted', why: 'a scope computed at run time' };
  }
  if (/(^|\.)filter_variables$/.test(name)) {
    const base = resolveSelector(argument(c, 'var_list', 0), env, at, fn, d, frame);
    const incE = argument(c, 'include_patterns', 1);
    const excE = argument(c, 'exclude_patterns', 2);
    const inc = incE && incE.k !== 'none' ? strList(incE) : null;
    const exc = excE && excE.k !== 'none' ? strList(excE) : [];
    if ((incE && incE.k !== 'none' && inc === null) || exc === null) return { kind: 'restricted', why: 'patterns computed at run time' };
    const regSearch = argument(c, 'reg_search', 3);
    const how: PatternKind = regSearch && regSearch.k === 'bool' && !regSearch.value ? 'match' : 'search';
    if (inc === null && exc.length === 0) return base;
    return { kind: 'patterns', how, include: inc, exclude: exc, base, source: c, calleeText: c.callee };
  }
  if (/(^|\.)get_variables_to_restore$/.test(name)) {
    const inc = strList(argument(c, 'include', 0));
    const exc = strList(argument(c, 'exclude', 1)) ?? [];
    return { kind: 'patterns', how: 'prefix', include: inc, exclude: exc, base: { kind: 'all' }, source: c, calleeText: c.callee };
  }
  if (name === 'filter') return { kind: 'restricted', why: 'filter()' };
  return { kind: 'unknown' };
}

/**
 * `[v for v in tf.trainable_variables() if v.name.startswith('B')]`, `... if 'A' not in v.name`, and the same over
 * (gradient, variable) pairs: `[(g, v) for g, v in grads_and_vars if 'dense' in v.name]`.
 */
function comprehensionSelector(e: Extract<Expr, { k: 'comp' }>, env: SelectorEnv, at: number, fn: string, d: number, frame: Frame | undefined): Selector {
  const base = resolveSelector(e.iter, env, at, fn, d, frame);
  if (base.kind === 'unknown') return base;
  const v = variableTarget(e);
  if (!v) return { kind: 'restricted', why: 'a comprehension' };
  if (e.conds.length === 0) return base;
  const include: string[] = [];
  const exclude: string[] = [];
  let how: PatternKind | null = null;
  const setHow = (h: PatternKind) => {
    if (how !== null && how !== h) return false;
    how = h;
    return true;
  };
  const visit = (c: Expr, negated: boolean): boolean => {
    if (c.k === 'not') return visit(c.operand, !negated);
    if (c.k === 'boolop' && c.op === 'and' && !negated) return visit(c.left, false) && visit(c.right, false);
    if (c.k === 'boolop' && c.op === 'or' && !negated) {
      // a or b: both includes
      return visit(c.left, false) && visit(c.right, false);
    }
    if (c.k === 'call' && c.fn.k === 'attr' && c.fn.attr === 'startswith' && isNameOf(c.fn.object, v)) {
      const lits = strList(c.args[0]);
      if (!lits || !setHow('prefix')) return false;
      (negated ? exclude : include).push(...lits);
      return true;
    }
    if (c.k === 'cmp' && c.ops.length === 1 && (c.ops[0] === 'in' || c.ops[0] === 'not in') && c.operands.length === 2 && isNameOf(c.operands[1]!, v)) {
      const lit = strValue(c.operands[0]);
      if (lit === null || !setHow('substring')) return false;
      const neg = negated !== (c.ops[0] === 'not in');
      (neg ? exclude : include).push(lit);
      return true;
    }
    return false;
  };
  for (const c of e.conds) if (!visit(c, false)) return { kind: 'restricted', why: 'a comprehension with a condition' };
  if (how === null) return { kind: 'restricted', why: 'a comprehension' };
  return { kind: 'patterns', how, include: include.length > 0 ? include : null, exclude, base, source: e, calleeText: null };
}

/** The comprehension variable that is the variable itself: `v` in `[v for v in ...]` / `[(g, v) for g, v in ...]`. */
function variableTarget(e: Extract<Expr, { k: 'comp' }>): string | null {
  const el = e.element;
  if (el.k === 'name' && e.targets.length === 1 && el.name === e.targets[0]) return el.name;
  if (el.k === 'list' && el.items.length === 2 && e.targets.length === 2) {
    const second = el.items[1]!;
    if (second.k === 'name' && second.name === e.targets[1]) return second.name;
  }
  return null;
}

/** `v.name`, `v.op.name` for loop variable v. */
function isNameOf(x: Expr, v: string): boolean {
  if (x.k !== 'attr' || x.attr !== 'name') return false;
  const o = x.object;
  if (o.k === 'name') return o.name === v;
  return o.k === 'attr' && o.attr === 'op' && o.object.k === 'name' && o.object.name === v;
}

/** Does the selector select a variable with this name? null when it cannot be told. */
export function selects(sel: Selector, varName: string, test: (pattern: string, how: PatternKind, target: string) => boolean | null): boolean | null {
  switch (sel.kind) {
    case 'all':
      return true;
    case 'unknown':
    case 'restricted':
      return null;
    case 'union': {
      let unknown = false;
      for (const p of sel.parts) {
        const r = selects(p, varName, test);
        if (r === true) return true;
        if (r === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case 'patterns': {
      const b = selects(sel.base, varName, test);
      if (b === false) return false;
      let inc: boolean | null = sel.include === null ? true : false;
      for (const p of sel.include ?? []) {
        const r = test(p, sel.how, varName);
        if (r === null) inc = null;
        else if (r && inc !== null) inc = true;
      }
      if (inc === false) return false;
      for (const p of sel.exclude) {
        const r = test(p, sel.how, varName);
        if (r === true) return false;
        if (r === null) return null;
      }
      return inc === null || b === null ? null : true;
    }
  }
}

/** Restricted: a proper subset of the trainable variables (as far as we can tell). */
export function isRestricted(sel: Selector): boolean {
  switch (sel.kind) {
    case 'all':
    case 'unknown':
      return false;
    case 'restricted':
      return true;
    case 'patterns':
      return true;
    case 'union':
      return sel.parts.every(isRestricted);
  }
}

/** Short human description: "variables matching 'B' (scope)". */
export function describeSelector(sel: Selector): string {
  switch (sel.kind) {
    case 'all':
      return 'all trainable variables';
    case 'unknown':
      return 'an unknown set of variables';
    case 'restricted':
      return `a subset of the variables (${sel.why})`;
    case 'union':
      return sel.parts.map(describeSelector).join(' + ');
    case 'patterns': {
      const q = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');
      const verb = sel.how === 'search' ? 'matching' : sel.how === 'substring' ? 'containing' : 'under';
      const parts: string[] = [];
      if (sel.include) parts.push(`${verb} ${q(sel.include)}`);
      if (sel.exclude.length > 0) parts.push(`not ${verb} ${q(sel.exclude)}`);
      return `variables ${parts.join(' and ')}`;
    }
  }
}
