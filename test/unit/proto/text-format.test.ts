import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { parseTextFormat } from '../../../src/core/formats/proto/text-format';
import type { SavedModel, NodeDef, MetaGraphDef, TensorProto, CollectionDef } from '../../../src/core/formats/proto/gen';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { decodeVariableDef } from '../../../src/core/formats/proto/gen';
import { ModelReadError } from '../../../src/core/io/errors';
import { sharedReal } from '../../helpers/paths';

test('strings: octal, hex, \\u escapes, raw UTF-8 and adjacent literals', () => {
  const n = parseTextFormat<NodeDef>(
    `name: "a\\101\\x42\\n" 'c\\'d' # a comment
     op: "caf\\303\\251 é \\u00e9"
     input: ["x", "y:1"]
     input: "^z"`,
    'tensorflow.NodeDef',
    'n.pbtxt',
  );
  assert.equal(n.name, "aAB\nc'd");
  assert.equal(n.op, 'café é é');
  assert.deepEqual(n.input, ['x', 'y:1', '^z']);
});

test('attrs: maps, enums by name, oneof case, floats, bools, shapes, tensors', () => {
  const n = parseTextFormat<NodeDef>(
    `name: "bn" op: "FusedBatchNormV3"
     attr { key: "T" value { type: DT_FLOAT } }
     attr { key: "epsilon" value { f: 1e-05 } }
     attr { key: "is_training" value { b: false } }
     attr { key: "shape" value { shape { dim { size: -1 } dim { size: 3 } } } }
     attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { } float_val: 0.5 } } }
     attr { key: "neg" value { f: -inf } }
     attr { key: "ints" value { list { i: [1, 0x10, 010] } } }`,
    'tensorflow.NodeDef',
    'n.pbtxt',
  );
  assert.equal(n.attr.get('T')?.type, 1);
  assert.equal(n.attr.get('T')?.valueCase, 'type');
  assert.equal(Math.fround(n.attr.get('epsilon')?.f ?? 0), Math.fround(1e-5));
  assert.equal(n.attr.get('is_training')?.valueCase, 'b');
  assert.equal(n.attr.get('is_training')?.b, false);
  assert.deepEqual(n.attr.get('shape')?.shape?.dim.map((d) => d.size), [-1, 3]);
  const tensor = n.attr.get('value')?.tensor as TensorProto;
  assert.deepEqual(tensor.floatVal, [0.5]);
  assert.equal(n.attr.get('neg')?.f, -Infinity);
  assert.deepEqual(n.attr.get('ints')?.list?.i, [1, 16, 8]);
});

test('unknown fields, Any expansions and angle brackets are skipped', () => {
  const mg = parseTextFormat<MetaGraphDef>(
    `meta_info_def {
       any_info { [type.googleapis.com/tensorflow.Foo] { bar: 1 baz { q: "x" } } }
       tags: "serve" unknown_field: 3 unknown_msg < a: [1, 2] b { } >
       tensorflow_version: "1.4.1"
     }
     saver_def { filename_tensor_name: "save/Const:0" version: V2 }`,
    'tensorflow.MetaGraphDef',
    'm.pbtxt',
  );
  assert.deepEqual(mg.metaInfoDef?.tags, ['serve']);
  assert.equal(mg.metaInfoDef?.tensorflowVersion, '1.4.1');
  assert.equal(mg.metaInfoDef?.anyInfo?.typeUrl, 'type.googleapis.com/tensorflow.Foo');
});

test('errors carry file and line:column', () => {
  assert.throws(
    () => parseTextFormat('name: "x"\n  op: 12', 'tensorflow.NodeDef', 'bad.pbtxt'),
    (e: unknown) => e instanceof ModelReadError && e.message === "bad.pbtxt: line 2:7: field 'op' expects a string but found '12'",
  );
  assert.throws(
    () => parseTextFormat('attr { key: "a" value { type: DT_NOPE } }', 'tensorflow.NodeDef', 'bad.pbtxt'),
    /bad\.pbtxt: line 1:31: unknown tensorflow\.DataType value 'DT_NOPE'/,
  );
  assert.throws(() => parseTextFormat('meta_graphs {', 'tensorflow.SavedModel', 'sm.pbtxt'), /sm\.pbtxt: line 1:14: expected '}' before end of file/);
  assert.throws(() => parseTextFormat('name: "abc', 'tensorflow.NodeDef', 'x'), /unterminated string/);
  assert.throws(() => parseTextFormat('x'.repeat(0) + 'a { '.repeat(200), 'tensorflow.NodeDef', 'x'), /nested more than 100/);
});

test('real saved_model.pbtxt (TF 1.4.1 training graph) parses', (t) => {
  const p = sharedReal('vespa_tf1_batchnorm_train/saved_model.pbtxt');
  if (!existsSync(p)) return t.skip('shared fixtures absent');
  const sm = parseTextFormat<SavedModel>(readFileSync(p), 'tensorflow.SavedModel', 'saved_model.pbtxt');
  assert.equal(sm.metaGraphs.length, 1);
  const mg = sm.metaGraphs[0];
  assert.deepEqual(mg.metaInfoDef?.tags, ['serve']);
  assert.equal(mg.metaInfoDef?.tensorflowVersion, '1.4.1');
  assert.equal(mg.graphDef?.node.length, 945);
  const updates = mg.collectionDef.get('update_ops') as CollectionDef;
  assert.equal(updates.kindCase, 'nodeList');
  assert.equal(updates.nodeList?.value[0], 'dnn/batch_normalization/AssignMovingAvg:0');
  // bytes_list entries are serialized VariableDef protos (escaped bytes in the text)
  const tv = mg.collectionDef.get('trainable_variables')?.bytesList?.value ?? [];
  assert.equal(tv.length, 12);
  const vd = decodeMessage(tv[0], 'saved_model.pbtxt', decodeVariableDef);
  assert.match(vd.variableName, /:0$/);
  assert.equal(mg.signatureDef.get('serving_default')?.inputs.size, 1);
});
