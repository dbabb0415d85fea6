// `*.freeze.json`: parsed with jsonc-parser so that every diagnostic points at its place in the text
// (offset/length + JSON path), which the editor turns into squiggles and the CLI into line:column.
// Invalid values never throw: they are reported and replaced by the default, so that the rest of the file
// can still be analysed.
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { compilePattern } from './patterns';
import type {
  BaseTrainable,
  ConfigDiagnostic,
  ConfigDiagnosticCode,
  FreezeConfig,
  ParsedFreezeConfig,
  PatternSyntax,
  RuntimeSetting,
  Severity,
  UpdateOpsSetting,
  VerifyData,
  VerifyOptimizer,
  VerifySettings,
} from './types';

export const RUNTIME_SETTINGS: readonly RuntimeSetting[] = ['auto', 'tf1-graph', 'tf2-keras', 'keras3'];
export const PATTERN_SYNTAXES: readonly PatternSyntax[] = ['regex', 'prefix', 'glob'];
export const BASE_TRAINABLE: readonly BaseTrainable[] = ['saved', 'all', 'model'];
export const VERIFY_OPTIMIZERS: readonly VerifyOptimizer[] = ['sgd', 'momentum', 'adam'];
export const VERIFY_DATA_KINDS: readonly VerifyData['kind'][] = ['synthetic', 'images', 'npy', 'csv'];

/** Top-level keys and what each holds (also the schema's property list, kept in step by a unit test). */
export const CONFIG_KEYS = [
  '$schema',
  'description',
  'model',
  'runtime',
  'patternSyntax',
  'freeze',
  'train',
  'training',
  'trainingOverrides',
  'updateOps',
  'useSavedTrainOp',
  'baseTrainable',
  'verify',
  'scripts',
] as const;
const VERIFY_KEYS = ['steps', 'batchSize', 'optimizer', 'learningRate', 'seed', 'data'] as const;
const DATA_KEYS = ['kind', 'path'] as const;

/** Upper bounds that keep a verification run short and a typo (steps: 1e9) harmless. */
export const VERIFY_LIMITS = { maxSteps: 10_000, maxBatchSize: 4096 } as const;

export function defaultVerifySettings(): VerifySettings {
  return { steps: 3, batchSize: 8, optimizer: 'sgd', learningRate: 0.01, seed: 1234, data: { kind: 'synthetic' } };
}

export function defaultFreezeConfig(model: string): FreezeConfig {
  return {
    model,
    runtime: 'auto',
    patternSyntax: 'regex',
    freeze: [],
    train: null,
    training: true,
    trainingOverrides: {},
    updateOps: 'all',
    useSavedTrainOp: false,
    baseTrainable: 'saved',
    verify: null,
    scripts: [],
  };
}

type Path = (string | number)[];

class Collector {
  readonly diagnostics: ConfigDiagnostic[] = [];
  add(code: ConfigDiagnosticCode, severity: Severity, message: string, node: { offset: number; length: number }, path: Path): void {
    this.diagnostics.push({ code, severity, message, offset: node.offset, length: node.length, path: [...path] });
  }
}

function describe(node: Node): string {
  switch (node.type) {
    case 'string':
      return `the string ${JSON.stringify(node.value)}`;
    case 'number':
      return `the number ${String(node.value)}`;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    default:
      return node.type;
  }
}

/** Properties of an object node, reporting unknown and duplicate keys. Returns key -> value node. */
function properties(obj: Node, known: readonly string[], path: Path, out: Collector, where: string): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const prop of obj.children ?? []) {
    const [keyNode, valueNode] = prop.children ?? [];
    if (!keyNode || !valueNode) continue;
    const key = String(keyNode.value);
    if (map.has(key)) out.add('duplicate-key', 'warning', `duplicate key "${key}"${where}: the last one wins`, keyNode, [...path, key]);
    if (!known.includes(key)) {
      const hint = suggest(key, known);
      out.add('unknown-key', 'warning', `unknown key "${key}"${where}${hint ? `; did you mean "${hint}"?` : ''} (known: ${known.join(', ')})`, keyNode, [...path, key]);
      continue;
    }
    map.set(key, valueNode);
  }
  return map;
}

function suggest(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase().replace(/[_-]/g, '');
  for (const k of known) if (k.toLowerCase().replace(/[_-]/g, '') === lower) return k;
  let best: string | null = null;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

function wrongType(out: Collector, node: Node, path: Path, expected: string): void {
  out.add('wrong-type', 'error', `"${path.join('.')}" must be ${expected}, not ${describe(node)}`, node, path);
}

function oneOf<T extends string>(out: Collector, node: Node, path: Path, allowed: readonly T[]): T | undefined {
  if (node.type !== 'string') {
    wrongType(out, node, path, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    return undefined;
  }
  if (!allowed.includes(node.value as T)) {
    out.add('invalid-value', 'error', `"${path.join('.')}" is ${JSON.stringify(node.value)}; expected one of ${allowed.map((a) => `"${a}"`).join(', ')}`, node, path);
    return undefined;
  }
  return node.value as T;
}

function stringArray(out: Collector, node: Node, path: Path): { value: string; node: Node }[] | undefined {
  if (node.type !== 'array') {
    wrongType(out, node, path, 'an array of strings');
    return undefined;
  }
  const items: { value: string; node: Node }[] = [];
  (node.children ?? []).forEach((child, i) => {
    if (child.type !== 'string') wrongType(out, child, [...path, i], 'a string');
    else items.push({ value: child.value as string, node: child });
  });
  return items;
}

function checkPatterns(out: Collector, items: { value: string; node: Node }[], syntax: PatternSyntax, path: Path): string[] {
  const kept: string[] = [];
  const arr = items;
  arr.forEach(({ value, node }) => {
    const index = node.parent?.children?.indexOf(node) ?? kept.length;
    const p = [...path, index];
    if (value === '') {
      out.add('empty-pattern', 'warning', `an empty ${syntax} pattern matches every ${path[0] === 'updateOps' ? 'update op' : 'variable or layer'}`, node, p);
    }
    const compiled = compilePattern(value, syntax);
    if (!compiled.ok) {
      out.add('invalid-regex', 'error', `${JSON.stringify(value)}: ${compiled.error}`, node, p);
      return;
    }
    kept.push(value);
  });
  return kept;
}

function positiveInteger(out: Collector, node: Node | undefined, path: Path, max: number, fallback: number, allowZero = false): number {
  if (!node) return fallback;
  if (node.type !== 'number') {
    wrongType(out, node, path, 'an integer');
    return fallback;
  }
  const v = node.value as number;
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1) || v > max) {
    out.add('invalid-value', 'error', `"${path.join('.')}" is ${v}; expected an integer from ${allowZero ? 0 : 1} to ${max}`, node, path);
    return fallback;
  }
  return v;
}

function parseVerify(out: Collector, node: Node): VerifySettings | null {
  const path: Path = ['verify'];
  if (node.type !== 'object') {
    wrongType(out, node, path, 'an object');
    return null;
  }
  const d = defaultVerifySettings();
  const props = properties(node, VERIFY_KEYS, path, out, ' in "verify"');
  const steps = positiveInteger(out, props.get('steps'), [...path, 'steps'], VERIFY_LIMITS.maxSteps, d.steps);
  const batchSize = positiveInteger(out, props.get('batchSize'), [...path, 'batchSize'], VERIFY_LIMITS.maxBatchSize, d.batchSize);
  const seed = positiveInteger(out, props.get('seed'), [...path, 'seed'], 2 ** 31 - 1, d.seed, true);
  let optimizer = d.optimizer;
  const optNode = props.get('optimizer');
  if (optNode) optimizer = oneOf(out, optNode, [...path, 'optimizer'], VERIFY_OPTIMIZERS) ?? optimizer;
  let learningRate = d.learningRate;
  const lrNode = props.get('learningRate');
  if (lrNode) {
    if (lrNode.type !== 'number') wrongType(out, lrNode, [...path, 'learningRate'], 'a number');
    else if (!(lrNode.value > 0 && lrNode.value <= 10)) out.add('invalid-value', 'error', `"verify.learningRate" is ${lrNode.value}; expected a number in (0, 10]`, lrNode, [...path, 'learningRate']);
    else learningRate = lrNode.value as number;
  }
  let data: VerifyData = d.data;
  const dataNode = props.get('data');
  if (dataNode) {
    const dp: Path = [...path, 'data'];
    if (dataNode.type !== 'object') wrongType(out, dataNode, dp, 'an object like {"kind": "synthetic"}');
    else {
      const dprops = properties(dataNode, DATA_KEYS, dp, out, ' in "verify.data"');
      const kindNode = dprops.get('kind');
      const pathNode = dprops.get('path');
      if (!kindNode) out.add('missing-key', 'error', '"verify.data" needs "kind": one of "synthetic", "images", "npy", "csv"', { offset: dataNode.offset, length: 1 }, dp);
      const kind = kindNode ? oneOf(out, kindNode, [...dp, 'kind'], VERIFY_DATA_KINDS) : undefined;
      if (kind === 'synthetic') {
        data = { kind };
        if (pathNode) out.add('invalid-value', 'warning', '"verify.data.path" is ignored for synthetic data', pathNode, [...dp, 'path']);
      } else if (kind) {
        if (!pathNode) out.add('missing-key', 'error', `"verify.data" of kind "${kind}" needs a "path" (relative to this file)`, kindNode!, [...dp, 'kind']);
        else if (pathNode.type !== 'string' || pathNode.value === '') wrongType(out, pathNode, [...dp, 'path'], 'a non-empty path string');
        else data = { kind, path: pathNode.value as string };
      }
    }
  }
  return { steps, batchSize, optimizer, learningRate, seed, data };
}

function parseUpdateOps(out: Collector, node: Node): UpdateOpsSetting | undefined {
  const path: Path = ['updateOps'];
  if (node.type === 'string') {
    return oneOf(out, node, path, ['all', 'none'] as const);
  }
  if (node.type === 'object') {
    const props = properties(node, ['scopes'], path, out, ' in "updateOps"');
    const scopesNode = props.get('scopes');
    if (!scopesNode) {
      out.add('missing-key', 'error', '"updateOps" as an object needs "scopes": an array of scope regexes (like tf.get_collection(UPDATE_OPS, scope))', { offset: node.offset, length: 1 }, path);
      return undefined;
    }
    const items = stringArray(out, scopesNode, [...path, 'scopes']);
    if (!items) return undefined;
    return { scopes: checkPatterns(out, items, 'regex', [...path, 'scopes']) };
  }
  wrongType(out, node, path, '"all", "none" or {"scopes": [...]}');
  return undefined;
}

/** Parses and validates a freeze config. Never throws; `config` is null only when the text is not a JSON object. */
export function parseFreezeConfig(text: string, fileName: string): ParsedFreezeConfig {
  const out = new Collector();
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  for (const e of errors) {
    out.add('invalid-json', 'error', `${fileName}: invalid JSON (${printParseErrorCode(e.error)})`, { offset: e.offset, length: Math.max(1, e.length) }, []);
  }
  if (!root || root.type !== 'object') {
    if (errors.length === 0) {
      out.add('not-an-object', 'error', `${fileName}: a freeze config is a JSON object like {"model": "...", "freeze": [...]}`, root ?? { offset: 0, length: text.length }, []);
    }
    return { config: null, diagnostics: out.diagnostics };
  }
  const props = properties(root, CONFIG_KEYS, [], out, '');

  let model = '';
  const modelNode = props.get('model');
  if (!modelNode) out.add('missing-key', 'error', '"model" is required: the path of the model, relative to this file', { offset: root.offset, length: 1 }, []);
  else if (modelNode.type !== 'string' || modelNode.value === '') wrongType(out, modelNode, ['model'], 'a non-empty path string');
  else model = modelNode.value as string;

  const base = defaultFreezeConfig(model);
  const get = <K extends (typeof CONFIG_KEYS)[number]>(k: K) => props.get(k);

  const schemaNode = get('$schema');
  if (schemaNode && schemaNode.type !== 'string') wrongType(out, schemaNode, ['$schema'], 'a string');
  const descNode = get('description');
  if (descNode && descNode.type !== 'string') wrongType(out, descNode, ['description'], 'a string');

  const runtimeNode = get('runtime');
  const runtime = (runtimeNode && oneOf(out, runtimeNode, ['runtime'], RUNTIME_SETTINGS)) || base.runtime;
  const syntaxNode = get('patternSyntax');
  const patternSyntax = (syntaxNode && oneOf(out, syntaxNode, ['patternSyntax'], PATTERN_SYNTAXES)) || base.patternSyntax;

  let freeze: readonly string[] = base.freeze;
  const freezeNode = get('freeze');
  if (freezeNode) {
    const items = stringArray(out, freezeNode, ['freeze']);
    if (items) freeze = checkPatterns(out, items, patternSyntax, ['freeze']);
  }
  let train: readonly string[] | null = base.train;
  const trainNode = get('train');
  if (trainNode && trainNode.type !== 'null') {
    const items = stringArray(out, trainNode, ['train']);
    // [] means no allow-list, as include_patterns=[] does for the oracle's filter (`train or None`).
    if (items && items.length > 0) train = checkPatterns(out, items, patternSyntax, ['train']);
  }

  let training = base.training;
  let trainingNotPassed = false;
  const trainingNode = get('training');
  if (trainingNode) {
    if (trainingNode.type === 'null') {
      training = false;
      trainingNotPassed = true;
    } else if (trainingNode.type !== 'boolean') wrongType(out, trainingNode, ['training'], 'true, false or null (not passed)');
    else training = trainingNode.value as boolean;
  }

  const trainingOverrides: Record<string, boolean> = {};
  const overridesNode = get('trainingOverrides');
  if (overridesNode) {
    if (overridesNode.type !== 'object') wrongType(out, overridesNode, ['trainingOverrides'], 'an object {"<layer path or scope>": false}');
    else {
      for (const prop of overridesNode.children ?? []) {
        const [k, v] = prop.children ?? [];
        if (!k || !v) continue;
        const key = String(k.value);
        if (v.type !== 'boolean') wrongType(out, v, ['trainingOverrides', key], 'true or false');
        else if (key === '') out.add('invalid-value', 'error', 'a trainingOverrides key must name a layer path or scope; use "training" for the whole model', k, ['trainingOverrides', key]);
        else trainingOverrides[key.replace(/\/+$/, '')] = v.value as boolean;
      }
    }
  }

  const updateOpsNode = get('updateOps');
  const updateOps = (updateOpsNode && parseUpdateOps(out, updateOpsNode)) || base.updateOps;

  let useSavedTrainOp = base.useSavedTrainOp;
  const savedNode = get('useSavedTrainOp');
  if (savedNode) {
    if (savedNode.type === 'boolean') useSavedTrainOp = savedNode.value as boolean;
    else if (savedNode.type === 'string' && savedNode.value === 'collection[0]') useSavedTrainOp = 'collection[0]';
    else wrongType(out, savedNode, ['useSavedTrainOp'], 'true, false or "collection[0]"');
  }
  const baseNode = get('baseTrainable');
  const baseTrainable = (baseNode && oneOf(out, baseNode, ['baseTrainable'], BASE_TRAINABLE)) || base.baseTrainable;

  const verifyNode = get('verify');
  // "verify": null is what a FreezeConfig without verification settings serializes to: same as absent.
  const verify = verifyNode && verifyNode.type !== 'null' ? parseVerify(out, verifyNode) : base.verify;

  let scripts: readonly string[] = base.scripts;
  const scriptsNode = get('scripts');
  if (scriptsNode) {
    const items = stringArray(out, scriptsNode, ['scripts']);
    if (items) {
      for (const it of items) {
        if (!/\.py$/i.test(it.value)) out.add('invalid-value', 'warning', `${JSON.stringify(it.value)} is not a .py file`, it.node, ['scripts', scriptsNode.children!.indexOf(it.node)]);
      }
      scripts = items.map((i) => i.value);
    }
  }

  return {
    config: { model, runtime, patternSyntax, freeze, train, training, ...(trainingNotPassed ? { trainingNotPassed } : {}), trainingOverrides, updateOps, useSavedTrainOp, baseTrainable, verify, scripts },
    diagnostics: out.diagnostics,
  };
}

/** offset/length of the value at `path` in the config text (the closest existing ancestor when absent). */
export function locateInConfig(text: string, path: readonly (string | number)[]): { offset: number; length: number } {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return { offset: 0, length: 0 };
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, path.slice(0, n) as (string | number)[]);
    if (node && n === 0) return { offset: node.offset, length: 1 };
    if (node) {
      // For an object/array value, point at the key (more readable than the whole block).
      if ((node.type === 'object' || node.type === 'array') && node.parent?.type === 'property' && node.parent.children?.[0]) {
        const key = node.parent.children[0];
        return { offset: key.offset, length: key.length };
      }
      return { offset: node.offset, length: node.length };
    }
  }
  return { offset: 0, length: 0 };
}

/** 1-based line and column of an offset (for the CLI and SARIF). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** The model path of a config: `model` resolved against the config file's folder ('/'-separated or native). */
export function resolveModelPath(configFile: string, config: FreezeConfig): string {
  const sep = configFile.includes('\\') && !configFile.includes('/') ? '\\' : '/';
  if (/^([a-zA-Z]:[\\/]|\/)/.test(config.model)) return config.model;
  const cut = Math.max(configFile.lastIndexOf('/'), configFile.lastIndexOf('\\'));
  const dir = cut >= 0 ? configFile.slice(0, cut) : '.';
  return normalizeJoin(dir, config.model, sep);
}

function normalizeJoin(dir: string, rel: string, sep: string): string {
  const absolute = dir.startsWith('/') ? '/' : '';
  const parts: string[] = [];
  for (const p of `${dir}/${rel}`.split(/[\\/]+/)) {
    if (p === '' || p === '.') continue;
    if (p === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(p);
  }
  const joined = parts.join(sep);
  return absolute ? absolute + joined : joined || '.';
}
