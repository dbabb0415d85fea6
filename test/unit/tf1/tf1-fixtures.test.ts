// TF1 graphs written by real TensorFlow (test/fixtures/generated/tf1_*): SavedModel and .meta+checkpoint
// artifacts compared with the expected.json TensorFlow itself wrote.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NodeFileSource } from '../../../src/core/io/file-source';
import { openSavedModel } from '../../../src/core/formats/saved-model/open';
import { openMetaGraph } from '../../../src/core/formats/meta-graph/open';
import type { Model } from '../../../src/core/model/ir';
import { generatedFixtures, repoRoot } from '../../helpers/paths';

interface ExpectedVar { name: string; key: string; shape: number[]; dtype: string; trainable: boolean; layer: string | null }
interface ExpectedBn {
  layer: string; momentum: number; epsilon: number; fused: boolean; gamma: string | null; beta: string | null;
  moving_mean: string; moving_variance: string; updateOpsInCollection: string[]; trainingTensor: string;
}
interface Artifact { format: string; path: string; checkpointKeys: { key: string; role: string }[] }
interface Expected { fixture: string; artifacts: Artifact[]; variables: ExpectedVar[]; batchNorms: ExpectedBn[]; graph: { updateOpsCollection: string[]; trainOp: string } }

const fixtures = existsSync(generatedFixtures)
  ? readdirSync(generatedFixtures).filter((d) => d.startsWith('tf1_') && existsSync(path.join(generatedFixtures, d, 'expected.json')))
  : [];

async function open(a: Artifact): Promise<Model> {
  const p = path.join(repoRoot, a.path);
  if (a.format === 'tf1-meta-checkpoint') return (await openMetaGraph(new NodeFileSource(path.dirname(p)), path.basename(p), p)).model;
  return (await openSavedModel(new NodeFileSource(p), p)).model;
}

const scope = (n: string): string => n.slice(0, Math.max(0, n.lastIndexOf('/')));

test('generated TF1 fixtures are present', (t) => {
  if (fixtures.length === 0) return t.skip('test/fixtures/generated has no tf1_* fixture');
  assert.ok(fixtures.length >= 1);
});

for (const fx of fixtures) {
  const exp = JSON.parse(readFileSync(path.join(generatedFixtures, fx, 'expected.json'), 'utf8')) as Expected;
  for (const art of exp.artifacts) {
    test(`${fx} (${art.format}): variables, optimizer slots and BatchNorm match TensorFlow`, async () => {
      const m = await open(art);
      assert.equal(m.format, art.format === 'tf1-meta-checkpoint' ? 'tf1-meta-checkpoint' : 'saved-model-tf1');
      assert.deepEqual(m.warnings.filter((w) => w.code === 'unmapped-variable' || w.code === 'missing-checkpoint' || w.code === 'missing-data-shard'), []);

      const modelVars = m.variables.filter((v) => !v.optimizerSlot);
      assert.deepEqual(modelVars.map((v) => v.name).sort(), exp.variables.map((v) => v.name).sort());
      for (const e of exp.variables) {
        const v = modelVars.find((x) => x.name === e.name)!;
        assert.equal(v.key, e.key, e.name);
        assert.deepEqual(v.shape, e.shape, e.name);
        assert.equal(v.dtype, e.dtype, e.name);
        assert.equal(v.trainable, e.trainable, e.name);
        assert.equal(v.layer, e.layer, e.name);
      }
      const slots = m.variables.filter((v) => v.optimizerSlot).map((v) => v.key).sort();
      assert.deepEqual(slots, art.checkpointKeys.filter((k) => k.role === 'optimizerSlot').map((k) => k.key).sort());
      // every checkpoint key is a variable of the model
      const keys = new Set(m.variables.map((v) => v.key));
      for (const k of art.checkpointKeys) assert.ok(keys.has(k.key), `checkpoint key ${k.key} has no variable`);

      assert.deepEqual(m.batchNorms.map((b) => b.layer), exp.batchNorms.map((b) => b.layer));
      for (const e of exp.batchNorms) {
        const b = m.batchNorms.find((x) => x.layer === e.layer)!;
        assert.equal(b.gamma, e.gamma, e.layer);
        assert.equal(b.beta, e.beta, e.layer);
        assert.equal(b.movingMean, e.moving_mean, e.layer);
        assert.equal(b.movingVariance, e.moving_variance, e.layer);
        assert.equal(b.momentum, e.momentum, e.layer);
        assert.equal(b.epsilon, e.epsilon, e.layer);
        assert.equal(b.scale, e.gamma !== null, e.layer);
        const gb = [e.gamma, e.beta].filter((x): x is string => x !== null);
        assert.equal(b.trainable, gb.some((n) => exp.variables.find((v) => v.name === n)?.trainable), e.layer);
        const g = b.graph!;
        assert.equal(g.isTraining, 'dynamic', e.layer);
        assert.equal(g.trainingInput, e.trainingTensor.replace(/:0$/, ''), e.layer);
        // tf1_resource: tf.layers reports fused=False, but its If branches run FusedBatchNormV3 (see batch-norm.ts)
        if (fx !== 'tf1_resource') assert.equal(g.form, e.fused ? 'fused' : 'moments', e.layer);
        assert.equal(g.movingMeanUpdates.length, 1, e.layer);
        assert.equal(g.movingVarianceUpdates.length, 1, e.layer);
        // The update_ops entry is the writer itself, or the Merge/Identity output of the cond holding it.
        const ours = [...g.movingMeanUpdates, ...g.movingVarianceUpdates];
        for (const u of e.updateOpsInCollection.map((x) => x.replace(/:\d+$/, ''))) {
          assert.ok(ours.some((o) => o === u || scope(u) === o || scope(u) === scope(o)), `${e.layer}: update op ${u} not among ${ours.join(', ')}`);
        }
      }
      assert.ok(m.tf1Graph);
      assert.deepEqual([...(m.tf1Graph!.collections['update_ops'] ?? [])].map((x) => x.replace(/:\d+$/, '')).sort(), exp.graph.updateOpsCollection.map((x) => x.replace(/:\d+$/, '')).sort());
      assert.ok(m.tf1Graph!.nodes.some((n) => n.name === exp.graph.trainOp.replace(/:\d+$/, '')));
    });
  }
}
