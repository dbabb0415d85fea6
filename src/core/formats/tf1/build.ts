// A TF1 graph (MetaGraphDef: from a TF1 SavedModel or a `.meta` file) plus its checkpoint index -> IR Model.
//
// Variables: the `variables` collection (VariableDef.variable_name, ':0' dropped), else every
// VariableV2/Variable/VarHandleOp node; plus variable nodes the checkpoint holds that the collection misses.
// Key = name = the variable's op name (what tf.train.Saver uses). Effective trainable = membership in the
// `trainable_variables` collection (VariableDef.trainable is unreliable: TF 1.4 writes false). Shape/dtype
// from the node's `shape`/`dtype` attrs, completed from the checkpoint entry when the graph leaves them
// unknown. Layer = variable scope (optimizer slots: their primary variable's scope). Optimizer variables:
// see optimizer.ts; BatchNorm layers: see batch-norm.ts.
import type { Model, ModelFormat, MetaGraphSummary, ModelWarning, Variable } from '../../model/ir';
import { elementCount, roleFromName } from '../../model/ir';
import type { CheckpointReader } from '../checkpoint/checkpoint';
import type { MetaGraphDef, VariableDef } from '../proto/gen';
import { lazyGraphNodes, opDefaultsFrom } from '../meta-graph/graph-nodes';
import { collectionNames, opName, variableDefs } from '../meta-graph/summary';
import { FunctionLibrary, GraphIndex, VARIABLE_OPS, scopeOf } from './graph-index';
import { findOptimizerVariables } from './optimizer';
import { detectBatchNorms } from './batch-norm';
import { scopeLayers } from './scope-layers';

export interface Tf1ModelInput {
  readonly format: Extract<ModelFormat, 'saved-model-tf1' | 'tf1-meta-checkpoint'>;
  /** What the user opened. */
  readonly path: string;
  /** The graph file, for messages ('saved_model.pb', 'model.ckpt.meta'). */
  readonly file: string;
  readonly metaGraphs: readonly MetaGraphSummary[];
  /** The meta graph to analyse. */
  readonly metaGraph: MetaGraphDef;
  readonly checkpoint: CheckpointReader | null;
  /** Warnings gathered so far; this function appends its own. */
  readonly warnings: readonly ModelWarning[];
}

export function buildTf1Model(input: Tf1ModelInput): Model {
  const mg = input.metaGraph;
  const warnings: ModelWarning[] = [...input.warnings];
  const defaults = opDefaultsFrom(mg.metaInfoDef?.strippedOpList);
  const nodes = lazyGraphNodes(mg.graphDef?.node ?? [], defaults);
  const g = new GraphIndex(nodes, new FunctionLibrary(mg.graphDef?.library, defaults));
  const collections = collectionNames(mg, input.file);

  const defs = new Map<string, VariableDef>();
  const initializers = new Set<string>();
  for (const [name, c] of mg.collectionDef) {
    if (c.kindCase !== 'bytesList' || !/variables$/.test(name)) continue;
    for (const vd of variableDefs(c, input.file)) {
      const op = opName(vd.variableName);
      if (!defs.has(op)) defs.set(op, vd);
      if (vd.initializerName) initializers.add(opName(vd.initializerName));
    }
  }
  const trainable = new Set((collections['trainable_variables'] ?? []).map(opName));

  const names: string[] = [];
  const seen = new Set<string>();
  const addName = (n: string): void => {
    if (!seen.has(n)) {
      seen.add(n);
      names.push(n);
    }
  };
  const globalList = collections['variables'];
  if (globalList) globalList.forEach((t) => addName(opName(t)));
  else for (const n of nodes) if (VARIABLE_OPS.has(n.op)) addName(n.name);
  for (const t of trainable) addName(t);
  const ck = input.checkpoint;
  if (ck) for (const n of nodes) if (VARIABLE_OPS.has(n.op) && ck.entry(n.name)) addName(n.name);

  const globalStep = new Set((collections['global_step'] ?? []).map(opName));
  const opt = findOptimizerVariables(g, names, trainable, initializers, globalStep);
  const unmapped: string[] = [];
  const partitioned: string[] = [];
  const variables: Variable[] = names.map((name) => {
    const node = g.byName.get(name);
    const entry = ck?.entry(name);
    if (ck && !entry) unmapped.push(name);
    const vd = defs.get(name);
    if (vd?.saveSliceInfoDef?.fullName) partitioned.push(`${name} (part of ${vd.saveSliceInfoDef.fullName})`);
    const dtypeAttr = node?.attrs['dtype'];
    const dtype = dtypeAttr?.kind === 'type' ? dtypeAttr.value.replace(/_ref$/, '') : (entry?.dtype ?? 'invalid');
    const shapeAttr = node?.attrs['shape'];
    let shape: readonly number[] | null = shapeAttr?.kind === 'shape' ? shapeAttr.value : null;
    if ((shape === null || shape.some((d) => d < 0)) && entry) shape = entry.shape;
    const s = shape ?? [];
    const primary = opt.slots.get(name);
    const isOpt = primary !== undefined || opt.state.has(name);
    const layerName = primary ?? name;
    const scope = scopeOf(layerName);
    return {
      key: name,
      name,
      shape: s,
      dtype,
      savedTrainable: vd ? vd.trainable : null,
      trainable: trainable.has(name),
      layer: primary !== undefined ? scopeOf(primary) || null : scope || null,
      role: isOpt ? 'other' : roleFromName(name),
      optimizerSlot: isOpt,
      size: shape === null ? null : elementCount(s),
    };
  });
  if (unmapped.length > 0) {
    warnings.push({
      code: 'unmapped-variable',
      message: `${unmapped.length} graph variable${unmapped.length > 1 ? 's are' : ' is'} not in the checkpoint: ${list(unmapped)}`,
      file: ck?.indexFile,
    });
  }
  if (partitioned.length > 0) {
    warnings.push({ code: 'other', message: `partitioned variables (values are checkpoint slices of the full variable): ${list(partitioned)}` });
  }

  const modelVars = new Set(variables.filter((v) => !v.optimizerSlot).map((v) => v.name));
  const batchNorms = detectBatchNorms(g, { names: modelVars, trainable, initializers, keyOf: (n) => n });
  const bnScopes = new Set(batchNorms.map((b) => b.layer));
  const layers = scopeLayers(variables, (scope) => (bnScopes.has(scope) ? 'BatchNormalization' : 'Scope'));

  const hasTraining = opt.optimizerScopes.length > 0 || (collections['train_op']?.length ?? 0) > 0;
  if (!hasTraining) {
    warnings.push({
      code: 'no-training-graph',
      message: `meta graph [${(mg.metaInfoDef?.tags ?? []).join(', ')}] has no optimizer ops and no train_op collection: it cannot show which updates training runs`,
      file: input.file,
    });
  }

  const version = mg.metaInfoDef?.tensorflowVersion || input.metaGraphs.find((m) => m.tensorflowVersion)?.tensorflowVersion || null;
  return {
    format: input.format,
    path: input.path,
    tensorflowVersion: version,
    kerasVersion: null,
    kerasMetadataSource: null,
    metaGraphs: input.metaGraphs,
    layers,
    variables,
    batchNorms,
    tf1Graph: { tags: mg.metaInfoDef?.tags ?? [], nodes, collections },
    kerasConfig: null,
    warnings,
  };
}

function list(items: readonly string[]): string {
  return items.length <= 8 ? items.join(', ') : `${items.slice(0, 8).join(', ')} and ${items.length - 8} more`;
}
