// A small, plain-data summary of Python expressions taken from the tree-sitter tree. Rules reason on these
// summaries (no tree nodes escape this module), so facts can be cached per statement and survive re-parses.
// Every node keeps its UTF-16 offsets `s`/`e` into the document text.
import type { Node } from 'web-tree-sitter';

export type Expr =
  | { readonly k: 'name'; readonly s: number; readonly e: number; readonly name: string }
  | { readonly k: 'attr'; readonly s: number; readonly e: number; readonly object: Expr; readonly attr: string; readonly attrS: number }
  | { readonly k: 'str'; readonly s: number; readonly e: number; readonly value: string; readonly cs: number; readonly ce: number; readonly fstring: boolean }
  | { readonly k: 'bool'; readonly s: number; readonly e: number; readonly value: boolean }
  | { readonly k: 'none'; readonly s: number; readonly e: number }
  | { readonly k: 'num'; readonly s: number; readonly e: number; readonly value: number }
  | { readonly k: 'list'; readonly s: number; readonly e: number; readonly items: readonly Expr[]; readonly tuple: boolean }
  | { readonly k: 'dict'; readonly s: number; readonly e: number; readonly pairs: readonly { readonly key: Expr; readonly value: Expr }[] }
  | CallExpr
  | { readonly k: 'subscript'; readonly s: number; readonly e: number; readonly value: Expr; readonly index: Expr }
  | { readonly k: 'slice'; readonly s: number; readonly e: number; readonly lower: Expr | null; readonly upper: Expr | null }
  | { readonly k: 'binop'; readonly s: number; readonly e: number; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'unary'; readonly s: number; readonly e: number; readonly op: string; readonly operand: Expr }
  | { readonly k: 'not'; readonly s: number; readonly e: number; readonly operand: Expr }
  | { readonly k: 'boolop'; readonly s: number; readonly e: number; readonly op: 'and' | 'or'; readonly left: Expr; readonly right: Expr }
  | { readonly k: 'cmp'; readonly s: number; readonly e: number; readonly ops: readonly string[]; readonly operands: readonly Expr[] }
  | { readonly k: 'comp'; readonly s: number; readonly e: number; readonly element: Expr; readonly targets: readonly string[]; readonly iter: Expr; readonly conds: readonly Expr[] }
  | { readonly k: 'star'; readonly s: number; readonly e: number; readonly value: Expr }
  | { readonly k: 'other'; readonly s: number; readonly e: number; readonly type: string };

export interface Kwarg {
  readonly name: string;
  readonly value: Expr;
  /** Offsets of the whole `name=value`. */
  readonly s: number;
  readonly e: number;
}

export interface CallExpr {
  readonly k: 'call';
  readonly s: number;
  readonly e: number;
  /** Dotted name of the callee when it is a plain name chain (`tf.layers.batch_normalization`), else null. */
  readonly callee: string | null;
  readonly fn: Expr;
  readonly args: readonly Expr[];
  readonly kwargs: readonly Kwarg[];
  /** Offsets of the argument list, parentheses included. */
  readonly argsS: number;
  readonly argsE: number;
  /** `*args` / `**kwargs` present: arguments we cannot see. */
  readonly splat: boolean;
}

const MAX_DEPTH = 12;
const MAX_ITEMS = 200;

/** Summarizes an expression node. Never throws on error/missing nodes: they become 'other'. */
export function summarize(node: Node, src: string, depth = 0): Expr {
  const s = node.startIndex;
  const e = node.endIndex;
  if (depth > MAX_DEPTH) return { k: 'other', s, e, type: node.type };
  const d = depth + 1;
  switch (node.type) {
    case 'identifier':
      return { k: 'name', s, e, name: src.slice(s, e) };
    case 'true':
    case 'false':
      return { k: 'bool', s, e, value: node.type === 'true' };
    case 'none':
      return { k: 'none', s, e };
    case 'integer':
    case 'float': {
      const v = Number(src.slice(s, e).replace(/_/g, ''));
      return Number.isFinite(v) ? { k: 'num', s, e, value: v } : { k: 'other', s, e, type: node.type };
    }
    case 'string':
      return stringExpr(node, src);
    case 'concatenated_string': {
      const parts = node.namedChildren.filter((c): c is Node => c !== null && c.type === 'string').map((c) => stringExpr(c, src));
      if (parts.length === 0) return { k: 'other', s, e, type: node.type };
      return {
        k: 'str',
        s,
        e,
        value: parts.map((p) => (p.k === 'str' ? p.value : '')).join(''),
        cs: parts[0]!.k === 'str' ? parts[0]!.cs : s,
        ce: parts[parts.length - 1]!.k === 'str' ? (parts[parts.length - 1] as { ce: number }).ce : e,
        fstring: parts.some((p) => p.k === 'str' && p.fstring),
      };
    }
    case 'parenthesized_expression': {
      const inner = node.namedChildren.find((c) => c !== null && c.type !== 'comment');
      return inner ? summarize(inner, src, d) : { k: 'other', s, e, type: node.type };
    }
    case 'attribute': {
      const obj = node.childForFieldName('object');
      const attr = node.childForFieldName('attribute');
      if (!obj || !attr) return { k: 'other', s, e, type: node.type };
      return { k: 'attr', s, e, object: summarize(obj, src, d), attr: src.slice(attr.startIndex, attr.endIndex), attrS: attr.startIndex };
    }
    case 'call':
      return callExpr(node, src, d);
    case 'list':
    case 'tuple':
    case 'expression_list':
    case 'set': {
      const items: Expr[] = [];
      for (const c of node.namedChildren) {
        if (!c || c.type === 'comment') continue;
        if (items.length >= MAX_ITEMS) break;
        items.push(summarize(c, src, d));
      }
      return { k: 'list', s, e, items, tuple: node.type !== 'list' };
    }
    case 'dictionary': {
      const pairs: { key: Expr; value: Expr }[] = [];
      for (const c of node.namedChildren) {
        if (!c || c.type !== 'pair') continue;
        const key = c.childForFieldName('key');
        const value = c.childForFieldName('value');
        if (key && value && pairs.length < MAX_ITEMS) pairs.push({ key: summarize(key, src, d), value: summarize(value, src, d) });
      }
      return { k: 'dict', s, e, pairs };
    }
    case 'subscript': {
      const value = node.childForFieldName('value');
      const index = node.childForFieldName('subscript');
      if (!value || !index) return { k: 'other', s, e, type: node.type };
      return { k: 'subscript', s, e, value: summarize(value, src, d), index: summarize(index, src, d) };
    }
    case 'slice': {
      // children: [lower] ':' [upper] [':' step]
      let lower: Expr | null = null;
      let upper: Expr | null = null;
      let colons = 0;
      for (const c of node.children) {
        if (!c) continue;
        if (c.type === ':') colons++;
        else if (c.isNamed && c.type !== 'comment') {
          if (colons === 0) lower = summarize(c, src, d);
          else if (colons === 1) upper = summarize(c, src, d);
        }
      }
      return { k: 'slice', s, e, lower, upper };
    }
    case 'binary_operator': {
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      const op = node.childForFieldName('operator');
      if (!l || !r) return { k: 'other', s, e, type: node.type };
      return { k: 'binop', s, e, op: op ? src.slice(op.startIndex, op.endIndex) : '?', left: summarize(l, src, d), right: summarize(r, src, d) };
    }
    case 'unary_operator': {
      const arg = node.childForFieldName('argument');
      const op = node.childForFieldName('operator');
      if (!arg) return { k: 'other', s, e, type: node.type };
      const operand = summarize(arg, src, d);
      const opText = op ? src.slice(op.startIndex, op.endIndex) : '?';
      if (opText === '-' && operand.k === 'num') return { k: 'num', s, e, value: -operand.value };
      return { k: 'unary', s, e, op: opText, operand };
    }
    case 'not_operator': {
      const arg = node.childForFieldName('argument');
      return arg ? { k: 'not', s, e, operand: summarize(arg, src, d) } : { k: 'other', s, e, type: node.type };
    }
    case 'boolean_operator': {
      const l = node.childForFieldName('left');
      const r = node.childForFieldName('right');
      const op = node.childForFieldName('operator');
      if (!l || !r) return { k: 'other', s, e, type: node.type };
      return { k: 'boolop', s, e, op: op && src.slice(op.startIndex, op.endIndex) === 'or' ? 'or' : 'and', left: summarize(l, src, d), right: summarize(r, src, d) };
    }
    case 'comparison_operator': {
      const operands: Expr[] = [];
      const ops: string[] = [];
      for (const c of node.children) {
        if (!c) continue;
        if (c.isNamed && c.type !== 'comment') operands.push(summarize(c, src, d));
        else if (!c.isNamed) ops.push(src.slice(c.startIndex, c.endIndex).replace(/\s+/g, ' '));
      }
      return { k: 'cmp', s, e, ops, operands };
    }
    case 'list_comprehension':
    case 'generator_expression':
    case 'set_comprehension': {
      const body = node.childForFieldName('body');
      const fors = node.namedChildren.filter((c): c is Node => c !== null && c.type === 'for_in_clause');
      const ifs = node.namedChildren.filter((c): c is Node => c !== null && c.type === 'if_clause');
      const first = fors[0];
      if (!body || !first) return { k: 'other', s, e, type: node.type };
      const left = first.childForFieldName('left');
      const right = first.childForFieldName('right');
      if (!left || !right) return { k: 'other', s, e, type: node.type };
      const conds: Expr[] = [];
      for (const f of ifs) {
        const c = f.namedChildren.find((x) => x !== null && x.type !== 'comment');
        if (c) conds.push(summarize(c, src, d));
      }
      return { k: 'comp', s, e, element: summarize(body, src, d), targets: targetNames(left, src), iter: summarize(right, src, d), conds };
    }
    case 'list_splat':
    case 'dictionary_splat': {
      const inner = node.namedChildren.find((c) => c !== null);
      return inner ? { k: 'star', s, e, value: summarize(inner, src, d) } : { k: 'other', s, e, type: node.type };
    }
    case 'keyword_argument': {
      const v = node.childForFieldName('value');
      return v ? summarize(v, src, d) : { k: 'other', s, e, type: node.type };
    }
    default:
      return { k: 'other', s, e, type: node.type };
  }
}

function callExpr(node: Node, src: string, d: number): Expr {
  const s = node.startIndex;
  const e = node.endIndex;
  const fnNode = node.childForFieldName('function');
  const argsNode = node.childForFieldName('arguments');
  if (!fnNode) return { k: 'other', s, e, type: 'call' };
  const fn = summarize(fnNode, src, d);
  const args: Expr[] = [];
  const kwargs: Kwarg[] = [];
  let splat = false;
  if (argsNode && argsNode.type === 'argument_list') {
    for (const c of argsNode.namedChildren) {
      if (!c || c.type === 'comment') continue;
      if (c.type === 'keyword_argument') {
        const n = c.childForFieldName('name');
        const v = c.childForFieldName('value');
        if (n && v) kwargs.push({ name: src.slice(n.startIndex, n.endIndex), value: summarize(v, src, d), s: c.startIndex, e: c.endIndex });
      } else if (c.type === 'list_splat' || c.type === 'dictionary_splat') {
        splat = true;
        args.push(summarize(c, src, d));
      } else if (args.length < MAX_ITEMS) args.push(summarize(c, src, d));
    }
  } else if (argsNode) {
    args.push(summarize(argsNode, src, d)); // f(x for x in y)
  }
  return {
    k: 'call',
    s,
    e,
    callee: dottedName(fn),
    fn,
    args,
    kwargs,
    argsS: argsNode ? argsNode.startIndex : e,
    argsE: argsNode ? argsNode.endIndex : e,
    splat,
  };
}

function stringExpr(node: Node, src: string): Expr {
  const s = node.startIndex;
  const e = node.endIndex;
  let start: Node | null = null;
  let end: Node | null = null;
  let fstring = false;
  for (const c of node.children) {
    if (!c) continue;
    if (c.type === 'string_start') start = c;
    else if (c.type === 'string_end') end = c;
    else if (c.type === 'interpolation') fstring = true;
  }
  const cs = start ? start.endIndex : s;
  const ce = end ? end.startIndex : e;
  const prefix = start ? src.slice(start.startIndex, start.endIndex).toLowerCase() : '';
  const raw = src.slice(cs, Math.max(cs, ce));
  const value = prefix.includes('r') ? raw : unescapePython(raw);
  return { k: 'str', s, e, value, cs, ce: Math.max(cs, ce), fstring: fstring || prefix.includes('f') };
}

function unescapePython(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(\n|\\|'|"|n|t|r|0|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|.)/g, (m, g: string) => {
    switch (g[0]) {
      case '\n':
        return '';
      case '\\':
        return '\\';
      case "'":
        return "'";
      case '"':
        return '"';
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '0':
        return '\0';
      case 'x':
      case 'u':
        return g.length > 1 ? String.fromCharCode(parseInt(g.slice(1), 16)) : m;
      default:
        return m; // unknown escapes stay as written (Python keeps the backslash)
    }
  });
}

/** Names bound by a `for` target or assignment target: `x`, `i, layer`, `(a, b)`. */
export function targetNames(node: Node, src: string): string[] {
  if (node.type === 'identifier') return [src.slice(node.startIndex, node.endIndex)];
  if (node.type === 'pattern_list' || node.type === 'tuple_pattern' || node.type === 'list_pattern' || node.type === 'tuple' || node.type === 'list' || node.type === 'expression_list') {
    const out: string[] = [];
    for (const c of node.namedChildren) if (c) out.push(...targetNames(c, src));
    return out;
  }
  return [];
}

/** `a.b.c` for a name/attribute chain, null otherwise. */
export function dottedName(e: Expr): string | null {
  if (e.k === 'name') return e.name;
  if (e.k === 'attr') {
    const o = dottedName(e.object);
    return o === null ? null : `${o}.${e.attr}`;
  }
  return null;
}

export function kwarg(call: CallExpr, name: string): Kwarg | undefined {
  return call.kwargs.find((k) => k.name === name);
}

/** Argument by keyword, else by position. */
export function argument(call: CallExpr, name: string, position: number): Expr | undefined {
  const k = kwarg(call, name);
  if (k) return k.value;
  const a = call.args[position];
  return a && a.k !== 'star' ? a : undefined;
}

export function strValue(e: Expr | undefined): string | null {
  return e && e.k === 'str' && !e.fstring ? e.value : null;
}

/** Literal string list (a str, or a list/tuple of strs); null when anything is not literal. */
export function strList(e: Expr | undefined): string[] | null {
  if (!e) return null;
  if (e.k === 'str') return e.fstring ? null : [e.value];
  if (e.k === 'list') {
    const out: string[] = [];
    for (const it of e.items) {
      if (it.k !== 'str' || it.fstring) return null;
      out.push(it.value);
    }
    return out;
  }
  return null;
}

/** Visits an expression and every sub-expression (pre-order). */
export function visitExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  switch (e.k) {
    case 'attr':
      visitExpr(e.object, f);
      break;
    case 'list':
      for (const i of e.items) visitExpr(i, f);
      break;
    case 'dict':
      for (const p of e.pairs) {
        visitExpr(p.key, f);
        visitExpr(p.value, f);
      }
      break;
    case 'call':
      visitExpr(e.fn, f);
      for (const a of e.args) visitExpr(a, f);
      for (const k of e.kwargs) visitExpr(k.value, f);
      break;
    case 'subscript':
      visitExpr(e.value, f);
      visitExpr(e.index, f);
      break;
    case 'slice':
      if (e.lower) visitExpr(e.lower, f);
      if (e.upper) visitExpr(e.upper, f);
      break;
    case 'binop':
    case 'boolop':
      visitExpr(e.left, f);
      visitExpr(e.right, f);
      break;
    case 'unary':
    case 'not':
      visitExpr(e.operand, f);
      break;
    case 'cmp':
      for (const o of e.operands) visitExpr(o, f);
      break;
    case 'comp':
      visitExpr(e.element, f);
      visitExpr(e.iter, f);
      for (const c of e.conds) visitExpr(c, f);
      break;
    case 'star':
      visitExpr(e.value, f);
      break;
    default:
      break;
  }
}

/** Does the expression mention the identifier `name` anywhere? */
export function mentionsName(e: Expr, name: string): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.k === 'name' && x.name === name) found = true;
  });
  return found;
}
