// NodeDef -> IR GraphNode: simplified attrs (never large tensors) with OpDef defaults applied, because
// TF2 (and `strip_default_attrs=True`) drops attrs equal to their default: a training-mode
// FusedBatchNormV3 then has no `is_training` attr at all (SEMANTICS.md 1.3, gotcha 1).
import type { AttrValue as IrAttr, GraphNode } from '../../model/ir';
import type { AttrValue, FunctionDef, NodeDef, OpList, TensorProto, TensorShapeProto } from '../proto/gen';
import { decodeNodeDef } from '../proto/gen';
import { dtypeByteSize, dtypeName } from '../proto/dtype';
import { Reader, wireRange, type Lazy, type WireRange } from '../proto/wire';

/** Tensors with more elements than this keep `values: null`. */
export const MAX_TENSOR_VALUES = 64;
const MAX_ATTR_STRING = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Per op type: attr name -> default value. */
export type OpDefaults = ReadonlyMap<string, ReadonlyMap<string, IrAttr>>;

const FUSED_BN_DEFAULTS: ReadonlyMap<string, IrAttr> = new Map<string, IrAttr>([
  ['epsilon', { kind: 'f', value: 0.0001 }],
  ['exponential_avg_factor', { kind: 'f', value: 1 }],
  ['data_format', { kind: 's', value: 'NHWC' }],
  ['is_training', { kind: 'b', value: true }],
]);

/**
 * Defaults for the ops whose stripped attrs change our analysis, used when the meta graph carries no
 * OpDef for them (values from TensorFlow's op registrations in core/ops/nn_ops.cc).
 */
export const BUILTIN_OP_DEFAULTS: OpDefaults = new Map([
  ['FusedBatchNorm', FUSED_BN_DEFAULTS],
  ['FusedBatchNormV2', FUSED_BN_DEFAULTS],
  ['FusedBatchNormV3', FUSED_BN_DEFAULTS],
]);

/** Defaults from the meta graph's stripped_op_list, falling back to BUILTIN_OP_DEFAULTS per op. */
export function opDefaultsFrom(opList: OpList | undefined): OpDefaults {
  const out = new Map<string, ReadonlyMap<string, IrAttr>>(BUILTIN_OP_DEFAULTS);
  for (const op of opList?.op ?? []) {
    const defaults = new Map<string, IrAttr>();
    for (const a of op.attr) if (a.defaultValue && a.defaultValue.valueCase !== undefined) defaults.set(a.name, simplifyAttr(a.defaultValue));
    out.set(op.name, defaults);
  }
  return out;
}

/** IR node with defaults applied for attrs the NodeDef leaves out. */
export function toGraphNode(n: NodeDef, defaults: OpDefaults): GraphNode {
  const attrs: Record<string, IrAttr> = {};
  for (const [k, v] of n.attr) if (k !== '__proto__') attrs[k] = simplifyAttr(v);
  const d = defaults.get(n.op);
  if (d) for (const [k, v] of d) if (!(k in attrs) && k !== '__proto__') attrs[k] = v;
  return { name: n.name, op: n.op, inputs: n.input, attrs };
}

const NODE_DEF = 'NodeDef';

/**
 * toGraphNode for nodes still in their bytes (GraphDef.node and FunctionDef.node_def are lazy and checked:
 * their bytes were validated when the graph was read, so neither this scan nor a later decode can fail on
 * them). Name, op and inputs are read now; `attrs` is an enumerable getter that decodes the node's attrs, with defaults applied, on first access and
 * keeps the result. Most nodes of a large graph (Identity, Conv2D, ...) are never asked for their attrs
 * while opening; JSON, structured clone and object spread read the getter like a plain property, so the
 * node looks the same as toGraphNode's. `mapInput` rewrites inputs (function bodies: 'x:out:0' -> 'x').
 */
export function lazyGraphNodes(nodes: readonly Lazy<NodeDef>[], defaults: OpDefaults, mapInput?: (input: string) => string): GraphNode[] {
  const out: GraphNode[] = new Array(nodes.length);
  // Inputs repeat (a node feeds many others; control inputs fan in): keeping one string per distinct input
  // makes the IR several MB smaller on large graphs, and what stays alive is what the GC copies.
  const strings = new Map<string, string>();
  let r: Reader | null = null;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    const range = wireRange(node);
    if (!range) {
      const g = toGraphNode(node.get(), defaults);
      out[i] = mapInput ? { ...g, inputs: g.inputs.map(mapInput) } : g;
      continue;
    }
    // One reader for the whole list (nodes of one graph share its buffer).
    if (r === null || r.buf !== range.buf || r.file !== range.file) r = new Reader(range.buf, range.file);
    r.pos = range.start;
    r.depth = range.depth;
    out[i] = scanNode(r, range.end, node, defaults, mapInput, strings);
  }
  return out;
}

function scanNode(
  r: Reader,
  end: number,
  node: Lazy<NodeDef>,
  defaults: OpDefaults,
  mapInput: ((input: string) => string) | undefined,
  strings: Map<string, string>,
): GraphNode {
  let name = '';
  let op = '';
  const inputs: string[] = [];
  r.enter(NODE_DEF);
  while (r.pos < end) {
    const t = r.tag(NODE_DEF);
    switch (t) {
      case 10: name = r.string(end, NODE_DEF, 1); break;
      case 18: {
        op = r.string(end, NODE_DEF, 2);
        const known = strings.get(op);
        if (known === undefined) strings.set(op, op);
        else op = known;
        break;
      }
      case 26: {
        let input = r.string(end, NODE_DEF, 3);
        if (mapInput) input = mapInput(input);
        const known = strings.get(input);
        if (known === undefined) strings.set(input, input);
        inputs.push(known ?? input);
        break;
      }
      case 34: // device
      case 42: // attr entry: decoded on demand
        r.pos = r.lenEnd(end, NODE_DEF, t >>> 3);
        break;
      default:
        if (t >>> 3 >= 1 && t >>> 3 <= 5) r.wrongType(t, NODE_DEF, 'length-delimited');
        r.skip(t, end, NODE_DEF);
    }
  }
  r.finish(end, NODE_DEF);
  let attrs: Readonly<Record<string, IrAttr>> | undefined;
  return {
    name,
    op,
    inputs,
    get attrs(): Readonly<Record<string, IrAttr>> {
      // Decoded afresh (not through node.get(), which would keep the whole NodeDef alive).
      return (attrs ??= toGraphNode(decodeLazyAgain(node), defaults).attrs);
    },
  };
}

function decodeLazyAgain(node: Lazy<NodeDef>): NodeDef {
  const range = wireRange(node) as WireRange;
  const r = new Reader(range.buf, range.file, range.start);
  r.depth = range.depth;
  return decodeNodeDef(r, range.end);
}

/**
 * `signature.name` of a function still in its bytes, without decoding its body: a library holds hundreds
 * of functions and a graph calls a few. Same value as `f.get().signature?.name ?? ''` (repeated
 * `signature` fields merge, the last name wins).
 */
export function functionName(f: Lazy<FunctionDef>): string {
  const range = wireRange(f);
  if (!range) return f.get().signature?.name ?? '';
  const r = new Reader(range.buf, range.file, range.start);
  r.depth = range.depth;
  let name = '';
  r.enter('FunctionDef');
  while (r.pos < range.end) {
    const t = r.tag('FunctionDef');
    if (t !== 10) {
      r.skip(t, range.end, 'FunctionDef');
      continue;
    }
    const e = r.lenEnd(range.end, 'FunctionDef', 1);
    r.enter('OpDef');
    while (r.pos < e) {
      const u = r.tag('OpDef');
      if (u === 10) name = r.string(e, 'OpDef', 1);
      else r.skip(u, e, 'OpDef');
    }
    r.finish(e, 'OpDef');
  }
  r.finish(range.end, 'FunctionDef');
  return name;
}

/** Dimensions (-1 unknown), or null for an unknown rank / missing shape. */
export function shapeDims(s: TensorShapeProto | undefined): number[] | null {
  if (!s || s.unknownRank) return null;
  return s.dim.map((d) => d.size);
}

/** The float32 value written with the fewest digits that still reads back as the same float32 (0.001, not 0.0010000000474974513). */
export function shortFloat32(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const n = Number(x.toPrecision(p));
    if (Math.fround(n) === f) return n;
  }
  return x;
}

export function simplifyAttr(a: AttrValue): IrAttr {
  switch (a.valueCase) {
    case 'b':
      return { kind: 'b', value: a.b ?? false };
    case 'i':
      return { kind: 'i', value: a.i ?? 0 };
    case 'f':
      return { kind: 'f', value: shortFloat32(a.f ?? 0) };
    case 's':
      return { kind: 's', value: bytesToString(a.s) };
    case 'type':
      return { kind: 'type', value: dtypeName(a.type ?? 0) };
    case 'shape':
      return { kind: 'shape', value: shapeDims(a.shape) };
    case 'tensor': {
      const t = a.tensor as TensorProto;
      return { kind: 'tensor', dtype: dtypeName(t.dtype), shape: shapeDims(t.tensorShape) ?? [], values: tensorValues(t) };
    }
    case 'func':
      return { kind: 'func', value: a.func?.name ?? '' };
    case 'list': {
      const l = a.list;
      if (!l) return { kind: 'list', value: [] };
      if (l.s.length) return { kind: 'list', value: l.s.map(bytesToString) };
      if (l.i.length) return { kind: 'list', value: l.i };
      if (l.f.length) return { kind: 'list', value: l.f.map(shortFloat32) };
      if (l.b.length) return { kind: 'list', value: l.b };
      if (l.type.length) return { kind: 'list', value: l.type.map(dtypeName) };
      if (l.shape.length || l.tensor.length || l.func.length) return { kind: 'other' };
      return { kind: 'list', value: [] };
    }
    default:
      return { kind: 'other' };
  }
}

function bytesToString(b: Uint8Array | undefined): string {
  if (!b) return '';
  const s = utf8.decode(b.length > MAX_ATTR_STRING ? b.subarray(0, MAX_ATTR_STRING) : b);
  return b.length > MAX_ATTR_STRING ? s + '…' : s;
}

/**
 * Values of a small tensor in row-major order, or null when it has more than `max` elements, an unknown
 * shape or a dtype we do not decode. A single stored value fills the whole shape (TensorProto semantics).
 */
export function tensorValues(t: TensorProto, max = MAX_TENSOR_VALUES): (number | boolean | string)[] | null {
  const dims = shapeDims(t.tensorShape);
  if (!dims) return null;
  let count = 1;
  for (const d of dims) {
    if (d < 0) return null;
    count *= d;
  }
  if (count > max) return null;
  const dtype = dtypeName(t.dtype);
  const content = t.tensorContent;
  let values: (number | boolean | string)[];
  if (content && content.byteLength > 0) {
    const size = dtypeByteSize(dtype);
    if (size === null || content.byteLength !== size * count) return null;
    values = decodeLittleEndian(content.get(), dtype, count);
    if (values.length === 0 && count > 0) return null;
  } else {
    values = repeatedValues(t, dtype);
  }
  if (values.length === count) return values;
  if (values.length === 0) return count === 0 ? [] : null;
  if (values.length > count) return null;
  // fewer values than elements: the last one repeats
  const out = values.slice();
  while (out.length < count) out.push(values[values.length - 1]);
  return out;
}

function repeatedValues(t: TensorProto, dtype: string): (number | boolean | string)[] {
  switch (dtype) {
    case 'float32':
      return t.floatVal.map(shortFloat32);
    case 'float64':
      return t.doubleVal;
    case 'int32': case 'int16': case 'int8': case 'uint8': case 'uint16': case 'qint8': case 'quint8': case 'qint16': case 'quint16': case 'qint32':
      return t.intVal;
    case 'int64':
      return t.int64Val;
    case 'uint32':
      return t.uint32Val;
    case 'uint64':
      return t.uint64Val;
    case 'bool':
      return t.boolVal;
    case 'string':
      return t.stringVal.map(bytesToString);
    case 'float16':
      return t.halfVal.map(halfToNumber);
    case 'bfloat16':
      return t.halfVal.map(bfloat16ToNumber);
    default:
      return [];
  }
}

function decodeLittleEndian(b: Uint8Array, dtype: string, count: number): (number | boolean)[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: (number | boolean)[] = [];
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'float32': out.push(shortFloat32(v.getFloat32(i * 4, true))); break;
      case 'float64': out.push(v.getFloat64(i * 8, true)); break;
      case 'int32': case 'qint32': out.push(v.getInt32(i * 4, true)); break;
      case 'uint32': out.push(v.getUint32(i * 4, true)); break;
      case 'int64': out.push(Number(v.getBigInt64(i * 8, true))); break;
      case 'uint64': out.push(Number(v.getBigUint64(i * 8, true))); break;
      case 'int16': case 'qint16': out.push(v.getInt16(i * 2, true)); break;
      case 'uint16': case 'quint16': out.push(v.getUint16(i * 2, true)); break;
      case 'float16': out.push(halfToNumber(v.getUint16(i * 2, true))); break;
      case 'bfloat16': out.push(bfloat16ToNumber(v.getUint16(i * 2, true))); break;
      case 'int8': case 'qint8': out.push(v.getInt8(i)); break;
      case 'uint8': case 'quint8': out.push(v.getUint8(i)); break;
      case 'bool': out.push(v.getUint8(i) !== 0); break;
      default: return [];
    }
  }
  return out;
}

function halfToNumber(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const bf = new DataView(new ArrayBuffer(4));
function bfloat16ToNumber(bits: number): number {
  bf.setUint32(0, (bits & 0xffff) << 16);
  return shortFloat32(bf.getFloat32(0));
}
