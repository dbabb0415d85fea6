// Checkpoint keys derived from the SavedObjectGraph (never reading variables.data) must equal the keys
// TensorFlow recorded in the checkpoint's TrackableObjectGraph. The test reads that graph from the data
// shard to check; the reader itself does not.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { readSavedModelParts } from '../../../src/core/formats/saved-model/open';
import { escapeLocalName, mapObjectGraph, pathString, VARIABLE_VALUE } from '../../../src/core/formats/saved-model/object-graph';
import type { SavedModelParts } from '../../../src/core/formats/saved-model/parts';
import { decodeTrackableObjectGraph } from '../../../src/core/formats/proto/gen';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { generated, sharedReal } from '../../helpers/paths';

const TF2_MODELS = [
  sharedReal('openmv_mobilenet_bn'),
  sharedReal('kws_dscnn_bn_tf24'),
  sharedReal('java_saved_model_using_python'),
  sharedReal('rust_regression_tf25_module'),
  sharedReal('serving_half_plus_two_tf2_cpu'),
  sharedReal('tfjs_times_three_float'),
  sharedReal('tfjs_module_with_multiple_signatures'),
  sharedReal('tfjs_model_multi_output'),
  sharedReal('tfjs_int64_multiply'),
  generated('k2_cnn_bn/saved_model'),
  generated('k2_cnn_bn_frozen/saved_model'),
  generated('k2_nested_frozen_base/saved_model'),
  generated('k2_subclassed/saved_model'),
  generated('tf_module/saved_model'),
  generated('k3_cnn_bn/export'),
  generated('k3_cnn_bn_frozen/export'),
  generated('k3_nested_frozen_base/export'),
].filter((d) => existsSync(path.join(d, 'saved_model.pb')));

async function parts(dir: string): Promise<SavedModelParts> {
  const p = await readSavedModelParts(new NodeFileSource(dir), dir);
  if ('tf1' in p) throw new Error(`${dir} has no object graph`);
  return p;
}

test('escapeLocalName follows TensorFlow (. -> .., / -> .S)', () => {
  assert.equal(escapeLocalName('a.b/c'), 'a..b.Sc');
  assert.equal(escapeLocalName('layer_with_weights-0'), 'layer_with_weights-0');
});

test('object paths are the escaped edge names joined with /, also for long chains', async (t) => {
  if (TF2_MODELS.length === 0) return t.skip('no TF2 SavedModel on this machine');
  for (const dir of TF2_MODELS) {
    const p = await parts(dir);
    for (const v of p.objectMap.variables) {
      const path = p.objectMap.paths[v.nodeId];
      assert.equal(v.objectPath, path ? pathString(path) : null, `${dir}: node ${v.nodeId}`);
    }
  }
  // A chain deeper than any call stack would allow for a recursive walk; names that need escaping.
  const depth = 3000;
  const nodes = Array.from({ length: depth + 1 }, (_, i) => ({
    children: i < depth ? [{ nodeId: i + 1, localName: i % 2 ? 'a.b' : 'c/d' }] : [],
    slotVariables: [],
    kindCase: i === depth ? ('variable' as const) : undefined,
    variable: i === depth ? { name: 'v' } : undefined,
  }));
  const map = mapObjectGraph({ nodes, concreteFunctions: new Map() } as unknown as Parameters<typeof mapObjectGraph>[0]);
  const leaf = map.byNode.get(depth);
  assert.equal(leaf?.objectPath, Array.from({ length: depth }, (_, i) => (i % 2 ? 'a..b' : 'c.Sd')).join('/'));
});

for (const dir of TF2_MODELS) {
  test(`object graph -> checkpoint keys equal the recorded TrackableObjectGraph: ${path.relative(path.resolve(dir, '../..'), dir)}`, async () => {
    const p = await parts(dir);
    const ck = p.checkpoint!;
    assert.ok(ck, 'checkpoint opened');
    const index = new Set(ck.keys());
    // computed from the object graph alone
    for (const v of p.objectMap.variables) {
      assert.ok(v.checkpointKey !== '', `node ${v.nodeId} has a key`);
      assert.equal(v.inCheckpoint, true, v.checkpointKey);
    }
    // every value in the index belongs to exactly one variable (the object-graph entry aside)
    const mapped = new Set(p.objectMap.variables.map((v) => v.checkpointKey));
    assert.equal(mapped.size, p.objectMap.variables.length);
    assert.deepEqual([...index].filter((k) => !mapped.has(k)), ['_CHECKPOINTABLE_OBJECT_GRAPH']);
    // ... and equal to what TensorFlow recorded
    const bytes = await ck.readObjectGraphBytes();
    assert.ok(bytes);
    const tog = decodeMessage(bytes!, 'variables/variables.data', decodeTrackableObjectGraph);
    assert.equal(tog.nodes.length >= p.objectMap.variables.length, true);
    for (const v of p.objectMap.variables) {
      const rec = tog.nodes[v.nodeId].attributes.find((a) => a.name === VARIABLE_VALUE);
      assert.ok(rec, `node ${v.nodeId} has a VARIABLE_VALUE attribute in the checkpoint`);
      assert.equal(v.checkpointKey, rec!.checkpointKey);
      if (v.fullName !== null && rec!.fullName !== '') assert.equal(v.fullName, rec!.fullName);
    }
    // passing the recorded graph gives the same map
    const again = mapObjectGraph(p.objectGraph, { trackable: tog, checkpointKeys: index });
    assert.deepEqual(again.variables.map((v) => v.checkpointKey), p.objectMap.variables.map((v) => v.checkpointKey));
  });
}

test('real openmv_mobilenet_bn: 150 variables (+166 optimizer slots), paths and roles', async (t) => {
  const dir = sharedReal('openmv_mobilenet_bn');
  if (!existsSync(dir)) return t.skip('shared real fixtures absent');
  const p = await parts(dir);
  const vs = p.objectMap.variables;
  assert.equal(vs.filter((v) => v.slot === null).length, 150);
  assert.equal(vs.filter((v) => v.slot !== null).length, 166);
  assert.deepEqual(vs.filter((v) => v.optimizerState).map((v) => v.objectPath).sort(), [
    'optimizer/beta_1', 'optimizer/beta_2', 'optimizer/decay', 'optimizer/iter', 'optimizer/learning_rate',
  ]);
  const gamma = vs.find((v) => v.fullName === 'conv1_bn/gamma')!;
  assert.equal(gamma.checkpointKey, 'variables/1/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(gamma.objectPath, 'variables/1');
  assert.ok(gamma.objectPaths.includes('layer_with_weights-0/layer_with_weights-1/gamma'));
  const slot = vs.find((v) => v.slot?.originalNodeId === gamma.nodeId && v.slot.slotName === 'm')!;
  assert.equal(slot.checkpointKey, 'variables/1/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(slot.optimizerSlot, true);
});

test('real kws_dscnn_bn_tf24 (TF 2.3): 65 variables (+76 optimizer slots)', async (t) => {
  const dir = sharedReal('kws_dscnn_bn_tf24');
  if (!existsSync(dir)) return t.skip('shared real fixtures absent');
  const vs = (await parts(dir)).objectMap.variables;
  assert.equal(vs.filter((v) => v.slot === null).length, 65);
  assert.equal(vs.filter((v) => v.slot !== null).length, 76);
  assert.equal(vs.find((v) => v.fullName === 'batch_normalization/gamma')?.checkpointKey, 'layer_with_weights-1/gamma/.ATTRIBUTES/VARIABLE_VALUE');
});

test('generated Keras 2 SavedModels: names and keys of the object map equal expected.json', async (t) => {
  let n = 0;
  for (const fx of ['k2_cnn_bn', 'k2_cnn_bn_frozen', 'k2_nested_frozen_base', 'k2_subclassed']) {
    const dir = generated(fx, 'saved_model');
    if (!existsSync(path.join(dir, 'saved_model.pb'))) continue;
    n++;
    const exp = JSON.parse(readFileSync(generated(fx, 'expected.json'), 'utf8')) as { variables: { name: string; key: string; shape: number[]; createdTrainable: boolean }[] };
    const byName = new Map((await parts(dir)).objectMap.variables.map((v) => [v.fullName, v]));
    for (const e of exp.variables) {
      const v = byName.get(e.name);
      assert.ok(v, `${fx}: ${e.name}`);
      assert.equal(v!.checkpointKey, e.key, `${fx}: ${e.name}`);
      assert.equal(v!.variable.trainable, e.createdTrainable, `${fx}: ${e.name}`);
      assert.equal(v!.optimizerSlot, false);
    }
  }
  if (n === 0) t.skip('generated Keras 2 fixtures absent');
});
