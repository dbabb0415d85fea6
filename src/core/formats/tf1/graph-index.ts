// Name lookup and backward tracing over a TF1 graph's nodes (the IR GraphNode list).
import type { GraphNode } from '../../model/ir';
import type { FunctionDef, FunctionDefLibrary } from '../proto/gen';
import type { Lazy } from '../proto/wire';
import { functionName, lazyGraphNodes, type OpDefaults } from '../meta-graph/graph-nodes';
import { opName } from '../meta-graph/summary';

/** Ops that hold a variable. */
export const VARIABLE_OPS: ReadonlySet<string> = new Set(['VariableV2', 'Variable', 'VarHandleOp']);

/** Ops that pass a variable (ref or resource handle) or its value through unchanged. */
const PASS_THROUGH: ReadonlySet<string> = new Set([
  'Identity', 'RefIdentity', 'Switch', 'RefSwitch', 'Enter', 'RefEnter', 'ReadVariableOp', 'Snapshot',
]);

/** Ops that write a whole variable. */
export const ASSIGN_OPS: ReadonlySet<string> = new Set([
  'Assign', 'AssignSub', 'AssignAdd', 'AssignVariableOp', 'AssignSubVariableOp', 'AssignAddVariableOp',
]);

export const IF_OPS: ReadonlySet<string> = new Set(['If', 'StatelessIf']);

const RESTORE_OPS: ReadonlySet<string> = new Set(['RestoreV2', 'Restore', 'RestoreSlice', 'MergeV2Checkpoints']);

/** Ops that only reshape or relabel a boolean on its way to a cond/select predicate. */
const PREDICATE_PASS: ReadonlySet<string> = new Set([
  'Identity', 'Snapshot', 'Switch', 'RefSwitch', 'Enter', 'LogicalNot', 'Cast', 'Reshape', 'ExpandDims', 'Squeeze', 'Tile',
  'Merge', 'ReadVariableOp',
]);

/** A function body (v2 control flow branches: If/StatelessIf then_branch/else_branch). */
export interface FunctionBody {
  readonly name: string;
  /** Input argument names, in order: argument k is the caller's data input k (If: input k + 1). */
  readonly args: readonly string[];
  /** The body's nodes; inputs rewritten from 'node:out:0' to 'node' (enough for tracing). */
  readonly index: GraphIndex;
}

/** Function bodies of a graph's library by name, decoded on first use. */
export class FunctionLibrary {
  private byName: Map<string, Lazy<FunctionDef>> | null = null;
  private readonly bodies = new Map<string, FunctionBody | null>();

  constructor(
    private readonly library: Lazy<FunctionDefLibrary> | undefined,
    private readonly defaults: OpDefaults,
  ) {}

  get(name: string): FunctionBody | null {
    if (this.bodies.has(name)) return this.bodies.get(name) ?? null;
    if (!this.byName) {
      this.byName = new Map();
      // Names only: the bodies stay undecoded until a branch asks for one.
      for (const f of this.library?.get().function ?? []) {
        const n = functionName(f);
        if (n && !this.byName.has(n)) this.byName.set(n, f);
      }
    }
    const f = this.byName.get(name)?.get();
    let body: FunctionBody | null = null;
    if (f) {
      const nodes = lazyGraphNodes(f.nodeDef, this.defaults, bodyInputNode);
      body = { name, args: (f.signature?.inputArg ?? []).map((a) => a.name), index: new GraphIndex(nodes) };
    }
    this.bodies.set(name, body);
    return body;
  }
}

/** 'x:out:0' -> 'x', '^x' kept, 'arg' kept. */
function bodyInputNode(input: string): string {
  if (input.startsWith('^')) return input;
  const i = input.indexOf(':');
  return i < 0 ? input : input.slice(0, i);
}

export class GraphIndex {
  readonly byName: ReadonlyMap<string, GraphNode>;

  constructor(
    readonly nodes: readonly GraphNode[],
    /** Function bodies called by the graph (v2 control flow), when known. */
    readonly functions: FunctionLibrary | null = null,
  ) {
    const m = new Map<string, GraphNode>();
    for (const n of nodes) if (!m.has(n.name)) m.set(n.name, n);
    this.byName = m;
  }

  /** The then/else branch bodies of an If/StatelessIf node (empty for other ops). */
  branches(n: GraphNode): FunctionBody[] {
    if (!IF_OPS.has(n.op) || !this.functions) return [];
    const out: FunctionBody[] = [];
    for (const a of ['then_branch', 'else_branch']) {
      const f = n.attrs[a];
      const body = f?.kind === 'func' ? this.functions.get(f.value) : null;
      if (body) out.push(body);
    }
    return out;
  }

  /**
   * Inside a function body: the argument a tensor comes from through Identity/ReadVariableOp, or null.
   * Returns the argument's index.
   */
  argIndex(body: FunctionBody, nameOrTensor: string): number | null {
    let name = opName(nameOrTensor);
    for (let steps = 0; steps < 16; steps++) {
      const k = body.args.indexOf(name);
      if (k >= 0 && !body.index.byName.has(name)) return k;
      const n = body.index.byName.get(name);
      if (!n || !PASS_THROUGH.has(n.op)) return null;
      const first = body.index.dataInputs(n)[0];
      if (first === undefined) return null;
      name = opName(first);
    }
    return null;
  }

  /** The variable behind argument `k` of a call to an If/StatelessIf node (its data input k + 1). */
  ifArgVariable(n: GraphNode, k: number): GraphNode | null {
    const outer = this.dataInputs(n)[k + 1];
    return outer === undefined ? null : this.resolveVariable(outer);
  }

  node(nameOrTensor: string): GraphNode | undefined {
    return this.byName.get(opName(nameOrTensor));
  }

  /** Data inputs (control inputs '^x' left out), as written ('x', 'x:1'). */
  dataInputs(n: GraphNode): readonly string[] {
    // Most nodes have no control input: then the input list itself is the answer (no copy).
    const ins = n.inputs;
    for (let i = 0; i < ins.length; i++) if (ins[i].charCodeAt(0) === 0x5e /* ^ */) return ins.filter((x) => !x.startsWith('^'));
    return ins;
  }

  /** The variable op a tensor/op refers to, through Identity/Switch/Enter/ReadVariableOp chains; null if none. */
  resolveVariable(nameOrTensor: string): GraphNode | null {
    let n = this.node(nameOrTensor);
    for (let steps = 0; n && steps < 64; steps++) {
      if (VARIABLE_OPS.has(n.op)) return n;
      if (!PASS_THROUGH.has(n.op)) return null;
      const first = this.dataInputs(n)[0];
      if (first === undefined) return null;
      n = this.node(first);
    }
    return null;
  }

  /** Scalar constant value behind a tensor (through Identity), or null. */
  constScalar(nameOrTensor: string): number | boolean | string | null {
    let n = this.node(nameOrTensor);
    for (let steps = 0; n && steps < 16; steps++) {
      if (n.op === 'Const') {
        const v = n.attrs['value'];
        if (v?.kind === 'tensor' && v.values && v.values.length >= 1 && v.values.every((x) => x === v.values?.[0])) return v.values[0];
        return null;
      }
      if (n.op !== 'Identity' && n.op !== 'Snapshot') return null;
      const first = this.dataInputs(n)[0];
      if (first === undefined) return null;
      n = this.node(first);
    }
    return null;
  }

  /** Values of a small Const (through Identity), or null. */
  constValues(nameOrTensor: string): readonly (number | boolean | string)[] | null {
    let n = this.node(nameOrTensor);
    for (let steps = 0; n && steps < 16; steps++) {
      if (n.op === 'Const') {
        const v = n.attrs['value'];
        return v?.kind === 'tensor' ? v.values : null;
      }
      if (n.op !== 'Identity') return null;
      const first = this.dataInputs(n)[0];
      if (first === undefined) return null;
      n = this.node(first);
    }
    return null;
  }

  /** True when the value written by an assign op comes from a checkpoint restore op (Saver's restore graph). */
  isRestoreWrite(writer: GraphNode): boolean {
    if (/^save(_\d+)?\//.test(writer.name)) return true;
    const value = this.dataInputs(writer)[1];
    let n = value === undefined ? undefined : this.node(value);
    for (let steps = 0; n && steps < 8; steps++) {
      if (RESTORE_OPS.has(n.op)) return true;
      if (n.op !== 'Identity') return false;
      const first = this.dataInputs(n)[0];
      n = first === undefined ? undefined : this.node(first);
    }
    return false;
  }

  /**
   * The Placeholder / PlaceholderWithDefault a predicate tensor comes from, following only ops that pass a
   * boolean through (Identity, Switch, LogicalNot, Cast, Reshape, ...). Null if it comes from anything else.
   */
  predicateSource(nameOrTensor: string): GraphNode | null {
    const seen = new Set<string>();
    const queue = [opName(nameOrTensor)];
    while (queue.length > 0 && seen.size < 256) {
      const name = queue.shift() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      const n = this.byName.get(name);
      if (!n) continue;
      if (n.op === 'Placeholder' || n.op === 'PlaceholderWithDefault') return n;
      if (!PREDICATE_PASS.has(n.op)) continue;
      const inputs = this.dataInputs(n);
      // Switch(data, pred): the boolean is the data input of a pred Switch; Merge: any branch
      const follow = n.op === 'Merge' ? inputs : inputs.slice(0, 1);
      for (const i of follow) queue.push(opName(i));
    }
    return null;
  }
}

/** 'A/batch_normalization/gamma' -> 'A/batch_normalization'; '' for a top-level name. */
export function scopeOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}
