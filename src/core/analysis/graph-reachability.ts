// Which ops of a TF1 graph actually run when the train op is fetched.
//
// TensorFlow runs the part of the graph the fetch depends on (data and control inputs, transitively),
// minus the "dead" ops: a Switch forwards its input on one output only, every op fed by the untaken output
// is dead, deadness flows forward through every op except Merge (which needs one live input). We mirror
// that: backward BFS from the seeds, then forward dead-propagation from the Switches whose predicate the
// config fixes (the training flag). Both passes touch each node and edge once: linear in graph size.
import type { GraphNode, Tf1Graph } from '../model/ir';
import { LIMITS } from '../io/errors';

/** The graph with names resolved to indices and consumer lists, built once and reused for every query. */
export class GraphIndex {
  readonly nodes: readonly GraphNode[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** Input edges in CSR form: node i's inputs are [inputStart[i], inputStart[i+1]) (unknown names dropped). */
  private readonly inputStart: Int32Array;
  private readonly inputSrc: Int32Array;
  /** Output index of the producer, -1 for a control edge. */
  private readonly inputOutput: Int32Array;
  /** Consumers in CSR form: for node s, consumers are consumerNode[consumerStart[s] .. consumerStart[s+1]). */
  private readonly consumerStart: Int32Array;
  private readonly consumerNode: Int32Array;
  private readonly consumerOutput: Int32Array;

  constructor(graph: Tf1Graph) {
    const nodes = graph.nodes;
    const n = nodes.length;
    this.nodes = nodes;
    const indexOf = new Map<string, number>();
    for (let i = 0; i < n; i++) indexOf.set(nodes[i]!.name, i);
    this.indexOf = indexOf;
    let total = 0;
    for (let i = 0; i < n; i++) total += nodes[i]!.inputs.length;
    const src = new Int32Array(total);
    const out = new Int32Array(total);
    const start = new Int32Array(n + 1);
    const counts = new Int32Array(n);
    let e = 0;
    for (let i = 0; i < n; i++) {
      start[i] = e;
      for (const raw of nodes[i]!.inputs) {
        const control = raw.charCodeAt(0) === 94; // '^'
        let name = control ? raw.slice(1) : raw;
        let output = control ? -1 : 0;
        const colon = name.lastIndexOf(':');
        if (colon > 0 && isDigits(name, colon + 1)) {
          if (!control) output = Number(name.slice(colon + 1));
          name = name.slice(0, colon);
        }
        const s = indexOf.get(name);
        if (s === undefined) continue;
        src[e] = s;
        out[e] = output;
        counts[s]!++;
        e++;
      }
    }
    start[n] = e;
    this.inputStart = start;
    this.inputSrc = src.subarray(0, e);
    this.inputOutput = out.subarray(0, e);
    this.consumerStart = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) this.consumerStart[i + 1] = this.consumerStart[i]! + counts[i]!;
    const fill = this.consumerStart.slice(0, n);
    this.consumerNode = new Int32Array(e);
    this.consumerOutput = new Int32Array(e);
    for (let dst = 0; dst < n; dst++) {
      for (let k = start[dst]!; k < start[dst + 1]!; k++) {
        const at = fill[this.inputSrc[k]!]!++;
        this.consumerNode[at] = dst;
        this.consumerOutput[at] = this.inputOutput[k]!;
      }
    }
  }

  /** The node index of a node or tensor name ('x', 'x:1', '^x'), or -1. */
  find(name: string): number {
    return this.indexOf.get(nodeName(name)) ?? -1;
  }

  /** Calls fn for each resolved input of node i: producer index, output index (-1 for a control edge). */
  forEachInput(i: number, fn: (src: number, output: number) => void): void {
    for (let k = this.inputStart[i]!; k < this.inputStart[i + 1]!; k++) fn(this.inputSrc[k]!, this.inputOutput[k]!);
  }

  /** The k-th data (non-control) input of node i: [producer, output], or null. */
  dataInput(i: number, k: number): readonly [number, number] | null {
    let seen = 0;
    for (let j = this.inputStart[i]!; j < this.inputStart[i + 1]!; j++) {
      if (this.inputOutput[j]! < 0) continue;
      if (seen++ === k) return [this.inputSrc[j]!, this.inputOutput[j]!];
    }
    return null;
  }

  dataInputCount(i: number): number {
    let c = 0;
    for (let j = this.inputStart[i]!; j < this.inputStart[i + 1]!; j++) if (this.inputOutput[j]! >= 0) c++;
    return c;
  }

  forEachConsumer(src: number, fn: (dst: number, output: number, control: boolean) => void): void {
    for (let k = this.consumerStart[src]!; k < this.consumerStart[src + 1]!; k++) {
      const o = this.consumerOutput[k]!;
      fn(this.consumerNode[k]!, o, o < 0);
    }
  }
}

function isDigits(s: string, from: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const indexCache = new WeakMap<Tf1Graph, GraphIndex>();

/** The index of a graph, built on first use and kept as long as the graph object lives (re-analyses reuse it). */
export function graphIndexFor(graph: Tf1Graph): GraphIndex {
  let index = indexCache.get(graph);
  if (!index) indexCache.set(graph, (index = new GraphIndex(graph)));
  return index;
}

export function nodeName(input: string): string {
  let s = input.startsWith('^') ? input.slice(1) : input;
  const colon = s.lastIndexOf(':');
  if (colon > 0 && isDigits(s, colon + 1)) s = s.slice(0, colon);
  return s;
}

/** Value of a boolean tensor when the config fixes it: the training flag, or a constant. null = decided at run time. */
export type FlagResolver = (node: GraphNode) => boolean | null;

export interface ReachOptions {
  /** Nodes never entered by the backward search (e.g. UPDATE_OPS the config leaves out of the train op). */
  readonly blocked?: ReadonlySet<number>;
  /** Value of a training-flag placeholder; null when it is not one. */
  readonly trainingFlag?: FlagResolver;
  /**
   * The value a consumer op reads for one of its inputs in place of the tensor it is wired to (a config
   * trainingOverrides entry rewires the training flag inside a BatchNorm scope), or null to evaluate the input.
   */
  readonly flagOverride?: (consumer: number, source: number) => boolean | null;
}

export interface Reachability {
  /** 1 = runs when the seeds are fetched. */
  readonly runs: Uint8Array;
  /** Nodes reached by the backward search but dead (on an untaken Switch branch). */
  readonly deadCount: number;
  readonly reachedCount: number;
  /** Switches whose predicate was resolved. */
  readonly resolvedSwitches: number;
}

/** Ops that run when `seeds` are fetched: backward reachability, then Switch/Merge deadness. */
export function reachableOps(index: GraphIndex, seeds: readonly number[], options: ReachOptions = {}): Reachability {
  const n = index.nodes.length;
  const reached = new Uint8Array(n);
  const stack: number[] = [];
  for (const s of seeds) {
    if (s >= 0 && !reached[s] && !options.blocked?.has(s)) {
      reached[s] = 1;
      stack.push(s);
    }
  }
  let reachedCount = stack.length;
  const blocked = options.blocked;
  const visit = (src: number) => {
    if (reached[src] || blocked?.has(src)) return;
    reached[src] = 1;
    reachedCount++;
    stack.push(src);
  };
  while (stack.length) index.forEachInput(stack.pop()!, visit);

  // Forward deadness among reached nodes.
  const evaluator = new BoolEvaluator(index, options.trainingFlag ?? (() => null), options.flagOverride);
  const dead = new Uint8Array(n);
  const liveMergeInputs = new Int32Array(n);
  const deadSwitchOutput = new Int32Array(n).fill(-2);
  const deadQueue: { src: number; output: number | 'all' }[] = [];
  let resolvedSwitches = 0;
  for (let i = 0; i < n; i++) {
    if (!reached[i]) continue;
    const node = index.nodes[i]!;
    if (isMerge(node.op)) liveMergeInputs[i] = index.dataInputCount(i);
    if (isSwitch(node.op)) {
      const v = evaluator.inputValue(i, 1);
      if (v !== null) {
        resolvedSwitches++;
        // Output 0 carries the false branch, output 1 the true branch.
        deadSwitchOutput[i] = v ? 0 : 1;
        deadQueue.push({ src: i, output: v ? 0 : 1 });
      }
    }
  }
  let deadCount = 0;
  const killEdge = (dst: number, control: boolean) => {
    if (!reached[dst] || dead[dst]) return;
    if (isMerge(index.nodes[dst]!.op) && !control) {
      if (--liveMergeInputs[dst]! > 0) return;
    }
    dead[dst] = 1;
    deadCount++;
    deadQueue.push({ src: dst, output: 'all' });
  };
  while (deadQueue.length) {
    const { src, output } = deadQueue.pop()!;
    index.forEachConsumer(src, (dst, out, control) => {
      if (output === 'all') {
        // The untaken output of a resolved Switch was already propagated.
        if (!control && out === deadSwitchOutput[src]) return;
        killEdge(dst, control);
      } else if (!control && out === output) killEdge(dst, false);
    });
  }
  const runs = new Uint8Array(n);
  for (let i = 0; i < n; i++) runs[i] = reached[i] && !dead[i] ? 1 : 0;
  return { runs, deadCount, reachedCount, resolvedSwitches };
}

function isSwitch(op: string): boolean {
  return op === 'Switch' || op === 'RefSwitch';
}
function isMerge(op: string): boolean {
  return op === 'Merge' || op === 'RefMerge';
}

/** Constant-folds the boolean tensors that feed Switch predicates (Const, the training flag, Identity, LogicalNot...). */
class BoolEvaluator {
  private readonly memo = new Map<number, boolean | null>();
  constructor(
    private readonly index: GraphIndex,
    private readonly flag: FlagResolver,
    private readonly override?: (consumer: number, source: number) => boolean | null,
  ) {}

  value(src: number, output: number, depth = 0): boolean | null {
    const key = src * 8 + Math.min(output, 7);
    if (this.memo.has(key)) return this.memo.get(key)!;
    this.memo.set(key, null); // cycle guard
    const v = depth > LIMITS.maxDepth ? null : this.compute(src, output, depth);
    this.memo.set(key, v);
    return v;
  }

  /** Value of the k-th data input of a node, as that node reads it. */
  inputValue(consumer: number, k: number): boolean | null {
    return this.input(consumer, k, -1);
  }

  private input(src: number, k: number, depth: number): boolean | null {
    const e = this.index.dataInput(src, k);
    if (!e) return null;
    const o = this.override?.(src, e[0]) ?? null;
    return o !== null ? o : this.value(e[0], e[1], depth + 1);
  }

  private compute(src: number, output: number, depth: number): boolean | null {
    const node = this.index.nodes[src]!;
    const flag = this.flag(node);
    if (flag !== null) return flag;
    switch (node.op) {
      case 'Const': {
        const t = node.attrs['value'];
        if (t?.kind === 'tensor' && t.dtype === 'bool' && t.values && t.values.length >= 1) return t.values[0] === true || t.values[0] === 1;
        return null;
      }
      case 'PlaceholderWithDefault':
      case 'Identity':
      case 'StopGradient':
      case 'Snapshot':
      case 'RefIdentity':
        return this.input(src, 0, depth);
      case 'Switch':
      case 'RefSwitch':
        // A nested cond passes the outer predicate through the outer Switch: either output carries the data.
        return output === 0 || output === 1 ? this.input(src, 0, depth) : null;
      case 'LogicalNot': {
        const a = this.input(src, 0, depth);
        return a === null ? null : !a;
      }
      case 'LogicalAnd': {
        const a = this.input(src, 0, depth);
        const b = this.input(src, 1, depth);
        if (a === false || b === false) return false;
        return a === true && b === true ? true : null;
      }
      case 'LogicalOr': {
        const a = this.input(src, 0, depth);
        const b = this.input(src, 1, depth);
        if (a === true || b === true) return true;
        return a === false && b === false ? false : null;
      }
      default:
        return null;
    }
  }
}

/** Ops that write a variable (input 0 is the ref or resource handle). */
const WRITER_OPS = /^(Assign|AssignAdd|AssignSub|AssignVariableOp|AssignAddVariableOp|AssignSubVariableOp|(Resource)?(Sparse)?Apply\w+|(Resource)?Scatter\w+)$/;

/** The variable op each writer writes, through Identity hops: writer index -> variable node name. */
export function writtenVariable(index: GraphIndex, writer: number): string | null {
  const node = index.nodes[writer]!;
  if (!WRITER_OPS.test(node.op)) return null;
  let e = index.dataInput(writer, 0);
  for (let hops = 0; e && hops < 16; hops++) {
    const src = index.nodes[e[0]]!;
    if (src.op === 'Identity' || src.op === 'RefIdentity') e = index.dataInput(e[0], 0);
    else return src.name;
  }
  return null;
}
