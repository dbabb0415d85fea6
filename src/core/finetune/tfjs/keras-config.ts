// Checks a Keras model config (the JSON Keras itself wrote) against what tfjs-layers rebuilds faithfully, and
// converts it to the topology tfjs-layers deserializes. Pure (no tfjs import): the support check also runs
// in the extension host before a worker is started.
//
// "Faithfully" is strict on purpose: tfjs-layers accepts some options and silently ignores them (Conv2D
// `groups`, ReLU `negative_slope`/`threshold`, BatchNormalization `renorm`), which would train a different
// model. Those are refused, with the list of offending layers.
import type { UnsupportedLayer } from '../types';

type Json = Record<string, unknown>;

/** Classes tfjs-layers rebuilds with Keras's semantics, and the options each must have for that to hold. */
const SUPPORTED: Readonly<Record<string, (cfg: Json) => string[]>> = {
  InputLayer: (c) => (c.sparse === true ? ['sparse=True'] : c.ragged === true ? ['ragged=True'] : []),
  Conv2D: (c) => [...convChecks(c), ...(num(c.groups, 1) !== 1 ? [`groups=${String(c.groups)}`] : [])],
  DepthwiseConv2D: (c) => [...convChecks(c, true), ...(num(c.groups, 1) !== 1 ? [`groups=${String(c.groups)}`] : [])],
  SeparableConv2D: (c) => convChecks(c),
  Dense: (c) => commonChecks(c),
  BatchNormalization: (c) => bnChecks(c),
  Activation: (c) => activationCheck(c.activation),
  ReLU: (c) => [
    ...(num(c.negative_slope, 0) !== 0 ? [`negative_slope=${String(c.negative_slope)}`] : []),
    ...(num(c.threshold, 0) !== 0 ? [`threshold=${String(c.threshold)}`] : []),
  ],
  LeakyReLU: () => [],
  ELU: () => [],
  Softmax: (c) => (Array.isArray(c.axis) && c.axis.length > 1 ? [`axis=${JSON.stringify(c.axis)}`] : []),
  Add: () => [],
  Subtract: () => [],
  Multiply: () => [],
  Average: () => [],
  Maximum: () => [],
  Minimum: () => [],
  Concatenate: () => [],
  Flatten: (c) => (c.data_format === 'channels_first' ? ['data_format=channels_first'] : []),
  Reshape: () => [],
  Permute: () => [],
  Dropout: (c) => (c.noise_shape != null ? ['noise_shape'] : []),
  MaxPooling2D: (c) => (c.data_format === 'channels_first' ? ['data_format=channels_first'] : []),
  AveragePooling2D: (c) => (c.data_format === 'channels_first' ? ['data_format=channels_first'] : []),
  GlobalAveragePooling2D: (c) => (c.keepdims === true ? ['keepdims=True'] : c.data_format === 'channels_first' ? ['data_format=channels_first'] : []),
  GlobalMaxPooling2D: (c) => (c.keepdims === true ? ['keepdims=True'] : c.data_format === 'channels_first' ? ['data_format=channels_first'] : []),
  ZeroPadding2D: () => [],
  Cropping2D: () => [],
  UpSampling2D: (c) => (c.interpolation != null && c.interpolation !== 'nearest' && c.interpolation !== 'bilinear' ? [`interpolation=${String(c.interpolation)}`] : []),
};

const CONTAINERS = new Set(['Functional', 'Model', 'Sequential']);

/** Keras activation names tfjs implements identically, mapped to tfjs's identifiers. */
const ACTIVATIONS: Readonly<Record<string, string>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  tanh: 'tanh',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  silu: 'swish',
};

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' ? v : dflt;
}

function allOnes(v: unknown): boolean {
  if (v == null) return true;
  if (typeof v === 'number') return v === 1;
  return Array.isArray(v) && v.every((x) => x === 1);
}

function activationName(v: unknown): string | null {
  if (v == null) return 'linear';
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) {
    const o = v as Json;
    // Keras 3 serializes activations as {module, class_name: 'function', config: 'relu'} or similar.
    if (typeof o.config === 'string') return o.config;
    if (typeof o.class_name === 'string') return o.class_name;
  }
  return null;
}

function activationCheck(v: unknown): string[] {
  const name = activationName(v);
  return name !== null && name in ACTIVATIONS ? [] : [`activation=${name ?? JSON.stringify(v)}`];
}

function commonChecks(c: Json): string[] {
  const out: string[] = [];
  if (c.activation !== undefined) out.push(...activationCheck(c.activation));
  if (c.activity_regularizer != null) out.push('activity_regularizer');
  for (const k of ['kernel_constraint', 'bias_constraint', 'depthwise_constraint', 'pointwise_constraint', 'gamma_constraint', 'beta_constraint']) {
    // tfjs applies constraints only inside fit(); the engine's own loop would skip them.
    if (c[k] != null) out.push(k);
  }
  for (const k of ['kernel_regularizer', 'bias_regularizer', 'depthwise_regularizer', 'pointwise_regularizer', 'gamma_regularizer', 'beta_regularizer']) {
    if (c[k] != null && regularizerToTfjs(c[k]) === null) out.push(`${k}=${JSON.stringify(c[k])}`);
  }
  const dtype = c.dtype;
  if (dtype != null && dtype !== 'float32') {
    const policy = typeof dtype === 'object' ? ((dtype as Json).config as Json | undefined)?.name : dtype;
    if (policy !== 'float32') out.push(`dtype=${JSON.stringify(policy ?? dtype)}`);
  }
  return out;
}

function convChecks(c: Json, depthwise = false): string[] {
  const out = commonChecks(c);
  // tfjs-layers' DepthwiseConv2D drops dilation_rate; the engine runs those layers itself (conv-gradients.ts).
  if (!allOnes(c.dilation_rate) && !depthwise) out.push(`dilation_rate=${JSON.stringify(c.dilation_rate)}`);
  if (c.padding === 'causal') out.push('padding=causal');
  if (c.data_format === 'channels_first') out.push('data_format=channels_first');
  return out;
}

function bnChecks(c: Json): string[] {
  const out = commonChecks(c);
  if (c.renorm === true) out.push('renorm=True');
  if (c.virtual_batch_size != null) out.push(`virtual_batch_size=${String(c.virtual_batch_size)}`);
  if (c.adjustment != null) out.push('adjustment');
  if (c.synchronized === true) out.push('synchronized=True');
  const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  if (axis.length !== 1) out.push(`axis=${JSON.stringify(c.axis)}`);
  return out;
}

/** Keras regularizer config -> tfjs L1L2 config, or null when tfjs has no equivalent. */
export function regularizerToTfjs(r: unknown): Json | null {
  if (r == null || typeof r !== 'object') return null;
  const o = r as Json;
  const cfg = (o.config ?? {}) as Json;
  switch (o.class_name) {
    case 'L2':
    case 'l2':
      return { class_name: 'L1L2', config: { l1: 0, l2: num(cfg.l2, 0.01) } };
    case 'L1':
    case 'l1':
      return { class_name: 'L1L2', config: { l1: num(cfg.l1, 0.01), l2: 0 } };
    case 'L1L2':
      return { class_name: 'L1L2', config: { l1: num(cfg.l1, 0), l2: num(cfg.l2, 0) } };
    default:
      return null;
  }
}

function layersOf(modelConfig: Json): Json[] {
  const cfg = modelConfig.config as Json | Json[] | undefined;
  if (Array.isArray(cfg)) return cfg as Json[]; // very old Sequential: config is the layer list
  const layers = cfg?.layers;
  return Array.isArray(layers) ? (layers as Json[]) : [];
}

function layerName(l: Json): string {
  const cfg = (l.config ?? {}) as Json;
  return String(l.name ?? cfg.name ?? '?');
}

/**
 * One config shape for every Keras that wrote it: tuples decoded (keras_metadata.pb writes
 * {"class_name": "__tuple__", "items": [...]}) and Keras 3 conventions mapped to Keras 2's (`batch_shape`,
 * node dicts {args, kwargs} with `__keras_tensor__` history, bare [name, 0, 0] input/output lists).
 */
export function normalizeKerasConfig(config: unknown, depth = 0): unknown {
  if (depth > 200) return config;
  if (Array.isArray(config)) return config.map((c) => normalizeKerasConfig(c, depth + 1));
  if (config === null || typeof config !== 'object') return config;
  const o = config as Json;
  if (o.class_name === '__tuple__' && Array.isArray(o.items)) return normalizeKerasConfig(o.items, depth + 1);
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) out[k] = normalizeKerasConfig(v, depth + 1);
  if (CONTAINERS.has(String(out.class_name)) && out.config && typeof out.config === 'object' && !Array.isArray(out.config)) {
    const c = out.config as Json;
    for (const key of ['input_layers', 'output_layers']) {
      const v = c[key];
      if (Array.isArray(v) && typeof v[0] === 'string') c[key] = [v];
    }
    // Keras 3 numbers a nested model's first outer call node 0; Keras 2 (and tfjs) count the model's own
    // internal node first, so references to nested models shift by one.
    const nested = new Set(layersOf(out).filter((l) => CONTAINERS.has(String(l.class_name))).map((l) => layerName(l)));
    for (const l of layersOf(out)) convertKeras3Layer(l, nested);
  }
  return out;
}

function convertKeras3Layer(l: Json, nestedModels: ReadonlySet<string>): void {
  const cfg = (l.config ?? {}) as Json;
  if (l.class_name === 'InputLayer' && cfg.batch_shape !== undefined && cfg.batch_input_shape === undefined) {
    cfg.batch_input_shape = cfg.batch_shape;
    delete cfg.batch_shape;
  }
  if (!Array.isArray(l.inbound_nodes)) return;
  l.inbound_nodes = (l.inbound_nodes as unknown[]).map((node) => {
    if (Array.isArray(node)) return node;
    const n = (node ?? {}) as Json;
    const kwargs = { ...((n.kwargs ?? {}) as Json) };
    if (kwargs.mask === null) delete kwargs.mask;
    const history: unknown[][] = [];
    const collect = (a: unknown, d: number): void => {
      if (d > 50) return;
      if (Array.isArray(a)) a.forEach((x) => collect(x, d + 1));
      else if (a && typeof a === 'object' && (a as Json).class_name === '__keras_tensor__') {
        const h = ((a as Json).config as Json | undefined)?.keras_history;
        if (Array.isArray(h)) history.push(h);
      }
    };
    collect(n.args, 0);
    return history.map((h) => [h[0], nestedModels.has(String(h[0])) ? Number(h[1]) + 1 : h[1], h[2], kwargs]);
  });
}

/** Every layer the config rebuilds to that tfjs cannot train faithfully, with what is wrong. Empty = supported. */
export function checkSupport(kerasConfig: unknown): UnsupportedLayer[] {
  const out: UnsupportedLayer[] = [];
  if (kerasConfig == null || typeof kerasConfig !== 'object') {
    return [{ layer: '', className: '?', what: 'no Keras model config in this file' }];
  }
  const root = normalizeKerasConfig(kerasConfig) as Json;
  if (!CONTAINERS.has(String(root.class_name))) {
    return [{ layer: '', className: String(root.class_name), what: `model class ${String(root.class_name)} (only Functional and Sequential models can be rebuilt)` }];
  }
  walk(root, '', out, 0);
  return out;
}

function walk(model: Json, prefix: string, out: UnsupportedLayer[], depth: number): void {
  if (depth > 32) {
    out.push({ layer: prefix, className: String(model.class_name), what: 'nesting deeper than 32 models' });
    return;
  }
  for (const l of layersOf(model)) {
    const cls = String(l.class_name);
    const name = layerName(l);
    const path = prefix ? `${prefix}/${name}` : name;
    if (CONTAINERS.has(cls)) {
      walk(l, path, out, depth + 1);
      continue;
    }
    const check = SUPPORTED[cls];
    if (!check) {
      out.push({ layer: path, className: cls, what: `layer class ${cls}` });
      continue;
    }
    for (const what of check((l.config ?? {}) as Json)) out.push({ layer: path, className: cls, what });
    for (const node of inboundCalls(l)) {
      if (node.hasOtherKwargs) out.push({ layer: path, className: cls, what: `call arguments ${node.kwargs}` });
    }
  }
}

/** Per-node call kwargs other than `training` (tfjs's executor drops kwargs; a `mask` etc. would be lost). */
function inboundCalls(l: Json): { hasOtherKwargs: boolean; kwargs: string }[] {
  const nodes = l.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  const out: { hasOtherKwargs: boolean; kwargs: string }[] = [];
  for (const node of nodes) {
    if (!Array.isArray(node)) continue; // Keras 3 node dicts are converted separately
    for (const inbound of node) {
      if (!Array.isArray(inbound)) continue;
      const kw = inbound[3];
      if (kw && typeof kw === 'object') {
        const keys = Object.keys(kw as Json).filter((k) => k !== 'training');
        if (keys.length > 0) out.push({ hasOtherKwargs: true, kwargs: JSON.stringify(kw) });
      }
    }
  }
  return out;
}

/**
 * The topology tfjs-layers deserializes: regularizers mapped to L1L2, activation names mapped, per-node
 * `training` kwargs removed (the engine applies them itself, per layer: tfjs would ignore them anyway).
 */
export function toTfjsTopology(kerasConfig: unknown): Json {
  const root = normalizeKerasConfig(kerasConfig) as Json;
  convertModel(root);
  return root;
}

function convertModel(model: Json): void {
  for (const l of layersOf(model)) {
    if (CONTAINERS.has(String(l.class_name))) {
      convertModel(l);
    } else {
      convertLayerConfig((l.config ?? {}) as Json);
      // Keras 2.x writes BatchNormalization axis as a list ([3]); tfjs expects one integer.
      const c = (l.config ?? {}) as Json;
      if (l.class_name === 'BatchNormalization' && Array.isArray(c.axis) && c.axis.length === 1) c.axis = c.axis[0];
    }
    if (Array.isArray(l.inbound_nodes)) {
      for (const node of l.inbound_nodes as unknown[]) {
        if (!Array.isArray(node)) continue;
        for (const inbound of node) {
          if (Array.isArray(inbound) && inbound[3] && typeof inbound[3] === 'object') {
            const kw = { ...(inbound[3] as Json) };
            delete kw.training;
            inbound[3] = kw;
          }
        }
      }
    }
  }
}

function convertLayerConfig(c: Json): void {
  for (const k of Object.keys(c)) {
    if (k.endsWith('_regularizer') && c[k] != null && k !== 'activity_regularizer') c[k] = regularizerToTfjs(c[k]);
  }
  if ('activation' in c) {
    const name = activationName(c.activation);
    if (name !== null && name in ACTIVATIONS) c.activation = ACTIVATIONS[name];
  }
  // Keras 2 writes `dtype: "float32"`; tfjs only accepts its own dtype names there.
  if (c.dtype != null && typeof c.dtype !== 'string') c.dtype = 'float32';
}

/** Training kwargs recorded per layer in the functional graph: layer path -> training flag. */
export function recordedTrainingKwargs(kerasConfig: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  const visit = (model: Json, prefix: string, depth: number): void => {
    if (depth > 32) return;
    for (const l of layersOf(model)) {
      const path = prefix ? `${prefix}/${layerName(l)}` : layerName(l);
      const nodes = Array.isArray(l.inbound_nodes) ? (l.inbound_nodes as unknown[]) : [];
      for (const node of nodes) {
        if (!Array.isArray(node)) continue;
        for (const inbound of node) {
          const kw = Array.isArray(inbound) ? (inbound[3] as Json | undefined) : undefined;
          if (kw && typeof kw.training === 'boolean') out[path] = kw.training;
        }
      }
      if (CONTAINERS.has(String(l.class_name))) visit(l, path, depth + 1);
    }
  };
  const root = normalizeKerasConfig(kerasConfig);
  if (root && typeof root === 'object') visit(root as Json, '', 0);
  return out;
}
