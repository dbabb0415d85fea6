// Graph nodes and function bodies are kept as byte ranges (GraphDef.node, FunctionDef.node_def are
// `[lazy = true, checked = true]`): checked when read, decoded on demand. These tests hold the lazy path to
// the eager one on real TensorFlow files, and check that malformed node bytes are still refused up front.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { decodeSavedModel, type GraphDef } from '../../../src/core/formats/proto/gen';
import { ModelReadError } from '../../../src/core/io/errors';
import { functionName, lazyGraphNodes, opDefaultsFrom, toGraphNode } from '../../../src/core/formats/meta-graph/graph-nodes';
import { realSavedModels } from './real-files';

function graphsOf(file: string): { graph: GraphDef; defaults: ReturnType<typeof opDefaultsFrom> }[] {
  const sm = decodeMessage(new Uint8Array(readFileSync(file)), 'saved_model.pb', decodeSavedModel);
  return sm.metaGraphs.flatMap((mg) => (mg.graphDef ? [{ graph: mg.graphDef, defaults: opDefaultsFrom(mg.metaInfoDef?.strippedOpList) }] : []));
}

test('lazy graph nodes read exactly what an eager decode gives (names, ops, inputs, attrs with defaults)', (t) => {
  const files = realSavedModels();
  if (files.length === 0) return t.skip('no real saved_model.pb on this machine');
  let nodes = 0;
  for (const file of files) {
    for (const { graph, defaults } of graphsOf(file)) {
      const lazy = lazyGraphNodes(graph.node, defaults);
      assert.equal(lazy.length, graph.node.length, file);
      lazy.forEach((n, i) => {
        const eager = toGraphNode(graph.node[i].get(), defaults);
        // JSON sees the attrs getter as a plain property, in the same key order.
        assert.equal(JSON.stringify(n), JSON.stringify(eager), `${file}: node ${eager.name}`);
        assert.deepEqual({ ...n }, eager);
        assert.equal(n.attrs, n.attrs, 'attrs are decoded once and kept');
        nodes++;
      });
    }
  }
  assert.ok(nodes > 100, `only ${nodes} nodes compared`);
});

test('function bodies: lazy nodes with rewritten inputs, and names read without decoding the bodies', (t) => {
  const files = realSavedModels();
  if (files.length === 0) return t.skip('no real saved_model.pb on this machine');
  const strip = (s: string): string => (s.startsWith('^') || s.indexOf(':') < 0 ? s : s.slice(0, s.indexOf(':')));
  let functions = 0;
  for (const file of files) {
    for (const { graph, defaults } of graphsOf(file)) {
      for (const f of graph.library?.get().function.slice(0, 40) ?? []) {
        const name = functionName(f);
        const fd = f.get();
        assert.equal(name, fd.signature?.name ?? '', file);
        const lazy = lazyGraphNodes(fd.nodeDef, defaults, strip);
        fd.nodeDef.forEach((nd, i) => {
          const g = toGraphNode(nd.get(), defaults);
          assert.equal(JSON.stringify(lazy[i]), JSON.stringify({ ...g, inputs: g.inputs.map(strip) }), `${file}: ${name}`);
        });
        functions++;
      }
    }
  }
  assert.ok(functions > 0, 'no function body compared');
});

/** Length-prefixed field `field` holding `body`. */
function field(no: number, body: number[]): number[] {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return [(no << 3) | 2, ...len, ...body];
}
const ascii = (s: string): number[] => [...Buffer.from(s, 'ascii')];

test('a malformed attr inside a lazy node is refused when the graph is read, not later', () => {
  // AttrValue field 3 (`i`, a varint) sent as fixed32: the decoder's wire-type check must fire at read time.
  const attrValue = [(3 << 3) | 5, 1, 2, 3, 4];
  const entry = [...field(1, ascii('k')), ...field(2, attrValue)];
  const node = [...field(1, ascii('n')), ...field(2, ascii('NoOp')), ...field(5, entry)];
  const bytes = Uint8Array.from([...field(2, [...field(2, field(1, node))])]); // SavedModel.meta_graphs[0].graph_def.node[0]
  assert.throws(
    () => decodeMessage(bytes, 'saved_model.pb', decodeSavedModel),
    (e: unknown) => e instanceof ModelReadError && /saved_model\.pb/.test(e.message) && /field 3 of AttrValue has wire type fixed32/.test(e.message),
  );
});

test('a well-formed lazy node decodes on demand with the same values', () => {
  const attrValue = [(5 << 3) | 0, 1]; // b: true
  const entry = [...field(1, ascii('flag')), ...field(2, attrValue)];
  const node = [...field(1, ascii('bn')), ...field(2, ascii('Op')), ...field(3, ascii('x:1')), ...field(3, ascii('^c')), ...field(5, entry)];
  const sm = decodeMessage(Uint8Array.from(field(2, field(2, field(1, node)))), 'saved_model.pb', decodeSavedModel);
  const nodes = sm.metaGraphs[0].graphDef?.node ?? [];
  assert.equal(nodes.length, 1);
  const [n] = lazyGraphNodes(nodes, new Map());
  assert.deepEqual({ name: n.name, op: n.op, inputs: n.inputs }, { name: 'bn', op: 'Op', inputs: ['x:1', '^c'] });
  assert.deepEqual(n.attrs, { flag: { kind: 'b', value: true } });
});
