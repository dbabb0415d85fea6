// MetaGraphDef -> MetaGraphSummary, signatures and collections (shared by SavedModel and `.meta` readers).
import type { MetaGraphSummary, Signature, TensorSpec } from '../../model/ir';
import type { CollectionDef, MetaGraphDef, TensorInfo, VariableDef } from '../proto/gen';
import { decodeVariableDef } from '../proto/gen';
import { Reader } from '../proto/wire';
import { dtypeName } from '../proto/dtype';
import { shapeDims } from './graph-nodes';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Collections whose bytes_list entries are serialized VariableDef protos (TF's register_proto_function). */
export const VARIABLE_COLLECTIONS: ReadonlySet<string> = new Set([
  'variables',
  'trainable_variables',
  'local_variables',
  'model_variables',
  'moving_average_variables',
  'metric_variables',
  'concatenated_variables',
  'trainable_resource_variables',
]);

export function summarizeMetaGraph(mg: MetaGraphDef): MetaGraphSummary {
  const info = mg.metaInfoDef;
  return {
    tags: info?.tags ?? [],
    tensorflowVersion: info?.tensorflowVersion || null,
    tensorflowGitVersion: info?.tensorflowGitVersion || null,
    nodeCount: mg.graphDef?.node.length ?? 0,
    // Lazy: only the function list's framing is read, never the bodies.
    functionCount: mg.graphDef?.library?.get().function.length ?? 0,
    signatures: signaturesOf(mg),
    collections: [...mg.collectionDef.keys()].sort(),
  };
}

export function signaturesOf(mg: MetaGraphDef): Signature[] {
  const out: Signature[] = [];
  for (const [key, sig] of mg.signatureDef) {
    out.push({
      key,
      inputs: [...sig.inputs].map(([name, t]) => tensorSpec(name, t)),
      outputs: [...sig.outputs].map(([name, t]) => tensorSpec(name, t)),
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function tensorSpec(key: string, t: TensorInfo): TensorSpec {
  // `name` is the signature's key for the tensor (the graph tensor it binds to is t.name).
  return { name: key, dtype: dtypeName(t.dtype), shape: shapeDims(t.tensorShape) };
}

/**
 * Every collection as a list of names: node_list as written (':0' kept); bytes_list of VariableDef
 * collections as their variable_name; other bytes_list as UTF-8 text when it is printable, else skipped.
 * int64/float/any lists are left out (they hold no names).
 */
export function collectionNames(mg: MetaGraphDef, file: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, c] of mg.collectionDef) {
    if (name === '__proto__') continue;
    if (c.kindCase === 'nodeList') out[name] = c.nodeList?.value.slice() ?? [];
    else if (c.kindCase === 'bytesList') {
      if (VARIABLE_COLLECTIONS.has(name)) out[name] = variableDefs(c, file).map((v) => v.variableName);
      else {
        const texts = (c.bytesList?.value ?? []).map((b) => utf8.decode(b));
        if (texts.every((s) => /^[\x20-\x7e]*$/.test(s))) out[name] = texts;
      }
    }
  }
  return out;
}

/** The VariableDef protos of a bytes_list collection (e.g. 'variables', 'trainable_variables'). */
export function variableDefs(c: CollectionDef | undefined, file: string): VariableDef[] {
  if (!c || c.kindCase !== 'bytesList') return [];
  return (c.bytesList?.value ?? []).map((b) => decodeVariableDef(new Reader(b, file), b.length));
}

/** 'x:0' -> 'x', '^x' -> 'x', 'x' -> 'x'. */
export function opName(tensorOrOp: string): string {
  // Called for every input while tracing a graph: no regex, no slice unless something is cut.
  const s = tensorOrOp.charCodeAt(0) === 0x5e /* ^ */ ? tensorOrOp.slice(1) : tensorOrOp;
  const colon = s.lastIndexOf(':');
  if (colon <= 0 || colon === s.length - 1) return s;
  for (let i = colon + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return s;
  }
  return s.slice(0, colon);
}
