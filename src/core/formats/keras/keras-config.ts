// Interprets the model config JSON Keras writes (h5 `model_config`, `.keras` config.json, keras_metadata.pb /
// object-graph metadata) into a layer tree. Pure: no I/O. Every Keras generation is covered:
//   Keras 2.0-2.2  Sequential as `{class_name:'Sequential', config:[layer, ...]}`, inbound refs [name, node, tensor, kwargs]
//   Keras 2.2.3+   `{class_name, config:{name, layers:[...], input_layers, output_layers}}`, 'Model' then 'Functional'
//   Keras 3        `module` / `registered_name`, inbound nodes `{args:[{class_name:'__keras_tensor__', ...}], kwargs}`
// Nested models are layers whose config holds a `layers` list; their children are parsed recursively.
import { LIMITS, ModelReadError } from '../../io/errors';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * JSON.parse for text written by Python's json module, which emits the bare tokens NaN, Infinity and
 * -Infinity (e.g. a `max_value` or a clip norm). Rejects nesting deeper than LIMITS.maxDepth before parsing,
 * so a hostile file cannot exhaust the stack. Throws ModelReadError naming `file` and `what`.
 */
export function parsePythonJson(text: string, file: string, what: string): Json {
  let depth = 0;
  let inString = false;
  let needsRewrite = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // Jump to the next quote (most of a config is strings); it closes the string unless an odd run of
      // backslashes precedes it. The run cannot reach back past the opening quote.
      const q = text.indexOf('"', i);
      if (q < 0) break;
      let bs = 0;
      while (text.charCodeAt(q - 1 - bs) === 0x5c /* \ */) bs++;
      i = q;
      if (bs % 2 === 0) inString = false;
      continue;
    }
    if (c === 0x22 /* " */) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > LIMITS.maxDepth) {
        throw new ModelReadError(file, 'too-deep', `${what} nests deeper than ${LIMITS.maxDepth} levels`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x4e /* N */ || c === 0x49 /* I */) needsRewrite = true;
  }
  const source = needsRewrite ? rewritePythonNumbers(text) : text;
  try {
    return JSON.parse(source) as Json;
  } catch (e) {
    throw new ModelReadError(file, 'bad-json', `${what} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Replaces NaN / Infinity / -Infinity outside strings: Infinity becomes 1e999 (parses to Infinity), NaN null. */
function rewritePythonNumbers(text: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
    } else if (c === 'N' && text.startsWith('NaN', i)) {
      out += text.slice(last, i) + 'null';
      i += 2;
      last = i + 1;
    } else if (c === 'I' && text.startsWith('Infinity', i)) {
      out += text.slice(last, i) + '1e999';
      i += 7;
      last = i + 1;
    }
  }
  return out + text.slice(last);
}

/** One layer as a model config describes it. */
export interface KerasLayerSpec {
  readonly name: string;
  /** Python class name ('Conv2D', 'Functional', 'SmallNet'): `class_name` without a registration package. */
  readonly className: string;
  /** Keras 3 `module` ('keras.layers'), null before Keras 3. */
  readonly module: string | null;
  /** 'package>Name' of a registered custom class (Keras 3 `registered_name`, or Keras 2's prefixed `class_name`), else null. */
  readonly registeredName: string | null;
  /** The layer's own config object ({} when the entry has none). */
  readonly config: JsonObject;
  /** `config.trainable` (true when absent: Keras < 2.3 did not write it for models). */
  readonly configTrainable: boolean;
  readonly isInput: boolean;
  /** Functional / Sequential / Model, or any layer whose config lists sublayers. */
  readonly isModel: boolean;
  /** Sublayers in config order (InputLayers included); [] for leaves. */
  readonly layers: readonly KerasLayerSpec[];
  /** The `training` kwarg recorded for this layer's call(s) in the parent's functional graph, or null. */
  readonly callTraining: boolean | null;
  /** True when several calls of this layer recorded different `training` values (callTraining is then null). */
  readonly callTrainingConflict: boolean;
}

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
const BATCH_NORM_CLASSES = new Set(['BatchNormalization', 'SyncBatchNormalization', 'BatchNormalizationV1', 'BatchNormalizationV2']);

/** Class name without a registration package ('fi>SmallNet') or module path ('keras.layers.experimental.X'). */
export function baseClassName(className: string): string {
  const afterPackage = className.slice(className.lastIndexOf('>') + 1);
  return afterPackage.slice(afterPackage.lastIndexOf('.') + 1);
}

export function isBatchNormClass(className: string): boolean {
  return BATCH_NORM_CLASSES.has(baseClassName(className));
}

export function isModelClass(className: string): boolean {
  return MODEL_CLASSES.has(baseClassName(className));
}

/** Where a config came from, for error messages: the file and what in it ('model_config', 'config.json'). */
export interface ParseContext {
  readonly file: string;
  readonly what: string;
}

/**
 * Parses a whole model config: `{class_name, config}` (h5 `model_config`, `.keras` config.json) or a
 * keras_metadata / object-graph metadata object (which also carries class_name and config).
 * Throws ModelReadError when the structure is not a Keras model config.
 */
export function parseKerasModelConfig(raw: Json, file: string, what = 'model config'): KerasLayerSpec {
  if (!isJsonObject(raw)) {
    throw new ModelReadError(file, 'bad-config', `${what} is not a JSON object (found ${describe(raw)})`);
  }
  return parseLayerEntry(raw, { file, what }, 0, 'the root model', null);
}

/** Parses one layer entry of a `layers` list (or the root). `fallbackName` serves entries without a name. */
export function parseLayerEntry(entry: JsonObject, ctx: ParseContext, depth: number, where: string, fallbackName: string | null): KerasLayerSpec {
  if (depth > LIMITS.maxDepth) {
    throw new ModelReadError(ctx.file, 'too-deep', `${ctx.what} nests models deeper than ${LIMITS.maxDepth} levels`);
  }
  const className = entry['class_name'];
  if (typeof className !== 'string' || className === '') {
    throw new ModelReadError(ctx.file, 'bad-config', `${ctx.what}: ${where} has no class_name (found ${describe(className ?? null)})`);
  }
  const rawConfig = entry['config'];
  // Keras <= 2.2.2 wrote a Sequential's config as the bare list of its layers.
  const legacyLayerList = Array.isArray(rawConfig) ? rawConfig : null;
  const config: JsonObject = isJsonObject(rawConfig) ? rawConfig : {};
  const nameValue = entry['name'] ?? config['name'];
  const name = typeof nameValue === 'string' && nameValue !== '' ? nameValue : fallbackName;
  if (name === null) {
    throw new ModelReadError(ctx.file, 'bad-config', `${ctx.what}: ${where} (class ${className}) has no name`);
  }
  const layerList = legacyLayerList ?? config['layers'];
  if (layerList !== undefined && layerList !== null && !Array.isArray(layerList)) {
    throw new ModelReadError(ctx.file, 'bad-config', `${ctx.what}: "layers" of ${name} is not a list (found ${describe(layerList)})`);
  }
  const isModel = Array.isArray(layerList) || isModelClass(className);
  const layers = Array.isArray(layerList) ? parseLayerList(layerList, ctx, depth + 1, name, baseClassName(className) === 'Sequential') : [];
  const trainable = config['trainable'] ?? entry['trainable'];
  const moduleValue = entry['module'];
  const registered = entry['registered_name'];
  // Keras 2 writes a registered custom class as 'package>Name' in class_name; Keras 3 keeps that in registered_name.
  const packaged = className.includes('>') ? className : null;
  return {
    name,
    className: className.slice(className.lastIndexOf('>') + 1),
    module: typeof moduleValue === 'string' ? moduleValue : null,
    registeredName: typeof registered === 'string' && registered.includes('>') ? registered : packaged,
    config,
    configTrainable: typeof trainable === 'boolean' ? trainable : true,
    isInput: baseClassName(className) === 'InputLayer',
    isModel,
    layers,
    callTraining: null,
    callTrainingConflict: false,
  };
}

function parseLayerList(list: Json[], ctx: ParseContext, depth: number, parentName: string, sequential: boolean): KerasLayerSpec[] {
  const out: KerasLayerSpec[] = [];
  list.forEach((entry, i) => {
    const where = `layer #${i} of ${parentName}`;
    if (!isJsonObject(entry)) {
      throw new ModelReadError(ctx.file, 'bad-config', `${ctx.what}: ${where} is not an object (found ${describe(entry)})`);
    }
    // Sequential entries carry no top-level name in Keras 3; an InputLayer may lack one entirely.
    const fallback = sequential && baseClassName(String(entry['class_name'] ?? '')) === 'InputLayer' ? `${parentName}_input` : null;
    const spec = parseLayerEntry(entry, ctx, depth, where, fallback);
    const training = callTrainingOf(entry['inbound_nodes']);
    out.push(training.value === null && !training.conflict ? spec : { ...spec, callTraining: training.value, callTrainingConflict: training.conflict });
  });
  return out;
}

/**
 * The `training` kwarg recorded in a layer entry's `inbound_nodes`, across all of its calls.
 * Keras 2: each node is a (possibly nested) list of [layer, node, tensor, kwargs] refs, kwargs repeated on each ref.
 * Keras 3: each node is {args, kwargs}. Values other than booleans (None, a symbolic tensor) count as not recorded.
 */
export function callTrainingOf(inboundNodes: Json | undefined): { value: boolean | null; conflict: boolean } {
  const seen = new Set<boolean>();
  if (Array.isArray(inboundNodes)) {
    for (const node of inboundNodes) {
      const value = trainingInNode(node);
      if (value !== null) seen.add(value);
    }
  }
  if (seen.size === 1) return { value: [...seen][0]!, conflict: false };
  return { value: null, conflict: seen.size > 1 };
}

function trainingInNode(node: Json): boolean | null {
  if (isJsonObject(node)) {
    // Keras 3 node {args, kwargs}; also Keras 2 first-arg dicts ({"a": ref, ...}) whose values are refs.
    if ('kwargs' in node || 'args' in node) return asTraining(isJsonObject(node['kwargs']) ? node['kwargs']['training'] : undefined);
    for (const v of Object.values(node)) {
      const t = trainingInNode(v);
      if (t !== null) return t;
    }
    return null;
  }
  if (!Array.isArray(node)) return null;
  if (isTensorRef(node)) {
    const kwargs = node[3];
    return isJsonObject(kwargs) ? asTraining(kwargs['training']) : null;
  }
  for (const item of node) {
    const t = trainingInNode(item);
    if (t !== null) return t;
  }
  return null;
}

/** [layer_name, node_index, tensor_index, kwargs?] as Keras 1/2 write inbound tensor references. */
function isTensorRef(a: Json[]): boolean {
  return a.length >= 3 && a.length <= 4 && typeof a[0] === 'string' && typeof a[1] === 'number';
}

function asTraining(v: Json | undefined): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  return null;
}

/** A layer of the flattened tree: path, parent path and effective trainability. */
export interface FlatKerasLayer {
  readonly spec: KerasLayerSpec;
  /** '' for the root, nested model names joined with '/' otherwise. */
  readonly path: string;
  readonly parent: string | null;
  /** The layer and every ancestor trainable. */
  readonly trainable: boolean;
}

/**
 * Pre-order list of the layer tree, root first (path ''). InputLayers are left out: they own no variables and
 * cannot be frozen. A second layer with an already used path is reported in `duplicates` and skipped.
 */
export function flattenKerasLayers(root: KerasLayerSpec): { layers: FlatKerasLayer[]; duplicates: string[] } {
  const layers: FlatKerasLayer[] = [];
  const duplicates: string[] = [];
  const used = new Set<string>();
  const visit = (spec: KerasLayerSpec, path: string, parent: string | null, parentTrainable: boolean): void => {
    if (used.has(path)) {
      duplicates.push(path);
      return;
    }
    used.add(path);
    const trainable = parentTrainable && spec.configTrainable;
    layers.push({ spec, path, parent, trainable });
    for (const child of spec.layers) {
      if (child.isInput) continue;
      visit(child, path === '' ? child.name : `${path}/${child.name}`, path, trainable);
    }
  };
  visit(root, '', null, true);
  return { layers, duplicates };
}

/** Orders layers as a pre-order walk of their tree (root first), siblings keeping their relative order. */
export function preorderComparator(layers: readonly FlatKerasLayer[]): (a: FlatKerasLayer, b: FlatKerasLayer) => number {
  const children = new Map<string | null, FlatKerasLayer[]>();
  for (const l of layers) {
    const list = children.get(l.parent);
    if (list) list.push(l);
    else children.set(l.parent, [l]);
  }
  const index = new Map<string, number>();
  const walk = (parent: string | null, depth: number): void => {
    if (depth > LIMITS.maxDepth) return;
    for (const l of children.get(parent) ?? []) {
      if (index.has(l.path)) continue;
      index.set(l.path, index.size);
      walk(l.path, depth + 1);
    }
  };
  walk(null, 0);
  const at = (l: FlatKerasLayer): number => index.get(l.path) ?? Number.MAX_SAFE_INTEGER;
  return (a, b) => at(a) - at(b);
}

// ---------------------------------------------------------------------------------------------------------
// Weights each built-in layer creates, in the order Keras stores them. Keras 2 (h5) lists `layer.weights`
// (trainable then non-trainable); Keras 3 stores `_trainable_variables + _non_trainable_variables` as vars/N.
// Both reduce to the orders below for these classes.

export interface InferredWeight {
  /** Weight name as `add_weight` names it ('kernel', 'moving_mean'). */
  readonly name: string;
  /** Whether Keras creates it trainable (moving statistics never are). */
  readonly trainable: boolean;
}

export type KerasFlavor = 'keras2' | 'keras3';

const WEIGHTLESS = new Set([
  'InputLayer', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Softmax', 'Dropout', 'SpatialDropout1D',
  'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'Flatten', 'Reshape',
  'Permute', 'RepeatVector', 'Lambda', 'Masking', 'Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum',
  'Concatenate', 'Dot', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D',
  'AveragePooling3D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'GlobalAveragePooling1D',
  'GlobalAveragePooling2D', 'GlobalAveragePooling3D', 'MaxPool1D', 'MaxPool2D', 'MaxPool3D', 'AvgPool1D',
  'AvgPool2D', 'AvgPool3D', 'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D', 'GlobalAvgPool1D',
  'GlobalAvgPool2D', 'GlobalAvgPool3D', 'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D', 'Cropping1D',
  'Cropping2D', 'Cropping3D', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D', 'TFOpLambda', 'SlicingOpLambda',
  'Rescaling', 'Resizing', 'CenterCrop', 'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomContrast',
  'RandomTranslation', 'RandomCrop', 'RandomBrightness', 'RandomHeight', 'RandomWidth', 'Identity', 'ActivityRegularization',
]);

const KERNEL_BIAS = new Set([
  'Dense', 'Conv1D', 'Conv2D', 'Conv3D', 'Conv1DTranspose', 'Conv2DTranspose', 'Conv3DTranspose', 'Convolution1D',
  'Convolution2D', 'Convolution3D', 'Convolution2DTranspose', 'Convolution3DTranspose', 'Deconvolution2D', 'Deconvolution3D',
  'LocallyConnected1D', 'LocallyConnected2D',
]);

/** Non-trainable weights by name, for the classes that create any. */
const MOVING_STATISTICS = new Set(['moving_mean', 'moving_variance', 'moving_stddev', 'renorm_mean', 'renorm_stddev', 'renorm_mean_weight', 'renorm_stddev_weight']);

/**
 * Weights a layer creates, in storage order, or null when the class (or one of its options, e.g. LoRA or a
 * quantized dtype policy) is not known well enough to say. Models return null: their weights are their layers'.
 */
export function inferLayerWeights(spec: KerasLayerSpec, flavor: KerasFlavor): InferredWeight[] | null {
  if (spec.isModel) return null;
  const cls = baseClassName(spec.className);
  const c = spec.config;
  if (WEIGHTLESS.has(cls)) return [];
  if (c['lora_rank'] !== undefined && c['lora_rank'] !== null) return null;
  if (isQuantizedPolicy(c['dtype'])) return null;
  const useBias = c['use_bias'] !== false;
  const t = (name: string): InferredWeight => ({ name, trainable: true });
  const bias = useBias ? [t('bias')] : [];
  if (KERNEL_BIAS.has(cls)) return [t('kernel'), ...bias];
  if (cls === 'DepthwiseConv1D' || cls === 'DepthwiseConv2D') {
    // Keras 3 names the depthwise weight plain 'kernel'.
    return [t(flavor === 'keras3' ? 'kernel' : 'depthwise_kernel'), ...bias];
  }
  if (cls === 'SeparableConv1D' || cls === 'SeparableConv2D' || cls === 'SeparableConvolution1D' || cls === 'SeparableConvolution2D') {
    return [t('depthwise_kernel'), t('pointwise_kernel'), ...bias];
  }
  if (isBatchNormClass(cls)) {
    if (c['renorm'] === true) return null;
    const out: InferredWeight[] = [];
    if (c['scale'] !== false) out.push(t('gamma'));
    if (c['center'] !== false) out.push(t('beta'));
    out.push({ name: 'moving_mean', trainable: false }, { name: 'moving_variance', trainable: false });
    return out;
  }
  if (cls === 'LayerNormalization' || cls === 'GroupNormalization') {
    if (c['rms_scaling'] === true) return [t('gamma')];
    const out: InferredWeight[] = [];
    if (c['scale'] !== false) out.push(t('gamma'));
    if (c['center'] !== false) out.push(t('beta'));
    return out;
  }
  if (cls === 'Embedding') return [t('embeddings')];
  if (cls === 'PReLU') return [t('alpha')];
  return null;
}

function isQuantizedPolicy(dtype: Json | undefined): boolean {
  const name = isJsonObject(dtype) && isJsonObject(dtype['config']) ? dtype['config']['name'] : dtype;
  return typeof name === 'string' && /^(int8|int4|float8)/.test(name);
}

/**
 * Whether Keras creates a weight of this class and name trainable. Used where the file records no flag
 * (h5, .keras): moving statistics of normalization layers and the adapted statistics of Normalization are not.
 */
export function isCreatedTrainable(className: string, weightName: string): boolean {
  const base = weightName.replace(/:\d+$/, '').split('/').pop() ?? weightName;
  if (MOVING_STATISTICS.has(base)) return false;
  const cls = baseClassName(className);
  if (cls === 'Normalization' && (base === 'mean' || base === 'variance' || base === 'count')) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// BatchNormalization parameters.

export interface BatchNormParams {
  readonly axis: number[];
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly renorm: boolean;
  readonly synchronized: boolean;
}

/** BN parameters from the layer config, with Keras defaults for absent fields. */
export function batchNormParams(spec: KerasLayerSpec): BatchNormParams {
  const c = spec.config;
  const axis = c['axis'];
  const axes = Array.isArray(axis) ? axis.filter((a): a is number => typeof a === 'number') : typeof axis === 'number' ? [axis] : [-1];
  return {
    axis: axes,
    momentum: typeof c['momentum'] === 'number' ? c['momentum'] : 0.99,
    epsilon: typeof c['epsilon'] === 'number' ? c['epsilon'] : 1e-3,
    center: c['center'] !== false,
    scale: c['scale'] !== false,
    renorm: c['renorm'] === true,
    synchronized: baseClassName(spec.className) === 'SyncBatchNormalization' || c['synchronized'] === true,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Keras 3 weight-file keys.

/** Keras's own snake_case of a class name: 'BatchNormalization' -> 'batch_normalization', 'Conv2D' -> 'conv2d'. */
export function kerasSnakeCase(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]+/g, '');
  return clean
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/**
 * The group names Keras 3 gives a Functional/Sequential model's sublayers in model.weights.h5
 * (`layers/<key>`): the snake_case class name, suffixed _1, _2, ... for repeats within the same model.
 * `children` must be the model's layer list in config order; Sequential models skip their InputLayer.
 */
export function keras3LayerKeys(children: readonly KerasLayerSpec[], sequential: boolean): string[] {
  const used = new Map<string, number>();
  const keys: string[] = [];
  for (const child of children) {
    if (sequential && child.isInput) continue;
    const base = kerasSnakeCase(baseClassName(child.className));
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    keys.push(n === undefined ? base : `${base}_${n + 1}`);
  }
  return keys;
}

function describe(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
