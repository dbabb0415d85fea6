// TF1 graphs (tf.layers / tf.compat.v1 / slim): freezing is only the optimizer's var_list. BatchNorm mode
// follows `is_training`, and the moving statistics change iff the layer is in training mode AND its
// moving-average assign ops run when the train op runs (data or control edges, through the UPDATE_OPS the
// train op depends on). Reachability is computed on the real graph when the model has one.
import type { BatchNorm, GraphNode, Model } from '../../model/ir';
import { GraphIndex, graphIndexFor, nodeName, reachableOps, writtenVariable, type Reachability } from '../graph-reachability';
import { compilePattern } from '../patterns';
import { scopeChain } from '../model-index';
import type { FreezeConfig, UpdateOpsSetting } from '../types';
import type { BnRule, TrainingSource } from './rules';

export const TF1_RULES: readonly BnRule[] = [
  {
    id: 'tf1-inference',
    rows: 'A1, A6, B3',
    when: { training: false },
    normalizesWith: 'moving',
    movingStatsUpdate: false,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'tf1-update-ops-not-run',
    rows: 'A3',
    when: { training: true, updateOpsRun: false },
    normalizesWith: 'batch',
    movingStatsUpdate: false,
    gammaBeta: 'selected',
    statsStillReason: 'update-op-not-run',
  },
  {
    id: 'tf1-training',
    rows: 'A2, A4, B1, B2',
    when: { training: true },
    normalizesWith: 'batch',
    movingStatsUpdate: true,
    gammaBeta: 'selected',
    statsStillReason: 'update-op-not-run',
  },
];

/** Collections that name the train op: tf.train / Estimator's 'train_op', SavedModelBuilder's train_op key. */
const TRAIN_OP_COLLECTIONS = ['train_op', 'saved_model_train_op'];
const TRAINING_FLAG_NAME = /(^|\/)(is_?)?train(ing)?(_?phase|_?flag|_?mode)?$|(^|\/)(keras_)?learning_phase$|(^|\/)phase(_train)?$/i;

export interface Tf1UpdateAnalysis {
  /** Names of the train op(s) found in the graph. */
  readonly trainOps: readonly string[];
  /** The saved train op is what runs (config useSavedTrainOp and the graph has one). */
  readonly usesSavedTrainOp: boolean;
  /** How the update-op dependencies were decided, one sentence. */
  readonly updateOpsSource: string;
  /** Does this BN's moving-average update run with the train op? + why, one clause. */
  updates(bn: BatchNorm): { run: boolean; why: string };
  /** Saved train op only: TF1 variable op names written by an op that runs with it -> the writing op's type. */
  readonly writtenVariables: ReadonlyMap<string, string>;
  readonly reach: Reachability | null;
  readonly graphNodes: number;
}

/** The update ops a config's `updateOps` selects from the UPDATE_OPS collection (scopes filter like re.match). */
export function selectUpdateOps(names: readonly string[], setting: UpdateOpsSetting): string[] {
  if (setting === 'all') return [...names];
  if (setting === 'none') return [];
  const scopes = setting.scopes.flatMap((s) => {
    const c = compilePattern(`^(?:${s})`, 'regex');
    return c.ok ? [c.pattern] : [];
  });
  return names.filter((n) => scopes.some((s) => s.test(n)));
}

function describeSetting(s: UpdateOpsSetting): string {
  if (typeof s === 'string') return `"updateOps": "${s}"`;
  return `"updateOps": {"scopes": ${JSON.stringify(s.scopes)}}`;
}

export function isTrainingFlagNode(node: GraphNode, declared: ReadonlySet<string>): boolean {
  if (node.op !== 'Placeholder' && node.op !== 'PlaceholderWithDefault') return false;
  if (declared.has(node.name)) return true;
  const dtype = node.attrs['dtype'];
  return dtype?.kind === 'type' && dtype.value === 'bool' && TRAINING_FLAG_NAME.test(node.name);
}

/**
 * Which BatchNorm update ops run with the train op. By default the train op is the one the config describes:
 * minimize(loss, var_list) under control_dependencies(the selected UPDATE_OPS). The saved train op stands in
 * for "the loss path" (so updates forced in place through a layer output still count) with every UPDATE_OPS
 * member the config leaves out cut off. With useSavedTrainOp the saved train op runs as it is.
 */
export function analyzeTf1Updates(model: Model, config: FreezeConfig, graphIndex?: GraphIndex): Tf1UpdateAnalysis {
  const graph = model.tf1Graph;
  if (!graph) return updatesWithoutGraph(config);
  const index = graphIndex ?? graphIndexFor(graph);
  const collection = (name: string) => (graph.collections[name] ?? []).map(nodeName);
  const candidates = [...new Set(TRAIN_OP_COLLECTIONS.flatMap(collection).filter((n) => index.find(n) >= 0))];
  const trainOps = candidates.length ? [pickTrainOp(index, candidates, config.useSavedTrainOp)] : [];
  const otherTrainOps = candidates.filter((c) => c !== trainOps[0]);
  const bnUpdateNames = model.batchNorms.flatMap((b) => [...(b.graph?.movingMeanUpdates ?? []), ...(b.graph?.movingVarianceUpdates ?? [])]);
  const hasCollection = graph.collections['update_ops'] !== undefined;
  const updateCollection = hasCollection ? collection('update_ops') : bnUpdateNames;

  const declaredFlags = new Set(model.batchNorms.map((b) => b.graph?.trainingInput).filter((n): n is string => !!n).map(nodeName));
  const trainingFlag = (node: GraphNode) => (isTrainingFlagNode(node, declaredFlags) ? config.training : null);

  const usesSavedTrainOp = config.useSavedTrainOp && trainOps.length > 0;
  let seeds: number[];
  let blocked: Set<number> | undefined;
  let updateOpsSource: string;
  let selected: ReadonlySet<string> | null = null;
  if (usesSavedTrainOp) {
    seeds = trainOps.map((n) => index.find(n));
    const which = config.useSavedTrainOp === 'collection[0]' ? "tf.get_collection('train_op')[0]" : 'the train_op-collection entry that runs the others';
    const others = otherTrainOps.length ? ` (${which}; not ${otherTrainOps.map((o) => `"${o}"`).join(', ')})` : '';
    updateOpsSource = `the train op saved in the graph, "${trainOps[0]}"${others}, runs as it is ("useSavedTrainOp": true): reachability on the real graph decides`;
  } else {
    const chosen = selectUpdateOps(updateCollection, config.updateOps);
    selected = new Set(chosen);
    blocked = new Set(updateCollection.filter((n) => !selected!.has(n)).map((n) => index.find(n)).filter((i) => i >= 0));
    seeds = [...trainOps, ...chosen].map((n) => index.find(n));
    if (trainOps.length === 0) {
      // No train op to stand in for the loss path: the model outputs do.
      const meta = model.metaGraphs.find((m) => sameTags(m.tags, graph.tags));
      for (const sig of meta?.signatures ?? []) for (const o of sig.outputs) seeds.push(index.find(o.name));
    }
    const noTrainOp = config.useSavedTrainOp ? ' ("useSavedTrainOp" is set, but the graph has no train op)' : '';
    updateOpsSource = `the config's ${describeSetting(config.updateOps)} decides: the train op is minimize(loss, var_list) under control_dependencies(those UPDATE_OPS)${noTrainOp}${hasCollection ? '' : '; the graph has no update_ops collection, so the BatchNorm update ops found in it stand in'}`;
  }
  const flagOverride = trainingOverrideResolver(index, model, config);
  const reach = reachableOps(index, seeds, { ...(blocked ? { blocked } : {}), trainingFlag, ...(flagOverride ? { flagOverride } : {}) });
  const written = new Map<string, string>();
  if (usesSavedTrainOp) {
    for (let i = 0; i < reach.runs.length; i++) {
      if (!reach.runs[i]) continue;
      const v = writtenVariable(index, i);
      if (v !== null && !written.has(v)) written.set(v, index.nodes[i]!.op);
    }
  }
  const trainOpText = usesSavedTrainOp ? `the saved train op "${trainOps[0]}"` : 'the train op';
  return {
    trainOps,
    usesSavedTrainOp,
    updateOpsSource,
    writtenVariables: written,
    reach,
    graphNodes: graph.nodes.length,
    updates(bn: BatchNorm) {
      const names = [...(bn.graph?.movingMeanUpdates ?? []), ...(bn.graph?.movingVarianceUpdates ?? [])].map(nodeName);
      if (names.length === 0) return { run: false, why: 'the graph has no moving-average update op for this layer' };
      const found = names.filter((n) => index.find(n) >= 0);
      if (found.length === 0) return { run: false, why: `its update ops (${names[0]}) are not in the graph` };
      const running = found.filter((n) => reach.runs[index.find(n)]);
      if (running.length > 0) {
        const forced = !updateCollection.some((u) => u.startsWith(`${bn.layer}/`));
        return { run: true, why: `${trainOpText} runs ${running[0]}${forced ? ' (forced in place through the layer output)' : ' (UPDATE_OPS)'}` };
      }
      if (selected) {
        return { run: false, why: `the config's ${describeSetting(config.updateOps)} leaves ${found[0]} out of the train op` };
      }
      return { run: false, why: `${trainOpText} does not depend on ${found[0]} (not under control_dependencies(UPDATE_OPS))` };
    },
  };
}

/**
 * Which train_op-collection entry is "the" train op. The collection can hold several: Optimizer.apply_gradients
 * registers its own apply op first, and slim's create_train_op returns a tensor behind it that alone depends
 * on the UPDATE_OPS barrier. 'collection[0]' is what tf.get_collection('train_op')[0] returns; otherwise the
 * entry whose run includes the most of the others (then the one reaching the most ops).
 */
function pickTrainOp(index: GraphIndex, candidates: readonly string[], mode: boolean | 'collection[0]'): string {
  if (mode === 'collection[0]' || candidates.length === 1) return candidates[0]!;
  let best = candidates[0]!;
  let bestScore = [-1, -1];
  for (const c of candidates) {
    const r = reachableOps(index, [index.find(c)]);
    const covers = candidates.filter((o) => o !== c && r.runs[index.find(o)]).length;
    if (covers > bestScore[0]! || (covers === bestScore[0] && r.reachedCount > bestScore[1]!)) {
      best = c;
      bestScore = [covers, r.reachedCount];
    }
  }
  return best;
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t) => b.includes(t));
}

/** No graph in the file (a checkpoint-only model): the config's updateOps is all there is. */
function updatesWithoutGraph(config: FreezeConfig): Tf1UpdateAnalysis {
  const setting = config.updateOps;
  return {
    trainOps: [],
    usesSavedTrainOp: false,
    updateOpsSource: `the model has no graph: the config's ${describeSetting(setting)} decides`,
    writtenVariables: new Map(),
    reach: null,
    graphNodes: 0,
    updates(bn: BatchNorm) {
      const run = selectUpdateOps([`${bn.layer}/AssignMovingAvg`], setting).length > 0;
      return { run, why: run ? `the train op runs its update ops (${describeSetting(setting)})` : `${describeSetting(setting)} leaves its update ops out of the train op` };
    },
  };
}

/** The trainingOverrides entry deciding a TF1 layer: the nearest enclosing scope (fi_common.tf1_override_key). */
export function tf1OverrideKey(layer: string, overrides: Readonly<Record<string, boolean>>): string | undefined {
  return scopeChain(layer).find((s) => overrides[s] !== undefined);
}

const GRADIENT_PREFIX = /^(?:.*\/)?gradients(?:_\d+)?\//;
/** Ops that pass the training flag on unchanged between the placeholder and a BatchNorm scope. */
const FLAG_CHAIN_OPS = new Set(['Identity', 'Snapshot', 'StopGradient', 'Cast']);

/** The BatchNorm layer whose scope holds an op, '<layer>/...' or its gradient 'gradients/<layer>/...' (longest layer wins). */
export function tf1ScopeOfOp(opName: string, layers: readonly string[]): string | null {
  const m = GRADIENT_PREFIX.exec(opName);
  const names = m ? [opName, opName.slice(m[0].length)] : [opName];
  let best: string | null = null;
  for (const l of layers) if ((best === null || l.length > best.length) && names.some((n) => n.startsWith(`${l}/`))) best = l;
  return best;
}

/**
 * trainingOverrides the way the oracle and the Python engine apply them to a TF1 graph
 * (fi_common.tf1_apply_training_overrides): inside an overridden BatchNorm layer's scope (and its gradient
 * scope), an op reading a bool placeholder, directly or through an Identity/Cast chain outside that scope,
 * reads the override value instead. null when the config has no override covering a BatchNorm.
 */
function trainingOverrideResolver(index: GraphIndex, model: Model, config: FreezeConfig): ((consumer: number, source: number) => boolean | null) | null {
  const layers = model.batchNorms.map((b) => b.layer);
  const decided = new Map<string, boolean>();
  for (const l of layers) {
    const key = tf1OverrideKey(l, config.trainingOverrides);
    if (key !== undefined) decided.set(l, config.trainingOverrides[key]!);
  }
  if (decided.size === 0) return null;
  const scopeMemo = new Map<number, string | null>();
  const scopeOf = (i: number) => {
    if (!scopeMemo.has(i)) scopeMemo.set(i, tf1ScopeOfOp(index.nodes[i]!.name, layers));
    return scopeMemo.get(i)!;
  };
  const flagMemo = new Map<number, boolean>();
  const isFlag = (i: number): boolean => {
    const chain: number[] = [];
    let cur = i;
    let result = false;
    for (let hops = 0; hops < 64; hops++) {
      const known = flagMemo.get(cur);
      if (known !== undefined) {
        result = known;
        break;
      }
      chain.push(cur);
      const node = index.nodes[cur]!;
      if (node.op === 'Placeholder' || node.op === 'PlaceholderWithDefault') {
        const dtype = node.attrs['dtype'];
        result = dtype?.kind === 'type' && dtype.value === 'bool';
        break;
      }
      const next = FLAG_CHAIN_OPS.has(node.op) ? index.dataInput(cur, 0) : null;
      if (!next) break;
      cur = next[0];
    }
    for (const c of chain) flagMemo.set(c, result);
    return result;
  };
  return (consumer, source) => {
    const layer = scopeOf(consumer);
    const value = layer === null ? undefined : decided.get(layer);
    if (value === undefined || !isFlag(source) || scopeOf(source) === layer) return null;
    return value;
  };
}

/**
 * The training flag of a TF1 BatchNorm: a constant in the graph, else a per-scope override, else the config.
 * An override rewires the training placeholder inside the layer's scope; a layer built with a constant flag
 * reads no placeholder, so the override cannot change it (the oracle and the engine report it not applied).
 */
export function tf1Training(bn: BatchNorm, config: FreezeConfig): { training: boolean; source: TrainingSource; graphConstant: boolean | null } {
  const graphConstant = bn.graph && bn.graph.isTraining !== 'dynamic' ? bn.graph.isTraining : null;
  const key = tf1OverrideKey(bn.layer, config.trainingOverrides);
  if (graphConstant !== null) return { training: graphConstant, source: { kind: 'graph-constant', ...(key !== undefined ? { overrideIgnored: key } : {}) }, graphConstant };
  if (key !== undefined) return { training: config.trainingOverrides[key]!, source: { kind: 'override', key }, graphConstant };
  if (bn.graph?.trainingInput) return { training: config.training, source: { kind: 'graph-placeholder', placeholder: nodeName(bn.graph.trainingInput) }, graphConstant };
  return { training: config.training, source: { kind: 'config' }, graphConstant };
}
