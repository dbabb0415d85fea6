// Keras structure of a tf.keras 2.x SavedModel (`model.save(dir)`): the layer tree and each variable's owning
// layer, from the Keras metadata (keras_metadata.pb in TF 2.5+, SavedUserObject.metadata in TF <= 2.4) joined
// with the SavedObjectGraph. Pure: works on decoded protos; I/O and checkpoint-key mapping stay with the
// SavedModel reader.
//
// Layer tree: every metadata node whose identifier is a Keras layer or model is a layer; its parent is the
// nearest ancestor on its node path that is one too. Names, classes and `trainable` come from each node's own
// metadata (which a subclassed model's config lacks); `training=` call kwargs come from the parent's
// functional config. Variables: the layer whose object-graph node holds the variable as a named attribute
// ('kernel', 'gamma', ...) owns it; failing that, the deepest layer listing it in its `variables`.
import { ModelReadError } from '../../io/errors';
import type { ModelWarning } from '../../model/ir';
import type { KerasSavedObject, SavedObject, SavedObjectGraph } from '../proto/gen';
import { dtypeName } from '../proto/dtype';
import {
  isJsonObject,
  parseLayerEntry,
  parsePythonJson,
  preorderComparator,
  type FlatKerasLayer,
  type JsonObject,
  type KerasLayerSpec,
} from './keras-config';
import type { KerasVariableDraft } from './keras-model';
import { listSome } from './keras-model';

const NOT_LAYERS = new Set(['_tf_keras_input_layer', '_tf_keras_metric']);
const MODEL_IDENTIFIERS = new Set(['_tf_keras_network', '_tf_keras_model', '_tf_keras_sequential']);
/** Attribute names under which a layer node lists (rather than owns) variables or other objects. */
const LIST_EDGES = new Set(['variables', 'trainable_variables', 'non_trainable_variables', 'regularization_losses', 'keras_api', 'trainable_weights', 'non_trainable_weights', 'weights']);

export interface KerasMetadataNode {
  readonly nodeId: number;
  /** 'root', 'root.layer_with_weights-0.layer-1', ... (object-graph attribute names joined with '.'). */
  readonly nodePath: string;
  readonly identifier: string;
  readonly metadata: string;
}

/** keras_metadata.pb nodes as the protobuf decoder returns them. */
export function metadataFromKerasProto(nodes: readonly KerasSavedObject[]): KerasMetadataNode[] {
  return nodes.map((n) => ({ nodeId: n.nodeId, nodePath: n.nodePath, identifier: n.identifier, metadata: n.metadata }));
}

/**
 * TF <= 2.4 keeps the same JSON in the object graph's SavedUserObject.metadata. Node paths are rebuilt the way
 * Keras builds them: breadth-first from the root, first path wins (the 'keras_api' duplicates are not followed).
 */
export function metadataFromObjectGraph(graph: SavedObjectGraph): KerasMetadataNode[] {
  const paths = breadthFirstPaths(graph);
  const out: KerasMetadataNode[] = [];
  graph.nodes.forEach((n, id) => {
    const u = n.userObject;
    const p = paths.get(id);
    if (u && u.identifier.startsWith('_tf_keras') && u.metadata !== '' && p !== undefined) {
      out.push({ nodeId: id, nodePath: p, identifier: u.identifier, metadata: u.metadata });
    }
  });
  return out;
}

function breadthFirstPaths(graph: SavedObjectGraph): Map<number, string> {
  const paths = new Map<number, string>([[0, 'root']]);
  const queue = [0];
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi]!;
    for (const c of graph.nodes[id]?.children ?? []) {
      if (c.localName === 'keras_api' || paths.has(c.nodeId) || c.nodeId >= graph.nodes.length) continue;
      paths.set(c.nodeId, `${paths.get(id)!}.${c.localName}`);
      queue.push(c.nodeId);
    }
  }
  return paths;
}

export interface SavedModelKerasStructure {
  readonly layers: FlatKerasLayer[];
  /** Object-graph node id of each layer path. */
  readonly layerNodes: ReadonlyMap<string, number>;
  readonly kerasVersion: string | null;
  /** `{class_name, config}` of the root model as Keras wrote it. */
  readonly kerasConfig: JsonObject | null;
  readonly warnings: ModelWarning[];
}

/** Builds the layer tree from the metadata nodes. Throws ModelReadError when the root has no Keras metadata. */
export function kerasLayersFromMetadata(nodes: readonly KerasMetadataNode[], file: string): SavedModelKerasStructure {
  const rootNode = nodes.find((n) => n.nodePath === 'root');
  if (!rootNode) throw new ModelReadError(file, 'bad-keras-metadata', 'the Keras metadata has no entry for the root object');
  const warnings: ModelWarning[] = [];
  const byPath = new Map<string, { node: KerasMetadataNode; json: JsonObject; spec: KerasLayerSpec }>();
  for (const n of nodes) {
    if (n.nodePath !== 'root' && NOT_LAYERS.has(n.identifier)) continue;
    if (n.nodePath !== 'root' && !n.identifier.startsWith('_tf_keras_')) continue;
    const json = parsePythonJson(n.metadata, file, `Keras metadata of ${n.nodePath}`);
    if (!isJsonObject(json)) throw new ModelReadError(file, 'bad-keras-metadata', `Keras metadata of ${n.nodePath} is not a JSON object`);
    const spec = parseLayerEntry(json, { file, what: `Keras metadata of ${n.nodePath}` }, 0, n.nodePath, null);
    byPath.set(n.nodePath, { node: n, json, spec });
  }

  const root = byPath.get('root')!;
  const layers: FlatKerasLayer[] = [];
  const layerNodes = new Map<string, number>();
  const layerPathOf = new Map<string, string>(); // node path -> layer path
  const trainableOf = new Map<string, boolean>();
  const specOf = new Map<string, KerasLayerSpec>();
  // Shorter node paths first, so every parent is placed before its children.
  const depths = new Map<string, number>();
  for (const p of byPath.keys()) depths.set(p, depthOf(p));
  const ordered = [...byPath.keys()].sort((a, b) => depths.get(a)! - depths.get(b)! || 0);
  // A parent's config children by name (the first of a name, as Array.find gives): a Functional model lists
  // hundreds of layers, and each of them looks itself up.
  const configChildren = new Map<string, Map<string, KerasLayerSpec>>();
  const configChild = (parentPath: string, name: string): KerasLayerSpec | undefined => {
    let byName = configChildren.get(parentPath);
    if (!byName) {
      byName = new Map();
      for (const c of specOf.get(parentPath)?.layers ?? []) if (!byName.has(c.name)) byName.set(c.name, c);
      configChildren.set(parentPath, byName);
    }
    return byName.get(name);
  };
  const used = new Set<string>();
  for (const nodePath of ordered) {
    const entry = byPath.get(nodePath)!;
    if (nodePath === 'root') {
      const spec = withMetadataFlags(entry.spec, entry.json, entry.node.identifier);
      layers.push({ spec, path: '', parent: null, trainable: spec.configTrainable });
      layerPathOf.set('root', '');
      layerNodes.set('', entry.node.nodeId);
      trainableOf.set('', spec.configTrainable);
      specOf.set('', spec);
      continue;
    }
    const parentNodePath = nearestLayerAncestor(nodePath, layerPathOf);
    if (parentNodePath === null) continue;
    const parentPath = layerPathOf.get(parentNodePath)!;
    let spec = withMetadataFlags(entry.spec, entry.json, entry.node.identifier);
    const path = parentPath === '' ? spec.name : `${parentPath}/${spec.name}`;
    if (used.has(path)) {
      warnings.push({ code: 'other', message: `two Keras layers share the path "${path}"; the one at ${nodePath} is left out`, file });
      continue;
    }
    used.add(path);
    const fromConfig = configChild(parentPath, spec.name);
    if (fromConfig && (fromConfig.callTraining !== null || fromConfig.callTrainingConflict)) {
      spec = { ...spec, callTraining: fromConfig.callTraining, callTrainingConflict: fromConfig.callTrainingConflict };
    }
    const trainable = trainableOf.get(parentPath)! && spec.configTrainable;
    layers.push({ spec, path, parent: parentPath, trainable });
    layerPathOf.set(nodePath, path);
    layerNodes.set(path, entry.node.nodeId);
    trainableOf.set(path, trainable);
    specOf.set(path, spec);
  }
  layers.sort(preorderComparator(layers));

  const version = root.json['keras_version'];
  const modelConfig = root.json['model_config'];
  const kerasConfig = isJsonObject(modelConfig)
    ? modelConfig
    : { class_name: root.json['class_name'] ?? null, config: root.json['config'] ?? null };
  return { layers, layerNodes, kerasVersion: typeof version === 'string' ? version : null, kerasConfig, warnings };
}

function depthOf(nodePath: string): number {
  return nodePath.split('.').length;
}

function nearestLayerAncestor(nodePath: string, placed: ReadonlyMap<string, string>): string | null {
  const parts = nodePath.split('.');
  for (let i = parts.length - 1; i >= 1; i--) {
    const p = parts.slice(0, i).join('.');
    if (placed.has(p)) return p;
  }
  return null;
}

/** The metadata's own top-level `trainable` is the layer's flag; identifiers say which layers are models. */
function withMetadataFlags(spec: KerasLayerSpec, json: JsonObject, identifier: string): KerasLayerSpec {
  const trainable = json['trainable'];
  return {
    ...spec,
    configTrainable: typeof trainable === 'boolean' ? trainable : spec.configTrainable,
    isModel: spec.isModel || MODEL_IDENTIFIERS.has(identifier),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Variables.

export interface SavedModelVariableMapping {
  readonly variables: KerasVariableDraft[];
  readonly warnings: ModelWarning[];
}

/** What the SavedModel reader knows about a variable node: its checkpoint key and optimizer role. */
export interface VariableNodeInfo {
  /** Key in variables.index, or null when the variable is not checkpointed. */
  readonly checkpointKey: string | null;
  /** Optimizer slot or optimizer state (iterations, learning rate, ...). */
  readonly optimizerSlot: boolean;
}

/**
 * One draft per variable node of the object graph that has a checkpoint key. Owner: the deepest layer holding
 * the variable as a named attribute (directly, 'kernel', or through a non-layer helper object, e.g. a random
 * layer's '_random_generator/_generator/_state_var'); failing that, the deepest layer listing it in its
 * `variables`. Order: the root's `variables` list (Keras's model.weights order), then other layer variables,
 * then optimizer variables. Metric variables (keras_api/metrics) are left out: they are compile state.
 */
export function kerasVariablesFromObjectGraph(
  graph: SavedObjectGraph,
  structure: SavedModelKerasStructure,
  infoOf: (nodeId: number) => VariableNodeInfo | null,
  file: string,
): SavedModelVariableMapping {
  const nodes = graph.nodes;
  const layerOfNode = new Map<number, string>();
  for (const [path, id] of structure.layerNodes) layerOfNode.set(id, path);
  const depth = (path: string): number => (path === '' ? 0 : path.split('/').length);

  const optimizerRoots = new Set<number>();
  const rootOptimizer = childOf(nodes[0], 'optimizer');
  if (rootOptimizer !== null) optimizerRoots.add(rootOptimizer);
  nodes.forEach((n, id) => {
    if (n.slotVariables.length > 0) optimizerRoots.add(id);
  });
  const metrics = new Set<number>();
  for (const [id] of layerOfNode) {
    const api = childOf(nodes[id], 'keras_api');
    for (const m of reachableFrom(graph, childOf(api === null ? undefined : nodes[api], 'metrics'), optimizerRoots)) metrics.add(m);
  }

  const direct = new Map<number, string>();
  const viaAttribute = new Map<number, string>();
  const byList = new Map<number, string>();
  const deeper = (map: Map<number, string>, id: number, path: string): void => {
    const prev = map.get(id);
    if (prev === undefined || depth(path) > depth(prev)) map.set(id, path);
  };
  for (const [id, path] of layerOfNode) {
    for (const c of nodes[id]?.children ?? []) {
      const child = nodes[c.nodeId];
      if (!child) continue;
      if (c.localName === 'variables' && child.kindCase === 'userObject') {
        for (const v of child.children) if (nodes[v.nodeId]?.kindCase === 'variable') deeper(byList, v.nodeId, path);
      }
      if (LIST_EDGES.has(c.localName) || layerOfNode.has(c.nodeId) || optimizerRoots.has(c.nodeId) || c.localName === 'optimizer') continue;
      if (child.kindCase === 'variable') {
        deeper(direct, c.nodeId, path);
        continue;
      }
      for (const v of attributeVariables(graph, c.nodeId, layerOfNode, optimizerRoots)) deeper(viaAttribute, v, path);
    }
  }
  const ownerOf = (id: number): string | null => direct.get(id) ?? viaAttribute.get(id) ?? byList.get(id) ?? null;

  const order: number[] = [];
  const placed = new Set<number>();
  const place = (id: number): void => {
    if (!placed.has(id) && nodes[id]?.kindCase === 'variable') {
      placed.add(id);
      order.push(id);
    }
  };
  const rootList = childOf(nodes[0], 'variables');
  for (const c of rootList === null ? [] : (nodes[rootList]?.children ?? [])) place(c.nodeId);
  nodes.forEach((_, id) => {
    if (!infoOf(id)?.optimizerSlot) place(id);
  });
  nodes.forEach((_, id) => place(id));

  const variables: KerasVariableDraft[] = [];
  const unmapped: string[] = [];
  const noKey: string[] = [];
  for (const id of order) {
    const v = nodes[id]!.variable!;
    const info = infoOf(id);
    const owner = ownerOf(id);
    const optimizerSlot = (info?.optimizerSlot ?? false) && owner === null;
    if (!optimizerSlot && owner === null && metrics.has(id)) continue;
    const name = v.name.replace(/:\d+$/, '') || `node_${id}`;
    const key = info?.checkpointKey ?? null;
    if (key === null || key === '') {
      noKey.push(name);
      continue;
    }
    if (!optimizerSlot && owner === null) unmapped.push(name);
    variables.push({
      key,
      name,
      shape: shapeOf(v.shape),
      dtype: dtypeName(v.dtype).replace(/_ref$/, ''),
      savedTrainable: v.trainable,
      // SavedVariable.trainable is fixed when the variable is created: exactly "created trainable".
      createdTrainable: v.trainable,
      layer: optimizerSlot ? null : owner,
      optimizerSlot,
    });
  }
  const warnings: ModelWarning[] = [];
  if (unmapped.length > 0) {
    warnings.push({ code: 'unmapped-variable', message: `no Keras layer owns ${listSome(unmapped)}; ${unmapped.length === 1 ? 'it follows' : 'they follow'} the root model's trainable flag`, file });
  }
  if (noKey.length > 0) {
    warnings.push({ code: 'unmapped-variable', message: `${listSome(noKey)} ${noKey.length === 1 ? 'has' : 'have'} no checkpoint key and ${noKey.length === 1 ? 'is' : 'are'} left out`, file });
  }
  return { variables, warnings };
}

/** Variables reachable from `start` through attributes, not entering other layers, optimizers or functions. */
function attributeVariables(graph: SavedObjectGraph, start: number, layers: ReadonlyMap<number, string>, stop: ReadonlySet<number>): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    const node = graph.nodes[id];
    if (!node || seen.has(id) || layers.has(id) || stop.has(id)) continue;
    seen.add(id);
    if (node.kindCase === 'variable') {
      out.push(id);
      continue;
    }
    if (node.kindCase !== 'userObject' || node.userObject?.identifier === '_tf_keras_metric') continue;
    for (const c of node.children) if (!LIST_EDGES.has(c.localName)) stack.push(c.nodeId);
  }
  return out;
}

function childOf(node: SavedObject | undefined, name: string): number | null {
  return node?.children.find((c) => c.localName === name)?.nodeId ?? null;
}

function reachableFrom(graph: SavedObjectGraph, start: number | null, stop: ReadonlySet<number> = new Set()): Set<number> {
  const seen = new Set<number>();
  if (start === null) return seen;
  const stack = [start];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id) || id >= graph.nodes.length || stop.has(id)) continue;
    seen.add(id);
    for (const c of graph.nodes[id]!.children) stack.push(c.nodeId);
  }
  return seen;
}

function shapeOf(shape: { dim: { size: number }[]; unknownRank: boolean } | undefined): number[] {
  if (!shape || shape.unknownRank) return [];
  return shape.dim.map((d) => (d.size < 0 ? -1 : d.size));
}


