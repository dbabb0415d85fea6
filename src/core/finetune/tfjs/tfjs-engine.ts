// The embedded engine: rebuilds the Keras model in tfjs-layers, loads the checkpoint's values by key, applies
// the plan (which layers train, how each BatchNorm behaves), runs the steps and reports what changed.
// Runs inside the fine-tune worker (src/worker/finetune-worker.ts) or, for tests and the CLI, in-process.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelHandle, Variable } from '../../model/ir';
import { FinetuneError } from '../../io/errors';
import { bnModeFor, agreementOf, syntheticNormal, syntheticUniform } from '../plan';
import type { BatchNormObservation, EngineEvent, VariableObservation, VerifyRequest, VerifyResult } from '../types';
import { CHANGE_TOLERANCE } from '../types';
import { BatchNormController, type BnLayerLike } from './batch-norm';
import { checkSupport, toTfjsTopology } from './keras-config';
import { loadUserData, takeBatch } from '../data';
import { selectBackend, type BackendChoice, type SelectOptions } from './backend';
import { installSelectiveConvGradients, needsOwnDepthwise } from './conv-gradients';

export interface RunContext {
  readonly emit: (e: EngineEvent) => void;
  readonly signal?: AbortSignal;
  readonly backend?: SelectOptions;
  /** Opens the model (injected so the worker and tests share the same path to openModel). */
  readonly open: (path: string) => Promise<ModelHandle>;
}

/** A leaf layer of the rebuilt model with its path as the IR names it ('base/bn1'). */
interface LeafLayer {
  readonly path: string;
  readonly layer: tfl.layers.Layer;
}

function isContainer(l: tfl.layers.Layer): l is tfl.LayersModel {
  return Array.isArray((l as unknown as { layers?: unknown }).layers);
}

export function leafLayers(model: tfl.LayersModel, prefix = ''): LeafLayer[] {
  const out: LeafLayer[] = [];
  for (const l of model.layers) {
    const path = prefix ? `${prefix}/${l.name}` : l.name;
    if (isContainer(l)) out.push(...leafLayers(l, path));
    else out.push({ path, layer: l });
  }
  return out;
}

function attributeOf(name: string): string {
  const last = name.split('/').pop() ?? name;
  return last.replace(/:\d+$/, '');
}

/** The IR variable holding each tfjs weight: same layer path, same attribute name (kernel, gamma, ...). */
export function mapWeights(leaves: readonly LeafLayer[], variables: readonly Variable[]): Map<tfl.LayerVariable, Variable> {
  const byLayer = new Map<string, Variable[]>();
  for (const v of variables) {
    if (v.optimizerSlot || v.layer === null) continue;
    const list = byLayer.get(v.layer) ?? [];
    list.push(v);
    byLayer.set(v.layer, list);
  }
  const out = new Map<tfl.LayerVariable, Variable>();
  const missing: string[] = [];
  for (const { path, layer } of leaves) {
    const candidates = byLayer.get(path) ?? [...byLayer.entries()].find(([p]) => p.endsWith(`/${path}`) || path.endsWith(`/${p}`))?.[1] ?? [];
    for (const w of layer.weights) {
      const attr = attributeOf(w.originalName);
      // Keras 3 names DepthwiseConv2D's weight 'kernel' where Keras 2 and tfjs say 'depthwise_kernel'.
      const aliases = attr === 'depthwise_kernel' && layer.getClassName() === 'DepthwiseConv2D' ? [attr, 'kernel'] : [attr];
      const v =
        aliases.map((a) => candidates.find((c) => attributeOf(c.name) === a)).find((c) => c !== undefined) ??
        candidates.find((c) => attributeOf(c.key.replace(/\/\.ATTRIBUTES\/VARIABLE_VALUE$/, '')) === attr);
      if (!v) {
        missing.push(`${path}/${attr}`);
        continue;
      }
      const sameShape = v.shape.length === w.shape.length && v.shape.every((d, i) => d === w.shape[i]);
      if (!sameShape) throw new FinetuneError('', 'weight-shape', `weight ${path}/${attr}: the model file has shape [${v.shape.join(', ')}], the rebuilt layer expects [${w.shape.join(', ')}]`);
      out.set(w, v);
    }
  }
  if (missing.length > 0) throw new FinetuneError('', 'weight-missing', `no saved value for ${missing.length} weight(s) of the rebuilt model: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`);
  return out;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FinetuneError('', 'cancelled', 'verification cancelled');
}

function snapshot(weights: Iterable<tfl.LayerVariable>): Map<tfl.LayerVariable, Float32Array> {
  const out = new Map<tfl.LayerVariable, Float32Array>();
  for (const w of weights) out.set(w, Float32Array.from(w.read().dataSync() as Float32Array));
  return out;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Keras's effective `fused`: tf.keras 2.x uses the fused kernel (unbiased moving variance) for rank 4/5 inputs. */
function fusedUnbiased(runtime: string, layer: tfl.layers.Layer): boolean {
  if (runtime !== 'tf2-keras') return false;
  const shape = layer.inputSpec?.[0]?.ndim ?? (Array.isArray(layer.batchInputShape) ? layer.batchInputShape.length : null);
  const rank = shape ?? (Array.isArray(layer.input) ? null : (layer.input as tfl.SymbolicTensor).shape.length);
  const cfg = layer.getConfig() as { fused?: boolean | null };
  return (rank === 4 || rank === 5) && cfg.fused !== false;
}

export async function runTfjsVerification(req: VerifyRequest, ctx: RunContext): Promise<VerifyResult> {
  const t0 = performance.now();
  const progress = (phase: Extract<EngineEvent, { type: 'progress' }>['phase'], message: string): void =>
    ctx.emit({ type: 'progress', requestId: req.requestId, phase, message });

  progress('loading-model', `opening ${req.modelPath}`);
  const handle = await ctx.open(req.modelPath);
  try {
    const model = handle.model;
    if (req.runtime === 'tf1-graph' || model.kerasConfig == null) {
      throw new FinetuneError(req.modelPath, 'not-rebuildable', `${model.format} has no Keras model config: TF1 graphs and non-Keras SavedModels cannot be rebuilt in TensorFlow.js; use the Python engine (--engine python)`);
    }
    const unsupported = checkSupport(model.kerasConfig);
    if (unsupported.length > 0) {
      const list = unsupported.map((u) => `${u.layer || '(model)'} (${u.className}): ${u.what}`).join('; ');
      const err = new FinetuneError(req.modelPath, 'unsupported-model', `TensorFlow.js cannot train this model faithfully: ${list}`);
      (err as FinetuneError & { unsupported?: unknown }).unsupported = unsupported;
      throw err;
    }
    const backend: BackendChoice = await selectBackend(ctx.backend);
    throwIfAborted(ctx.signal);

    progress('rebuilding', `rebuilding ${model.layers.length} layers on the ${backend.name} backend`);
    const tfModel = await tfl.models.modelFromJSON({ modelTopology: toTfjsTopology(model.kerasConfig) } as never);
    const leaves = leafLayers(tfModel);

    progress('loading-weights', `loading ${tfModel.weights.length} weights`);
    const byWeight = mapWeights(leaves, model.variables);
    for (const [w, v] of byWeight) {
      const t = await handle.readTensor(v.key);
      if (!(t.data instanceof Float32Array)) throw new FinetuneError(req.modelPath, 'dtype', `variable ${v.name} is ${t.dtype}: only float32 models can be fine-tuned in TensorFlow.js`);
      w.write(tf.tensor(t.data, w.shape as number[], 'float32'));
    }
    throwIfAborted(ctx.signal);

    // Trainability per weight and BN behaviour per layer, from the plan.
    const controller = new BatchNormController();
    const trainVars: tf.Variable[] = [];
    for (const { path, layer } of leaves) {
      const layerTrains = req.layerTrainable[path] ?? layer.trainable;
      for (const w of layer.trainableWeights.concat(layer.nonTrainableWeights)) {
        const isStat = /moving_(mean|variance)$/.test(attributeOf(w.originalName));
        w.trainable = layerTrains && !isStat;
        if (w.trainable) trainVars.push(w.read() as tf.Variable);
      }
      if (layer.getClassName() === 'BatchNormalization') {
        controller.install({
          path,
          layer: layer as unknown as BnLayerLike,
          mode: bnModeFor(req.runtime, path, layerTrains, req.training, req.trainingOverrides),
          unbiasedMovingVariance: fusedUnbiased(req.runtime, layer),
        });
      }
    }

    // Without the fast paths (benchmarks), still the layers tfjs-layers would compute wrongly (dilated depthwise).
    const trainSet = new Set<tf.Variable>(trainVars);
    installSelectiveConvGradients(leaves, (v) => trainSet.has(v), ctx.backend?.fastPaths === false ? needsOwnDepthwise : undefined);

    progress('preparing-data', describeData(req));
    const batches = await makeBatches(tfModel, req);
    const before = snapshot(byWeight.keys());
    const probeX = batches[0]!.x;
    const gapsBefore = probe(tfModel, controller, probeX, req.training);

    const optimizer = makeOptimizer(req);
    const loss: number[] = [];
    const stepMs: number[] = [];
    let timeToFirstStepMs = 0;
    progress('training', `training ${req.settings.steps} step(s), ${trainVars.length} trainable variable(s)`);
    for (let step = 0; step < req.settings.steps; step++) {
      throwIfAborted(ctx.signal);
      const { x, y } = batches[step % batches.length]!;
      const ts = performance.now();
      controller.mode = 'train';
      const f = (): tf.Scalar => {
        // The flag the model is called with reaches Dropout & co.; BatchNorm layers follow the plan (batch-norm.ts).
        const out = tfModel.apply(x, { training: req.training }) as tf.Tensor | tf.Tensor[];
        const outs = Array.isArray(out) ? out : [out];
        let total = tf.scalar(0);
        outs.forEach((o, i) => {
          total = tf.add(total, tf.losses.meanSquaredError(y[i]!, o)) as tf.Scalar;
        });
        for (const { layer } of leaves) for (const l of layer.calculateLosses()) total = tf.add(total, l) as tf.Scalar;
        return total;
      };
      let value: number;
      if (trainVars.length > 0) {
        const cost = optimizer.minimize(f, true, trainVars);
        value = (await cost!.data())[0]!;
        cost!.dispose();
      } else {
        const c = tf.tidy(f);
        value = (await c.data())[0]!;
        c.dispose();
      }
      controller.mode = 'inference';
      const ms = performance.now() - ts;
      loss.push(value);
      stepMs.push(ms);
      if (step === 0) timeToFirstStepMs = performance.now() - t0;
      ctx.emit({ type: 'step', requestId: req.requestId, step: step + 1, loss: value, ms });
      ctx.emit({ type: 'progress', requestId: req.requestId, phase: 'training', message: `step ${step + 1}/${req.settings.steps}`, step: step + 1, totalSteps: req.settings.steps });
      // Let a cancel message in between steps.
      await new Promise((r) => setImmediate(r));
    }

    progress('measuring', 'comparing variables');
    const gapsAfter = probe(tfModel, controller, probeX, req.training);
    const after = snapshot(byWeight.keys());
    const predictions = new Map(req.predictions.map((p) => [p.key, p]));
    const variables: VariableObservation[] = [];
    for (const [w, v] of byWeight) {
      const b = before.get(w)!;
      const a = after.get(w)!;
      const d = maxAbsDiff(a, b);
      const observed = d > CHANGE_TOLERANCE;
      const p = predictions.get(v.key);
      const rel = d / Math.max(maxAbs(b), 1e-12);
      const note = p && p.changes !== observed ? roundingNote(p.changes, d, rel, v.role) : undefined;
      variables.push({
        key: v.key,
        name: v.name,
        layer: v.layer,
        role: v.role,
        predicted: p ? p.changes : null,
        predictedReason: p ? p.reason : null,
        observed,
        maxAbsDelta: d,
        relativeDelta: rel,
        agree: p ? p.changes === observed : false,
        ...(note ? { note } : {}),
      });
    }
    const batchNorms: BatchNormObservation[] = controller.layers.map((e) => {
      const drift = (w: { read(): tf.Tensor }): number => {
        const lv = w as unknown as tfl.LayerVariable;
        const b = before.get(lv);
        const a = after.get(lv);
        return a && b ? maxAbsDiff(a, b) : 0;
      };
      return {
        layer: e.path,
        normalizedWith: e.mode.normalizesWith,
        updatedMovingStats: e.mode.updatesMovingStats,
        movingMeanDrift: drift(e.layer.movingMean),
        movingVarianceDrift: drift(e.layer.movingVariance),
        trainInferenceGapBefore: gapsBefore.layers.get(e.path) ?? 0,
        trainInferenceGapAfter: gapsAfter.layers.get(e.path) ?? 0,
      };
    });
    const { agreement, disagreements } = agreementOf(variables);
    tf.dispose(batches.flatMap((bt) => [bt.x, ...bt.y]));
    optimizer.dispose();
    tfModel.dispose();
    const result: VerifyResult = {
      engine: 'tfjs',
      engineDetail: `TensorFlow.js ${tf.version_core} (${backend.name} backend; ${backend.reason}${backend.ourKernels.length ? `; our kernels: ${backend.ourKernels.join(', ')}` : ''})`,
      runtime: req.runtime,
      steps: req.settings.steps,
      batchSize: req.settings.batchSize,
      data: describeData(req),
      loss,
      stepMs,
      timeToFirstStepMs,
      variables,
      batchNorms,
      modelTrainInferenceGapBefore: gapsBefore.model,
      modelTrainInferenceGapAfter: gapsAfter.model,
      agreement,
      disagreements,
      tolerance: CHANGE_TOLERANCE,
      warnings: [],
    };
    progress('done', disagreements === 0 ? 'prediction and observation agree' : `${disagreements} variable(s) disagree with the prediction`);
    return result;
  } finally {
    await handle.close();
  }
}

/** A disagreement at the level of float round-off: worth saying, so that it is not read as a semantic difference. */
export function roundingNote(predictedChanges: boolean, maxAbsDelta: number, relativeDelta: number, role: string): string | undefined {
  if (predictedChanges && maxAbsDelta === 0 && role === 'bias') {
    return 'unchanged although trained: a bias followed by a BatchNorm that normalizes with batch statistics has a zero gradient (the batch mean cancels it); real TensorFlow often shows a round-off change instead';
  }
  if (!predictedChanges && maxAbsDelta > 0 && relativeDelta < 1e-6) return `changed by ${maxAbsDelta.toExponential(1)} only: float round-off`;
  return undefined;
}

function describeData(req: VerifyRequest): string {
  const d = req.settings.data;
  return d.kind === 'synthetic' ? `synthetic N(0,1) inputs, U(0,1) targets, seed ${req.settings.seed}` : `${d.kind}: ${d.path}`;
}

interface Batch {
  readonly x: tf.Tensor | tf.Tensor[];
  readonly y: tf.Tensor[];
}

/** The run's batches: the user's data (one batch a step, cycling) or one seeded synthetic batch. */
export async function makeBatches(model: tfl.LayersModel, req: VerifyRequest): Promise<Batch[]> {
  const d = req.settings.data;
  if (d.kind === 'synthetic') return makeSyntheticBatches(model, req);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new FinetuneError(d.path, 'data', `user data needs a model with one input and one output (this one has ${model.inputs.length} and ${model.outputs.length}); use synthetic data`);
  }
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  const outShape = model.outputs[0]!.shape.slice(1) as number[];
  if ([...inShape, ...outShape].some((v) => v == null)) throw new FinetuneError(d.path, 'data', 'the model has unknown input/output dimensions');
  const data = await loadUserData(d.kind, d.path, inShape, outShape);
  const bs = req.settings.batchSize;
  const inSize = inShape.reduce((a, b) => a * b, 1);
  const outSize = outShape.reduce((a, b) => a * b, 1);
  const n = Math.max(1, Math.min(req.settings.steps, Math.ceil((data.x.shape[0] ?? 1) / bs)));
  return Array.from({ length: n }, (_, i) => ({
    x: tf.tensor(takeBatch(data.x, bs, i, inSize), [bs, ...inShape], 'float32'),
    y: [data.y ? tf.tensor(takeBatch(data.y, bs, i, outSize), [bs, ...outShape], 'float32') : tf.tensor(syntheticUniform(req.settings.seed + 1 + i, bs * outSize), [bs, ...outShape], 'float32')],
  }));
}

/** Seeded synthetic batches shaped from the model's inputs and outputs (the same numbers the Python runner draws). */
export function makeSyntheticBatches(model: tfl.LayersModel, req: VerifyRequest): Batch[] {
  const bs = req.settings.batchSize;
  const shapeOf = (s: readonly (number | null)[], what: string): number[] =>
    s.map((d, i) => {
      if (i === 0) return bs;
      if (d == null) throw new FinetuneError(req.modelPath, 'data', `${what} has an unknown dimension ${i} (${JSON.stringify(s)}): synthetic data needs a fixed input shape`);
      return d;
    });
  const count = (s: number[]): number => s.reduce((a, b) => a * b, 1);
  let seed = req.settings.seed;
  const xs = model.inputs.map((inp) => {
    const s = shapeOf(inp.shape, `input ${inp.name}`);
    return tf.tensor(syntheticNormal(seed++, count(s)), s, 'float32');
  });
  const ys = model.outputs.map((out) => {
    const s = shapeOf(out.shape, `output ${out.name}`);
    return tf.tensor(syntheticUniform(seed++, count(s)), s, 'float32');
  });
  return [{ x: xs.length === 1 ? xs[0]! : xs, y: ys }];
}

function makeOptimizer(req: VerifyRequest): tf.Optimizer {
  const lr = req.settings.learningRate;
  switch (req.settings.optimizer) {
    case 'sgd':
      return new HostSgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, 0.9);
    case 'adam':
      // Keras's defaults (tfjs's epsilon default is 1e-8, Keras's 1e-7).
      return tf.train.adam(lr, 0.9, 0.999, 1e-7);
  }
}

/**
 * Plain SGD with tfjs's arithmetic (value + (-lr) * gradient, each step rounded to float32), computed on the host:
 * one read of the value and the gradient and one write per variable, where tfjs's SGD runs a Multiply and an Add
 * on the backend (tfjs-node pays a TensorFlow op call for each: 7 ms a step for MobileNet's 110 variables).
 */
export class HostSgd extends tf.Optimizer {
  static get className(): string {
    return 'FreezeInspectorHostSGD';
  }

  constructor(private readonly learningRate: number) {
    super();
  }

  applyGradients(grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): void {
    const list = Array.isArray(grads) ? grads : Object.keys(grads).map((name) => ({ name, tensor: grads[name]! }));
    const f = Math.fround;
    const c = f(-this.learningRate);
    for (const { name, tensor } of list) {
      if (tensor == null) continue;
      const variable = tf.engine().registeredVariables[name]!;
      const value = variable.dataSync() as Float32Array;
      const grad = tensor.dataSync() as Float32Array;
      const out = new Float32Array(value.length);
      for (let i = 0; i < out.length; i++) out[i] = f(f(c * grad[i]!) + value[i]!);
      tf.tidy(() => variable.assign(tf.tensor(out, variable.shape, 'float32')));
    }
    this.incrementIterations();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate };
  }
}

/** Model-level and per-BN train/inference gaps on one batch, without changing anything. */
function probe(model: tfl.LayersModel, controller: BatchNormController, x: tf.Tensor | tf.Tensor[], training: boolean): { model: number; layers: Map<string, number> } {
  controller.gaps.clear();
  const gap = tf.tidy(() => {
    controller.mode = 'probe';
    const tr = model.apply(x, { training }) as tf.Tensor | tf.Tensor[];
    controller.mode = 'inference';
    const inf = model.apply(x, { training: false }) as tf.Tensor | tf.Tensor[];
    const a = Array.isArray(tr) ? tr : [tr];
    const b = Array.isArray(inf) ? inf : [inf];
    return a.reduce((s, t, i) => s + tf.mean(tf.abs(tf.sub(t, b[i]!))).dataSync()[0]!, 0) / a.length;
  });
  return { model: gap, layers: new Map(controller.gaps) };
}
