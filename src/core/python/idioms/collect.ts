// One pass over the tree: every statement becomes plain facts (imports, assignments, calls, defs...) with
// the context it runs in (enclosing function, variable scopes, control dependencies, loops, if-guards).
// Facts are cached per statement, keyed by its text and context, so after an edit only the statements that
// changed are walked again; the others are reused with their offsets shifted.
import type { Node, Tree } from 'web-tree-sitter';
import { type CallExpr, type Expr, summarize, targetNames } from '../syntax';

/** What a compound statement adds to the context of its body. */
export type CtxEntry =
  | { readonly kind: 'def'; readonly name: string; readonly isClass: boolean }
  | { readonly kind: 'scope'; readonly call: CallExpr; readonly name: string | null; readonly scopeKind: 'variable_scope' | 'name_scope' }
  | { readonly kind: 'control-deps'; readonly deps: Expr; readonly call: CallExpr }
  | { readonly kind: 'arg-scope'; readonly call: CallExpr }
  | { readonly kind: 'loop'; readonly targets: readonly string[]; readonly iter: Expr; readonly s: number; readonly e: number; readonly end: number }
  | { readonly kind: 'guard'; readonly cond: Expr; readonly negated: boolean };

export interface Ctx {
  readonly parent: Ctx | null;
  readonly own: CtxEntry | null;
  /** Identity of the context as text: equal keys mean the same context. */
  readonly key: string;
  readonly depth: number;
}

export const ROOT_CTX: Ctx = { parent: null, own: null, key: '', depth: 0 };

/** Entries from the outermost to the innermost. */
export function ctxEntries(ctx: Ctx): CtxEntry[] {
  const out: CtxEntry[] = [];
  for (let c: Ctx | null = ctx; c; c = c.parent) if (c.own) out.push(c.own);
  return out.reverse();
}

const fnOfCtx = new WeakMap<Ctx, string>();

/** Enclosing function path ('' at module level), e.g. 'Trainer.build'. Memoized per context object. */
export function ctxFunction(ctx: Ctx): string {
  const hit = fnOfCtx.get(ctx);
  if (hit !== undefined) return hit;
  const own = ctx.own?.kind === 'def' ? ctx.own.name : null;
  const outer = ctx.parent ? ctxFunction(ctx.parent) : '';
  const fn = own === null ? outer : outer ? `${outer}.${own}` : own;
  fnOfCtx.set(ctx, fn);
  return fn;
}

export interface StmtInfo {
  readonly s: number;
  readonly e: number;
  /** Whitespace before the statement on its first line. */
  readonly indent: string;
  readonly type: string;
  /** Identifiers written in the statement (for compound statements: in its header). */
  readonly idents: readonly string[];
  readonly ctx: Ctx;
}

export type Fact =
  | { readonly kind: 'import'; readonly stmt: StmtInfo; readonly module: string | null; readonly names: readonly { readonly name: string; readonly alias: string | null }[]; readonly star: boolean }
  | { readonly kind: 'assign'; readonly stmt: StmtInfo; readonly targets: readonly Expr[]; readonly value: Expr; readonly op: string }
  | { readonly kind: 'expr'; readonly stmt: StmtInfo; readonly expr: Expr }
  | { readonly kind: 'return'; readonly stmt: StmtInfo; readonly value: Expr | null }
  | { readonly kind: 'def'; readonly stmt: StmtInfo; readonly name: string; readonly isClass: boolean; readonly params: readonly { readonly name: string; readonly default: Expr | null }[] }
  | { readonly kind: 'call'; readonly stmt: StmtInfo; readonly call: CallExpr; readonly role: 'stmt' | 'header' };

interface CacheEntry {
  readonly key: string;
  /** Start offset of the statement the facts belong to; moved when the facts are shifted in place. */
  s: number;
  readonly outer: Ctx;
  readonly facts: readonly Fact[];
  /** Top-level entries: the entries of the statements nested in it (shifted along with it). */
  readonly nested?: readonly CacheEntry[];
}

/**
 * Collects facts; keeps a per-statement cache between calls (one collector per document). Top-level statements
 * whose text did not change keep their fact objects, shifted in place when an edit before them moved them, and a
 * re-walked top-level statement whose facts come out the same (an edit in whitespace or a comment) keeps the old
 * objects with the new offsets: `unchanged` then tells the analyzer that every fact is the same object as before,
 * so whatever it derived from them still holds.
 */
export class FactCollector {
  private cache = new Map<string, CacheEntry>();
  private nextCache = new Map<string, CacheEntry>();
  private top: CacheEntry[] = [];
  /** Top-level entries by key; a list, as a script may repeat a statement (`model.summary()`). */
  private topCache = new Map<string, CacheEntry[]>();
  private nextTopCache = new Map<string, CacheEntry[]>();
  private last: readonly Fact[] = [];
  /** Statements walked / reused by the last collect() (for tests and the benchmark). */
  stats = { walked: 0, reused: 0 };
  /** The last collect() returned exactly the fact objects of the one before (offsets may have moved). */
  unchanged = false;
  private recording: CacheEntry[] | null = null;

  collect(tree: Tree, src: string): Fact[] {
    this.nextCache = new Map();
    this.stats = { walked: 0, reused: 0 };
    const out: Fact[] = [];
    const kids: Node[] = [];
    for (const child of tree.rootNode.namedChildren) if (child && child.type !== 'comment') kids.push(child);
    const prevTop = this.top.length === kids.length ? this.top : null;
    const claimed = new Set<CacheEntry>();
    const top: CacheEntry[] = [];
    kids.forEach((child, i) => top.push(this.topStatement(child, src, out, claimed, prevTop?.[i] ?? null)));
    this.top = top;
    this.cache = this.nextCache;
    this.topCache = this.nextTopCache;
    this.nextTopCache = new Map();
    this.unchanged = out.length === this.last.length && out.every((f, i) => f === this.last[i]);
    this.last = out;
    return out;
  }

  private topStatement(node: Node, src: string, out: Fact[], claimed: Set<CacheEntry>, prev: CacheEntry | null): CacheEntry {
    const s = node.startIndex;
    const indent = indentBefore(src, s);
    const key = `${ROOT_CTX.key}\u0000${indent}\u0000${src.slice(s, node.endIndex)}`;
    const hit = this.topCache.get(key)?.find((x) => !claimed.has(x));
    if (hit) {
      claimed.add(hit);
      if (hit.s !== s) shiftEntry(hit, s - hit.s);
      for (const ne of hit.nested ?? []) if (!this.nextCache.has(ne.key)) this.nextCache.set(ne.key, ne);
      this.remember(hit);
      for (const f of hit.facts) out.push(f);
      this.stats.reused++;
      return hit;
    }
    const start = out.length;
    const outer = this.recording;
    const nested: CacheEntry[] = [];
    this.recording = nested;
    this.statement(node, src, ROOT_CTX, out);
    this.recording = outer;
    let facts = out.slice(start);
    let inner = nested;
    if (prev && !claimed.has(prev) && adoptIfSame(prev.facts, facts)) {
      // same facts as the statement in this place before the edit: keep the old objects, with the new offsets
      claimed.add(prev);
      facts = prev.facts as Fact[];
      out.length = start;
      for (const f of facts) out.push(f);
      inner = []; // the nested entries just made hold the fresh objects, not these
    }
    const entry: CacheEntry = { key, s, outer: ROOT_CTX, facts, nested: inner };
    this.remember(entry);
    return entry;
  }

  private remember(entry: CacheEntry): void {
    const list = this.nextTopCache.get(entry.key);
    if (list) list.push(entry);
    else this.nextTopCache.set(entry.key, [entry]);
  }

  private block(node: Node, src: string, ctx: Ctx, out: Fact[]): void {
    for (const child of node.namedChildren) {
      if (!child) continue;
      if (child.type === 'comment') continue;
      this.statement(child, src, ctx, out);
    }
  }

  private statement(node: Node, src: string, ctx: Ctx, out: Fact[]): void {
    const s = node.startIndex;
    const e = node.endIndex;
    const indent = indentBefore(src, s);
    const key = `${ctx.key}\u0000${indent}\u0000${src.slice(s, e)}`;
    const hit = this.cache.get(key) ?? this.nextCache.get(key);
    if (hit && ctx !== ROOT_CTX) {
      const facts = hit.s === s && hit.outer === ctx ? hit.facts : rebase(hit.facts, s - hit.s, hit.outer, ctx);
      const entry: CacheEntry = { key, s, outer: ctx, facts };
      this.nextCache.set(key, entry);
      this.recording?.push(entry);
      for (const f of facts) out.push(f);
      this.stats.reused++;
      return;
    }
    this.stats.walked++;
    const facts: Fact[] = [];
    try {
      walkStatement(this, node, src, ctx, indent, facts);
    } catch {
      // A grammar surprise must never take the analysis down: this statement just says nothing.
    }
    if (ctx !== ROOT_CTX) {
      const entry: CacheEntry = { key, s, outer: ctx, facts };
      this.nextCache.set(key, entry);
      this.recording?.push(entry);
    }
    for (const f of facts) out.push(f);
  }

  /** Used by walkStatement for nested blocks (so nested statements are cached too). */
  nested(block: Node, src: string, ctx: Ctx, out: Fact[]): void {
    this.block(block, src, ctx, out);
  }
}

function indentBefore(src: string, s: number): string {
  let i = s;
  while (i > 0 && (src.charCodeAt(i - 1) === 32 || src.charCodeAt(i - 1) === 9)) i--;
  if (i > 0 && src.charCodeAt(i - 1) !== 10 && src.charCodeAt(i - 1) !== 13) return ''; // not first on its line (e.g. `if x: y`)
  return src.slice(i, s);
}

function childCtx(ctx: Ctx, own: CtxEntry, headerText: string): Ctx {
  return { parent: ctx, own, key: `${ctx.key}\u0001${own.kind}:${headerText}`, depth: ctx.depth + 1 };
}

const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*/g;
function identsOf(text: string): string[] {
  const set = new Set<string>();
  // strip string literals and comments roughly: identifiers inside them do not reference variables
  for (const m of text.replace(/#[^\n]*/g, '').matchAll(IDENT_RE)) set.add(m[0]);
  return [...set];
}

function stmtInfo(node: Node, src: string, ctx: Ctx, indent: string, headerEnd?: number): StmtInfo {
  const s = node.startIndex;
  const e = node.endIndex;
  return { s, e, indent, type: node.type, idents: identsOf(src.slice(s, headerEnd ?? e)), ctx };
}

/** Every call in the expression, outermost first (the order visitExpr visits them in). */
function pushCalls(e: Expr, stmt: StmtInfo, role: 'stmt' | 'header', out: Fact[]): void {
  switch (e.k) {
    case 'call':
      out.push({ kind: 'call', stmt, call: e, role });
      pushCalls(e.fn, stmt, role, out);
      for (const a of e.args) pushCalls(a, stmt, role, out);
      for (const k of e.kwargs) pushCalls(k.value, stmt, role, out);
      return;
    case 'attr':
      pushCalls(e.object, stmt, role, out);
      return;
    case 'list':
      for (const i of e.items) pushCalls(i, stmt, role, out);
      return;
    case 'dict':
      for (const p of e.pairs) {
        pushCalls(p.key, stmt, role, out);
        pushCalls(p.value, stmt, role, out);
      }
      return;
    case 'subscript':
      pushCalls(e.value, stmt, role, out);
      pushCalls(e.index, stmt, role, out);
      return;
    case 'slice':
      if (e.lower) pushCalls(e.lower, stmt, role, out);
      if (e.upper) pushCalls(e.upper, stmt, role, out);
      return;
    case 'binop':
    case 'boolop':
      pushCalls(e.left, stmt, role, out);
      pushCalls(e.right, stmt, role, out);
      return;
    case 'unary':
    case 'not':
      pushCalls(e.operand, stmt, role, out);
      return;
    case 'cmp':
      for (const o of e.operands) pushCalls(o, stmt, role, out);
      return;
    case 'comp':
      pushCalls(e.element, stmt, role, out);
      pushCalls(e.iter, stmt, role, out);
      for (const c of e.conds) pushCalls(c, stmt, role, out);
      return;
    case 'star':
      pushCalls(e.value, stmt, role, out);
      return;
    default:
      return;
  }
}

function lastSegment(callee: string | null): string {
  if (!callee) return '';
  const i = callee.lastIndexOf('.');
  return i === -1 ? callee : callee.slice(i + 1);
}

function walkStatement(c: FactCollector, node: Node, src: string, ctx: Ctx, indent: string, out: Fact[]): void {
  switch (node.type) {
    case 'expression_statement': {
      const stmt = stmtInfo(node, src, ctx, indent);
      for (const ch of node.namedChildren) {
        if (!ch || ch.type === 'comment') continue;
        if (ch.type === 'assignment' || ch.type === 'augmented_assignment') assignment(ch, src, stmt, out);
        else {
          const ex = summarize(ch, src);
          out.push({ kind: 'expr', stmt, expr: ex });
          pushCalls(ex, stmt, 'stmt', out);
        }
      }
      return;
    }
    case 'return_statement': {
      const stmt = stmtInfo(node, src, ctx, indent);
      const v = node.namedChildren.find((x) => x !== null && x.type !== 'comment');
      const value = v ? summarize(v, src) : null;
      out.push({ kind: 'return', stmt, value });
      if (value) pushCalls(value, stmt, 'stmt', out);
      return;
    }
    case 'import_statement':
    case 'import_from_statement':
    case 'future_import_statement':
      importFact(node, src, stmtInfo(node, src, ctx, indent), out);
      return;
    case 'decorated_definition': {
      const def = node.childForFieldName('definition');
      if (def) walkStatement(c, def, src, ctx, indent, out);
      return;
    }
    case 'function_definition':
    case 'class_definition': {
      const nameNode = node.childForFieldName('name');
      const body = node.childForFieldName('body');
      const name = nameNode ? src.slice(nameNode.startIndex, nameNode.endIndex) : '?';
      const isClass = node.type === 'class_definition';
      const headerEnd = body ? body.startIndex : node.endIndex;
      const stmt = stmtInfo(node, src, ctx, indent, headerEnd);
      const params: { name: string; default: Expr | null }[] = [];
      const ps = node.childForFieldName('parameters');
      if (ps && !isClass) {
        for (const p of ps.namedChildren) {
          if (!p) continue;
          if (p.type === 'identifier') params.push({ name: src.slice(p.startIndex, p.endIndex), default: null });
          else if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') {
            const n = p.childForFieldName('name');
            const v = p.childForFieldName('value');
            if (n) params.push({ name: src.slice(n.startIndex, n.endIndex), default: v ? summarize(v, src) : null });
          } else if (p.type === 'typed_parameter') {
            const n = p.namedChildren.find((x) => x !== null && x.type === 'identifier');
            if (n) params.push({ name: src.slice(n.startIndex, n.endIndex), default: null });
          }
        }
      }
      out.push({ kind: 'def', stmt, name, isClass, params });
      if (body) c.nested(body, src, childCtx(ctx, { kind: 'def', name, isClass }, name), out);
      return;
    }
    case 'with_statement': {
      const body = node.childForFieldName('body');
      const headerEnd = body ? body.startIndex : node.endIndex;
      const stmt = stmtInfo(node, src, ctx, indent, headerEnd);
      let inner = ctx;
      const clause = node.namedChildren.find((x) => x !== null && x.type === 'with_clause');
      for (const item of clause ? clause.namedChildren : []) {
        if (!item || item.type !== 'with_item') continue;
        let v = item.childForFieldName('value');
        if (v && v.type === 'as_pattern') v = v.namedChildren.find((x) => x !== null) ?? v;
        if (!v) continue;
        const ex = summarize(v, src);
        pushCalls(ex, stmt, 'header', out);
        if (ex.k !== 'call') continue;
        const last = lastSegment(ex.callee);
        const header = src.slice(ex.s, ex.e);
        if (last === 'variable_scope' || last === 'name_scope') {
          const a = ex.args[0] ?? ex.kwargs.find((k) => k.name === 'name_or_scope' || k.name === 'name')?.value;
          const name = a && a.k === 'str' && !a.fstring ? a.value : null;
          inner = childCtx(inner, { kind: 'scope', call: ex, name, scopeKind: last }, header);
        } else if (last === 'control_dependencies') {
          const deps = ex.args[0] ?? ex.kwargs.find((k) => k.name === 'control_inputs')?.value;
          if (deps) inner = childCtx(inner, { kind: 'control-deps', deps, call: ex }, header);
        } else if (last === 'arg_scope') {
          inner = childCtx(inner, { kind: 'arg-scope', call: ex }, header);
        }
      }
      if (body) c.nested(body, src, inner, out);
      return;
    }
    case 'for_statement': {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      const body = node.childForFieldName('body');
      const headerEnd = body ? body.startIndex : node.endIndex;
      const stmt = stmtInfo(node, src, ctx, indent, headerEnd);
      const iter = right ? summarize(right, src) : null;
      if (iter) pushCalls(iter, stmt, 'header', out);
      const targets = left ? targetNames(left, src) : [];
      if (body && iter) {
        const inner = childCtx(ctx, { kind: 'loop', targets, iter, s: node.startIndex, e: headerEnd, end: node.endIndex }, src.slice(node.startIndex, headerEnd));
        c.nested(body, src, inner, out);
      } else if (body) c.nested(body, src, ctx, out);
      const alt = node.childForFieldName('alternative');
      if (alt) walkClauseBodies(c, alt, src, ctx, out);
      return;
    }
    case 'if_statement': {
      const cond = node.childForFieldName('condition');
      const body = node.childForFieldName('consequence');
      const headerEnd = body ? body.startIndex : node.endIndex;
      const stmt = stmtInfo(node, src, ctx, indent, headerEnd);
      const condExpr = cond ? summarize(cond, src) : null;
      if (condExpr) pushCalls(condExpr, stmt, 'header', out);
      const condText = cond ? src.slice(cond.startIndex, cond.endIndex) : '?';
      if (body) c.nested(body, src, condExpr ? childCtx(ctx, { kind: 'guard', cond: condExpr, negated: false }, condText) : ctx, out);
      // elif / else: negation of this condition (earlier elif conditions are not tracked: rules only need the first guard)
      for (const alt of node.childrenForFieldName('alternative')) {
        if (!alt) continue;
        const negCtx = condExpr ? childCtx(ctx, { kind: 'guard', cond: condExpr, negated: true }, `!${condText}`) : ctx;
        if (alt.type === 'elif_clause') {
          const c2 = alt.childForFieldName('condition');
          const b2 = alt.childForFieldName('consequence');
          const c2e = c2 ? summarize(c2, src) : null;
          const s2 = stmtInfo(alt, src, ctx, indent, b2 ? b2.startIndex : alt.endIndex);
          if (c2e) pushCalls(c2e, s2, 'header', out);
          if (b2) c.nested(b2, src, c2e ? childCtx(negCtx, { kind: 'guard', cond: c2e, negated: false }, src.slice(c2e.s, c2e.e)) : negCtx, out);
        } else {
          const b2 = alt.childForFieldName('body') ?? alt.namedChildren.find((x) => x !== null && x.type === 'block') ?? null;
          if (b2) c.nested(b2, src, negCtx, out);
        }
      }
      return;
    }
    case 'while_statement': {
      const cond = node.childForFieldName('condition');
      const body = node.childForFieldName('body');
      const stmt = stmtInfo(node, src, ctx, indent, body ? body.startIndex : node.endIndex);
      if (cond) pushCalls(summarize(cond, src), stmt, 'header', out);
      if (body) c.nested(body, src, ctx, out);
      const alt = node.childForFieldName('alternative');
      if (alt) walkClauseBodies(c, alt, src, ctx, out);
      return;
    }
    case 'try_statement': {
      for (const ch of node.namedChildren) {
        if (!ch) continue;
        if (ch.type === 'block') c.nested(ch, src, ctx, out);
        else walkClauseBodies(c, ch, src, ctx, out);
      }
      return;
    }
    case 'block':
    case 'ERROR':
    case 'module':
      // Malformed code: walk what can be walked; stray expressions contribute their calls only.
      for (const ch of node.namedChildren) {
        if (!ch || ch.type === 'comment') continue;
        if (STATEMENT_TYPES.has(ch.type) || ch.type === 'block' || ch.type === 'ERROR') c.nested(wrapSingle(ch), src, ctx, out);
        else if (ch.type === 'assignment') assignment(ch, src, stmtInfo(ch, src, ctx, indentBefore(src, ch.startIndex)), out);
        else if (ch.type === 'call') pushCalls(summarize(ch, src), stmtInfo(ch, src, ctx, indentBefore(src, ch.startIndex)), 'stmt', out);
      }
      return;
    default: {
      // match/raise/assert/del/global/print...: only their calls
      const stmt = stmtInfo(node, src, ctx, indent);
      for (const ch of node.namedChildren) if (ch && ch.type !== 'comment' && ch.type !== 'block') pushCalls(summarize(ch, src), stmt, 'stmt', out);
      for (const ch of node.namedChildren) if (ch && ch.type === 'block') c.nested(ch, src, ctx, out);
    }
  }
}

/** `nested()` iterates children; to walk one node as a statement, hand it a parent-like view. */
function wrapSingle(n: Node): Node {
  return { namedChildren: [n] } as unknown as Node;
}

function walkClauseBodies(c: FactCollector, clause: Node, src: string, ctx: Ctx, out: Fact[]): void {
  for (const ch of clause.namedChildren) if (ch && ch.type === 'block') c.nested(ch, src, ctx, out);
}

const STATEMENT_TYPES = new Set([
  'expression_statement',
  'return_statement',
  'import_statement',
  'import_from_statement',
  'future_import_statement',
  'decorated_definition',
  'function_definition',
  'class_definition',
  'with_statement',
  'for_statement',
  'if_statement',
  'while_statement',
  'try_statement',
]);

function assignment(node: Node, src: string, stmt: StmtInfo, out: Fact[]): void {
  const targets: Expr[] = [];
  let cur: Node | null = node;
  let value: Expr | null = null;
  let op = '=';
  // a = b = c(...) nests as assignment(left=a, right=assignment(left=b, right=call))
  while (cur && (cur.type === 'assignment' || cur.type === 'augmented_assignment')) {
    const l = cur.childForFieldName('left');
    const r = cur.childForFieldName('right');
    if (cur.type === 'augmented_assignment') {
      const o = cur.childForFieldName('operator');
      op = o ? src.slice(o.startIndex, o.endIndex) : '+=';
    }
    if (l) targets.push(summarize(l, src));
    if (!r) break;
    if (r.type === 'assignment' || r.type === 'augmented_assignment') cur = r;
    else {
      value = summarize(r, src);
      break;
    }
  }
  if (!value) return; // annotation without value, or half-typed `x =`
  out.push({ kind: 'assign', stmt, targets, value, op });
  pushCalls(value, stmt, 'stmt', out);
  for (const t of targets) pushCalls(t, stmt, 'stmt', out);
}

function importFact(node: Node, src: string, stmt: StmtInfo, out: Fact[]): void {
  const names: { name: string; alias: string | null }[] = [];
  let module: string | null = null;
  let star = false;
  const text = (n: Node) => src.slice(n.startIndex, n.endIndex).replace(/\s+/g, '');
  if (node.type === 'import_from_statement') {
    const m = node.childForFieldName('module_name');
    module = m ? text(m) : null;
    for (const ch of node.namedChildren) {
      if (!ch || ch === m || (m && ch.startIndex === m.startIndex)) continue;
      if (ch.type === 'wildcard_import') star = true;
      else if (ch.type === 'dotted_name') names.push({ name: text(ch), alias: null });
      else if (ch.type === 'aliased_import') {
        const n = ch.childForFieldName('name');
        const a = ch.childForFieldName('alias');
        if (n) names.push({ name: text(n), alias: a ? text(a) : null });
      }
    }
  } else if (node.type === 'import_statement') {
    for (const ch of node.namedChildren) {
      if (!ch) continue;
      if (ch.type === 'dotted_name') names.push({ name: text(ch), alias: null });
      else if (ch.type === 'aliased_import') {
        const n = ch.childForFieldName('name');
        const a = ch.childForFieldName('alias');
        if (n) names.push({ name: text(n), alias: a ? text(a) : null });
      }
    }
  } else return;
  out.push({ kind: 'import', stmt, module, names, star });
}

// ---- cache rebasing ----

/** Moves a top-level entry (and the entries nested in it) by `delta`, shifting its fact objects in place. */
function shiftEntry(entry: CacheEntry, delta: number): void {
  shiftInPlace(entry.facts, delta, new Set());
  entry.s += delta;
  // nested entries share the fact objects: move their offsets along (they serve edits inside this statement)
  for (const ne of entry.nested ?? []) ne.s += delta;
}

function shiftInPlace(v: unknown, delta: number, seen: Set<object>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (Array.isArray(v)) {
    for (const x of v) shiftInPlace(x, delta, seen);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'number') {
      if (OFFSET_KEYS.has(k)) o[k] = x + delta;
    } else if (x !== null && typeof x === 'object') shiftInPlace(x, delta, seen);
  }
}

/**
 * When `fresh` is `old` with other offsets only (same kinds, names, values, structure), copies the fresh offsets into
 * the old objects and returns true; otherwise changes nothing and returns false.
 */
function adoptIfSame(old: readonly Fact[], fresh: readonly Fact[]): boolean {
  if (old.length !== fresh.length) return false;
  const writes: { o: Record<string, unknown>; k: string; v: number }[] = [];
  const pairs = new Map<object, object>();
  const same = (a: unknown, b: unknown, key: string): boolean => {
    if (typeof a === 'number' && typeof b === 'number' && OFFSET_KEYS.has(key)) return true;
    if (a === b) return true;
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
    const seen = pairs.get(a);
    if (seen) return seen === b;
    pairs.set(a, b);
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!same(a[i], b[i], '')) return false;
      return true;
    }
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = Object.keys(ao);
    if (keys.length !== Object.keys(bo).length) return false;
    for (const k of keys) {
      const x = ao[k];
      const y = bo[k];
      if (typeof x === 'number' && typeof y === 'number' && OFFSET_KEYS.has(k)) {
        if (x !== y) writes.push({ o: ao, k, v: y });
      } else if (!same(x, y, k)) return false;
    }
    return true;
  };
  for (let i = 0; i < old.length; i++) if (!same(old[i], fresh[i], '')) return false;
  for (const w of writes) w.o[w.k] = w.v;
  return true;
}

const OFFSET_KEYS = new Set(['s', 'e', 'end', 'cs', 'ce', 'attrS', 'argsS', 'argsE']);

function rebase(facts: readonly Fact[], delta: number, oldOuter: Ctx, newOuter: Ctx): Fact[] {
  const ctxMap = new Map<Ctx, Ctx>([[oldOuter, newOuter]]);
  // one copy per object: facts share sub-expressions (an assignment's value is also its call fact's call), and
  // rules match them by identity
  const copies = new Map<object, unknown>();
  const mapCtx = (c: Ctx): Ctx => {
    const got = ctxMap.get(c);
    if (got) return got;
    const parent = c.parent ? mapCtx(c.parent) : null;
    const nc: Ctx = { parent, own: c.own ? (shift(c.own, delta, mapCtx, copies) as CtxEntry) : null, key: c.key, depth: c.depth };
    ctxMap.set(c, nc);
    return nc;
  };
  const stmtMap = new Map<StmtInfo, StmtInfo>();
  return facts.map((f) => {
    let stmt = stmtMap.get(f.stmt);
    if (!stmt) {
      stmt = { ...f.stmt, s: f.stmt.s + delta, e: f.stmt.e + delta, ctx: mapCtx(f.stmt.ctx) };
      stmtMap.set(f.stmt, stmt);
    }
    const nf = shift(f, delta, mapCtx, copies) as Record<string, unknown>;
    nf['stmt'] = stmt;
    return nf as unknown as Fact;
  });
}

function shift(v: unknown, delta: number, mapCtx: (c: Ctx) => Ctx, copies: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object') return v;
  const done = copies.get(v);
  if (done !== undefined) return done;
  if (Array.isArray(v)) {
    const arr: unknown[] = [];
    copies.set(v, arr);
    for (const x of v) arr.push(shift(x, delta, mapCtx, copies));
    return arr;
  }
  const out: Record<string, unknown> = {};
  copies.set(v, out);
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'stmt') out[k] = x; // replaced by the caller
    else if (k === 'ctx') out[k] = mapCtx(x as Ctx);
    else if (typeof x === 'number' && OFFSET_KEYS.has(k)) out[k] = x + delta;
    else out[k] = shift(x, delta, mapCtx, copies);
  }
  return out;
}
