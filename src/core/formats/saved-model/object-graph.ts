// TF2 object graph (SavedObjectGraph) -> checkpoint keys, object paths and optimizer roles of variables.
//
// Node i of the SavedObjectGraph is node i of the checkpoint's TrackableObjectGraph (both come from the same
// object graph view when TF saves). TensorFlow names every checkpointed value after the FIRST breadth-first
// path from the root to its object, children visited in the order they are listed:
//   key(variable)      = <path>/.ATTRIBUTES/VARIABLE_VALUE
//   key(slot variable) = <path of original variable>/.OPTIMIZER_SLOT/<path of optimizer>/<slot name>/.ATTRIBUTES/VARIABLE_VALUE
// where <path> joins the edge names escaped as '.' -> '..' and '/' -> '.S' (TF's trackable_utils). The slot
// rule wins over the path rule. We compute keys from the SavedObjectGraph, so structure never reads
// `variables.data` (where the serialized TrackableObjectGraph is stored); when a decoded
// TrackableObjectGraph is at hand, `mapObjectGraph` uses its recorded keys and full names instead.
import type { SavedObjectGraph, SavedVariable, TrackableObjectGraph } from '../proto/gen';

export const OBJECT_ATTRIBUTES = '.ATTRIBUTES';
export const OPTIMIZER_SLOT = '.OPTIMIZER_SLOT';
export const VARIABLE_VALUE = 'VARIABLE_VALUE';
/** The checkpoint key under which TF2 checkpoints store the serialized TrackableObjectGraph. */
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

/** TensorFlow's escaping of one object-graph edge name inside a checkpoint key. */
export function escapeLocalName(name: string): string {
  if (name.indexOf('.') < 0 && name.indexOf('/') < 0) return name;
  return name.replace(/\./g, '..').replace(/\//g, '.S');
}

/** One edge from the root: (parent node, edge name, child node). */
export interface PathStep {
  readonly parent: number;
  readonly name: string;
  readonly child: number;
}

/** Minimal view of a node: its named children (both SavedObject and TrackableObject fit). */
interface GraphNodeLike {
  readonly children: readonly { readonly nodeId: number; readonly localName: string }[];
}

/**
 * First breadth-first path from node 0 to every node (children in listed order, as TensorFlow walks them).
 * `null` for nodes not reachable through children (e.g. slot variables of Keras 2 optimizers).
 */
export function breadthFirstPaths(nodes: readonly GraphNodeLike[]): (readonly PathStep[] | null)[] {
  const paths: (PathStep[] | null)[] = nodes.map(() => null);
  if (nodes.length === 0) return paths;
  paths[0] = [];
  const queue = [0];
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    const base = paths[id] as PathStep[];
    for (const c of nodes[id].children) {
      if (c.nodeId < 0 || c.nodeId >= nodes.length || paths[c.nodeId] !== null) continue;
      paths[c.nodeId] = [...base, { parent: id, name: c.localName, child: c.nodeId }];
      queue.push(c.nodeId);
    }
  }
  return paths;
}

/**
 * pathString of every node's path, each built from its parent's (a path is its parent's path plus one step),
 * so a deep graph costs one concatenation per node rather than a join over the whole path.
 */
function pathStrings(paths: readonly (readonly PathStep[] | null)[]): (string | null)[] {
  const out: (string | null)[] = new Array<string | null>(paths.length).fill(null);
  // Shorter paths first, so a parent's string is ready before its children's (no recursion: chains can be long).
  const byLength: number[][] = [];
  paths.forEach((p, id) => {
    if (p) (byLength[p.length] ??= []).push(id);
  });
  for (const ids of byLength) {
    for (const id of ids ?? []) {
      const p = paths[id] as readonly PathStep[];
      if (p.length === 0) {
        out[id] = '';
        continue;
      }
      const last = p[p.length - 1];
      const parent = paths[last.parent];
      const prefix = out[last.parent];
      // breadthFirstPaths extends the parent's path by one step; anything else is joined in full.
      if (parent && parent.length === p.length - 1 && prefix !== null) {
        const e = escapeLocalName(last.name);
        out[id] = p.length === 1 ? e : `${prefix}/${e}`;
      } else out[id] = pathString(p);
    }
  }
  return out;
}

/** 'layer_with_weights-0/kernel' (escaped edge names joined with '/'); '' for the root. */
export function pathString(path: readonly PathStep[]): string {
  return path.map((s) => escapeLocalName(s.name)).join('/');
}

export interface SlotInfo {
  /** Node id of the variable this slot belongs to. */
  readonly originalNodeId: number;
  /** 'm', 'v', 'momentum', ... */
  readonly slotName: string;
  /** Node id of the optimizer owning the slot. */
  readonly optimizerNodeId: number;
}

export interface ObjectGraphVariable {
  /** Node id in the object graph. */
  readonly nodeId: number;
  readonly variable: SavedVariable;
  /** The key of its value in variables.index. */
  readonly checkpointKey: string;
  /** TensorFlow's variable name: SavedVariable.name (TF >= 2.2) or the TrackableObjectGraph full_name; null when neither is recorded. */
  readonly fullName: string | null;
  /** First breadth-first object path ('layer_with_weights-0/kernel', 'variables/3'), null when unreachable. */
  readonly objectPath: string | null;
  /** Every path reaching the variable: one per incoming edge from a reachable parent (first path first). */
  readonly objectPaths: readonly string[];
  /** Set when the variable is an optimizer slot (listed in some node's slot_variables). */
  readonly slot: SlotInfo | null;
  /** Optimizer state that is not a slot (iterations, learning_rate, beta_1, ...): its first path passes through an optimizer node. */
  readonly optimizerState: boolean;
  /** slot !== null || optimizerState. */
  readonly optimizerSlot: boolean;
  /** Whether `checkpointKey` is among the checkpoint's keys; null when no key list was given. */
  readonly inCheckpoint: boolean | null;
}

export interface ObjectGraphMap {
  /** Every SavedVariable node, in node order. */
  readonly variables: readonly ObjectGraphVariable[];
  readonly byNode: ReadonlyMap<number, ObjectGraphVariable>;
  readonly byKey: ReadonlyMap<string, ObjectGraphVariable>;
  /** First breadth-first path of every node (null when unreachable). */
  readonly paths: readonly (readonly PathStep[] | null)[];
  /** Node ids of optimizers: nodes owning slot variables, user objects with identifier 'optimizer', and the root's 'optimizer' child. */
  readonly optimizerNodes: ReadonlySet<number>;
}

export interface MapObjectGraphOptions {
  /** Keys of variables.index, to check the computed keys (ObjectGraphVariable.inCheckpoint). */
  readonly checkpointKeys?: ReadonlySet<string> | null;
  /** The checkpoint's TrackableObjectGraph, when it was read: its recorded keys and full names take precedence. */
  readonly trackable?: TrackableObjectGraph | null;
}

/** Maps every SavedVariable node of a TF2 object graph to its checkpoint key, paths and optimizer role. */
export function mapObjectGraph(graph: SavedObjectGraph, options: MapObjectGraphOptions = {}): ObjectGraphMap {
  const nodes = graph.nodes;
  const paths = breadthFirstPaths(nodes);
  const pathOf = pathStrings(paths);
  const optimizerNodes = findOptimizerNodes(graph);

  const slots = new Map<number, SlotInfo>();
  nodes.forEach((n, optimizerId) => {
    for (const s of n.slotVariables) {
      if (s.slotVariableNodeId >= 0 && s.slotVariableNodeId < nodes.length && !slots.has(s.slotVariableNodeId)) {
        slots.set(s.slotVariableNodeId, { originalNodeId: s.originalVariableNodeId, slotName: s.slotName, optimizerNodeId: optimizerId });
      }
    }
  });

  const incoming = new Map<number, string[]>();
  nodes.forEach((n, parent) => {
    const prefix = pathOf[parent];
    if (prefix === null) return;
    for (const c of n.children) {
      if (nodes[c.nodeId]?.kindCase !== 'variable') continue;
      const s = (prefix ? prefix + '/' : '') + escapeLocalName(c.localName);
      let list = incoming.get(c.nodeId);
      if (!list) incoming.set(c.nodeId, (list = []));
      if (!list.includes(s)) list.push(s);
    }
  });

  const trackable = options.trackable ?? null;
  const keys = options.checkpointKeys ?? null;
  const variables: ObjectGraphVariable[] = [];
  nodes.forEach((n, id) => {
    if (n.kindCase !== 'variable' || !n.variable) return;
    const path = paths[id];
    const objectPath = pathOf[id];
    const slot = slots.get(id) ?? null;
    let checkpointKey = '';
    if (slot) {
      const orig = pathOf[slot.originalNodeId];
      const opt = pathOf[slot.optimizerNodeId];
      if (orig != null && opt != null) {
        checkpointKey = `${orig}/${OPTIMIZER_SLOT}/${opt}/${escapeLocalName(slot.slotName)}/${OBJECT_ATTRIBUTES}/${VARIABLE_VALUE}`;
      }
    } else if (objectPath !== null) {
      checkpointKey = `${objectPath}/${OBJECT_ATTRIBUTES}/${VARIABLE_VALUE}`;
    }
    let fullName: string | null = n.variable.name || null;
    const recorded = trackable?.nodes[id]?.attributes.find((a) => a.name === VARIABLE_VALUE);
    if (recorded) {
      if (recorded.checkpointKey) checkpointKey = recorded.checkpointKey;
      if (!fullName && recorded.fullName) fullName = recorded.fullName;
    }
    const optimizerState = !slot && path !== null && path.some((s) => optimizerNodes.has(s.parent));
    const first = objectPath !== null ? [objectPath] : [];
    const others = (incoming.get(id) ?? []).filter((p) => p !== objectPath);
    variables.push({
      nodeId: id,
      variable: n.variable,
      checkpointKey,
      fullName,
      objectPath,
      objectPaths: [...first, ...others],
      slot,
      optimizerState,
      optimizerSlot: slot !== null || optimizerState,
      inCheckpoint: keys ? keys.has(checkpointKey) : null,
    });
  });

  return {
    variables,
    byNode: new Map(variables.map((v) => [v.nodeId, v])),
    byKey: new Map(variables.filter((v) => v.checkpointKey !== '').map((v) => [v.checkpointKey, v])),
    paths,
    optimizerNodes,
  };
}

function findOptimizerNodes(graph: SavedObjectGraph): Set<number> {
  const out = new Set<number>();
  graph.nodes.forEach((n, id) => {
    if (n.slotVariables.length > 0) out.add(id);
    if (n.userObject?.identifier === 'optimizer') out.add(id);
  });
  for (const c of graph.nodes[0]?.children ?? []) {
    if ((c.localName === 'optimizer' || c.localName === '_optimizer') && c.nodeId < graph.nodes.length) out.add(c.nodeId);
  }
  return out;
}

/** Children of a node by edge name (first edge of that name wins). */
export function childByName(graph: SavedObjectGraph, nodeId: number, name: string): number | undefined {
  return graph.nodes[nodeId]?.children.find((c) => c.localName === name)?.nodeId;
}
