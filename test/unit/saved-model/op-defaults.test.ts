// TF2 strips attrs equal to their OpDef default: a training-mode FusedBatchNormV3 carries no `is_training`.
// GraphNodes must carry the default (true) — from the meta graph's stripped_op_list, or the built-in table.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeSavedModel } from '../../../src/core/formats/proto/gen';
import { decodeMessage } from '../../../src/core/formats/proto/wire';
import { BUILTIN_OP_DEFAULTS, opDefaultsFrom, toGraphNode } from '../../../src/core/formats/meta-graph/graph-nodes';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { openSavedModel } from '../../../src/core/formats/saved-model/open';
import { generated, sharedReal } from '../../helpers/paths';

const MODELS = [generated('k2_cnn_bn/saved_model'), sharedReal('openmv_mobilenet_bn'), sharedReal('kws_dscnn_bn_tf24')].filter((d) =>
  existsSync(path.join(d, 'saved_model.pb')),
);

test('stripped FusedBatchNormV3 attrs get their OpDef defaults (is_training=true, epsilon, exponential_avg_factor)', (t) => {
  if (MODELS.length === 0) return t.skip('no TF2 Keras SavedModel fixture');
  let stripped = 0;
  let explicitFalse = 0;
  for (const dir of MODELS) {
    const sm = decodeMessage(new Uint8Array(readFileSync(path.join(dir, 'saved_model.pb'))), 'saved_model.pb', decodeSavedModel);
    const mg = sm.metaGraphs[0];
    const fromOpList = opDefaultsFrom(mg.metaInfoDef?.strippedOpList);
    for (const f of mg.graphDef?.library?.get().function ?? []) {
      for (const lazy of f.get().nodeDef) {
        const nd = lazy.get();
        if (nd.op !== 'FusedBatchNormV3') continue;
        const a = toGraphNode(nd, fromOpList).attrs;
        const b = toGraphNode(nd, BUILTIN_OP_DEFAULTS).attrs;
        if (!nd.attr.has('is_training')) {
          stripped++;
          assert.deepEqual(a['is_training'], { kind: 'b', value: true });
          assert.deepEqual(b['is_training'], { kind: 'b', value: true });
        } else if (nd.attr.get('is_training')?.b === false) {
          explicitFalse++;
          assert.deepEqual(a['is_training'], { kind: 'b', value: false });
        }
        if (!nd.attr.has('exponential_avg_factor')) assert.deepEqual(a['exponential_avg_factor'], { kind: 'f', value: 1 });
        assert.equal(a['epsilon']?.kind, 'f');
      }
    }
  }
  // the training-mode traces really are stripped in these files, and the inference ones say false
  assert.ok(stripped > 0, 'found FusedBatchNormV3 nodes without is_training');
  assert.ok(explicitFalse > 0, 'found FusedBatchNormV3 nodes with is_training=false');
});

test('signatures: names, dtypes and shapes from the SignatureDef', async (t) => {
  const dir = sharedReal('serving_half_plus_two_cpu');
  if (!existsSync(dir)) return t.skip('shared real fixtures absent');
  const m = (await openSavedModel(new NodeFileSource(dir), dir)).model;
  const sig = m.metaGraphs[0].signatures.find((s) => s.key === 'serving_default');
  assert.ok(sig);
  assert.ok(sig!.inputs.length >= 1 && sig!.outputs.length >= 1);
  assert.ok(sig!.outputs.every((o) => o.dtype === 'float32'));
  assert.equal(m.metaGraphs[0].functionCount, 0);
  assert.ok(m.metaGraphs[0].nodeCount > 0);
});
