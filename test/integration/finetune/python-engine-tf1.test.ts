// The Python engine on TF1 graphs (python/engine/tf1_engine.py) with a real TensorFlow 2.15 (tf215 venv):
// for TF1 oracle cases, the changed/unchanged set of every variable must equal the oracle's observation.
// The engine gets only the request (model path + config fields + what the TypeScript reader found): the
// fixture is copied to a temporary folder first, so no expected.json is anywhere near it. All cases run in
// ONE runner process (TensorFlow imported once). FREEZE_INSPECTOR_TF1_ALL=1 runs every tf1_* case instead
// of the representative subset. Skips cleanly without the venv, fails under FREEZE_INSPECTOR_REQUIRE_TF=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../helpers/paths';
import { openModel } from '../../../src/core/open';
import { analyze } from '../../../src/core/analysis/analyze';
import { parseFreezeConfig, resolveModelPath } from '../../../src/core/analysis/freeze-config';
import { buildVerifyRequest, type PlannedVerifyRequest } from '../../../src/core/finetune/plan';
import { runPythonBatch } from '../../../src/core/finetune/python-engine';
import type { BatchNormObservation, VerifyResult } from '../../../src/core/finetune/types';
import { isFreezeInspectorError } from '../../../src/core/io/errors';
import { runVerify } from '../../../src/cli/commands/verify';

const py215 = process.env.FREEZE_INSPECTOR_TF215_PYTHON ?? path.join(os.homedir(), '.cache/freeze-inspector/venvs/tf215/bin/python');
const haveVenv = existsSync(py215);
const casesDir = path.join(repoRoot, 'test/oracle/cases');
const obsDir = path.join(repoRoot, 'test/oracle/observations');
// The oracle's run: 2 steps of GradientDescent(0.1) on a batch of 8 (python/oracle/oracle.py STEPS/LR/BATCH).
const settings = { steps: 2, batchSize: 8, optimizer: 'sgd' as const, learningRate: 0.1, seed: 4321, data: { kind: 'synthetic' as const } };

// Seed case, scoped / none update ops, training false (rebuilt and saved train op), .meta + checkpoint
// (fused and non-fused), slim (prefix, saved train op, collection[0]), resource variables, bool placeholder,
// allow-list, glob on BN affine variables.
const SUBSET = [
  'tf1_seed_all_updates',
  'tf1_seed_scoped_updates_D',
  'tf1_seed_no_updates',
  'tf1_seed_training_false',
  'tf1_seed_saved_train_op_training_false',
  'tf1_seed_ckpt_meta',
  'tf1_seed_allowlist_bn_exclude_A',
  'tf1_seed_glob_bn_affine',
  'tf1_nonfused_ckpt_no_updates',
  'tf1_nonfused_training_false',
  'tf1_slim_prefix',
  'tf1_slim_saved_train_op',
  'tf1_slim_train_op_collection_first',
  'tf1_resource_scoped_D',
  'tf1_bool_placeholder_false',
  // trainingOverrides rewired into the graph (fi_common.tf1_apply_training_overrides): fused v1 cond, .meta,
  // non-fused, slim with its saved train op, control flow v2, mixed true/false, a key covering no BatchNorm.
  'tf1_seed_override_frozen_false',
  'tf1_seed_override_D_true_training_false',
  'tf1_seed_override_unused_key',
  'tf1_nonfused_ckpt_override_mixed',
  'tf1_slim_saved_train_op_override_frozen_false',
  'tf1_resource_override_mixed_training_false',
];
const ALL = readdirSync(casesDir).filter((f) => /^tf1_.*\.freeze\.json$/.test(f)).map((f) => f.replace(/\.freeze\.json$/, '')).sort();
const selected = (process.env.FREEZE_INSPECTOR_TF1_ALL === '1' ? ALL : SUBSET).filter((n) => existsSync(path.join(obsDir, `${n}.json`)));

interface OracleObservation {
  variables: { name: string; key: string | null; changed: boolean; maxAbsDelta: number; negligible: boolean }[];
  batchNorms: { layer: string; normalizesWith?: 'batch' | 'moving'; movingStatsChanged: boolean }[];
}

test('the tf215 venv is present where it is required', { skip: process.env.FREEZE_INSPECTOR_REQUIRE_TF !== '1' && 'not required outside CI' }, () => {
  assert.ok(haveVenv, `${py215} missing`);
});

/** The fixture copied to a temporary folder (no expected.json above it), and the request for the case. */
async function caseRequest(name: string, tmp: string): Promise<PlannedVerifyRequest> {
  const file = path.join(casesDir, `${name}.freeze.json`);
  const text = readFileSync(file, 'utf8');
  const config = parseFreezeConfig(text, file).config!;
  const original = resolveModelPath(file, config);
  // .../tf1_seed/saved_model or .../tf1_seed/ckpt/model.ckpt.meta: copy saved_model/ or ckpt/ only
  const fixtureDir = original.endsWith('.meta') ? path.dirname(path.dirname(original)) : path.dirname(original);
  const rel = path.relative(fixtureDir, original);
  const copyRoot = path.join(tmp, name);
  const part = rel.split(path.sep)[0]!;
  cpSync(path.join(fixtureDir, part), path.join(copyRoot, part), { recursive: true });
  const modelPath = path.join(copyRoot, rel);
  const h = await openModel(modelPath);
  try {
    return buildVerifyRequest({ requestId: name, model: h.model, config, configPath: null, analysis: analyze(h.model, config, text), settings });
  } finally {
    await h.close();
  }
}

let batch: Promise<{ requests: Map<string, PlannedVerifyRequest>; results: Map<string, VerifyResult | Error>; ms: number }> | null = null;
function runAll(): NonNullable<typeof batch> {
  batch ??= (async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'fi-tf1-'));
    try {
      const requests = new Map<string, PlannedVerifyRequest>();
      for (const n of selected) requests.set(n, await caseRequest(n, tmp));
      for (const r of requests.values()) {
        let d = path.dirname(r.modelPath);
        for (let i = 0; i < 4; i++, d = path.dirname(d)) assert.ok(!existsSync(path.join(d, 'expected.json')), `expected.json near ${r.modelPath}`);
      }
      const t0 = performance.now();
      const results = await runPythonBatch({ interpreter: py215 }, [...requests.values()], 900_000);
      return { requests, results, ms: performance.now() - t0 };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  })();
  return batch;
}

for (const name of selected) {
  test(`python engine, TF1 ${name}: every variable changes exactly as in the oracle's observation (no expected.json)`, { skip: !haveVenv && `${py215} absent`, timeout: 900_000 }, async (t) => {
    const { requests, results, ms } = await runAll();
    const r = results.get(name);
    if (r instanceof Error) assert.fail(`${name}: ${r.message}`);
    assert.ok(r, `${name}: no result`);
    const req = requests.get(name)!;
    const oracle = JSON.parse(readFileSync(path.join(obsDir, `${name}.json`), 'utf8')) as OracleObservation;
    assert.equal(r.runtime, 'tf1-graph');
    assert.match(r.engineDetail, /TensorFlow 2\.15.*TF1 graph/);
    assert.equal(r.variables.length, req.modelVariables.length, 'every model variable observed');
    assert.equal(r.loss.length, settings.steps);
    assert.ok(r.loss.every(Number.isFinite));
    const mine = new Map(r.variables.map((v) => [v.name, v]));
    const differ: string[] = [];
    for (const o of oracle.variables) {
      const v = mine.get(o.name);
      assert.ok(v, `${o.name} not observed`);
      if (v.observed !== o.changed) differ.push(`${o.name}: engine ${v.observed ? 'changed' : 'unchanged'} (${v.maxAbsDelta}), oracle ${o.changed ? 'changed' : 'unchanged'} (${o.maxAbsDelta})`);
    }
    assert.deepEqual(differ, [], 'changed/unchanged per variable, engine vs oracle');
    for (const ob of oracle.batchNorms) {
      const b: BatchNormObservation | undefined = r.batchNorms.find((x) => x.layer === ob.layer);
      assert.ok(b, `${ob.layer} not observed`);
      assert.equal(b.updatedMovingStats, ob.movingStatsChanged, `${ob.layer} moving stats`);
      if (ob.normalizesWith) assert.equal(b.normalizedWith, ob.normalizesWith, `${ob.layer} normalization`);
    }
    // Discovered from the graph, not given: the training placeholder, the loss and the model output.
    const found = (r as VerifyResult & { tf1?: { trainingInputs: string[]; loss: string | null; output: string | null } }).tf1;
    assert.deepEqual(found?.trainingInputs, ['is_training']);
    assert.equal(found?.loss, 'loss:0');
    assert.ok(found?.output, 'model output identified');
    assert.equal(typeof (r as { modelTrainInferenceGapBefore?: number }).modelTrainInferenceGapBefore, 'number');
    t.diagnostic(`${oracle.variables.length}/${oracle.variables.length} variables agree; batch of ${selected.length} case(s) in one process: ${(ms / 1000).toFixed(1)} s`);
  });
}

type Tf1Details = VerifyResult & {
  tf1: {
    trainingOverridesApplied: boolean;
    trainingOverrides: { rewired: { layer: string; key: string; training: boolean; ops: string[] }[]; notRewired: { layer: string; key: string; reason: string }[]; unusedKeys: { key: string; reason: string }[] };
  };
};

test('python engine, TF1: trainingOverrides are rewired into the graph and reported, never silently ignored', { skip: (!haveVenv && `${py215} absent`) || (!selected.includes('tf1_seed_override_unused_key') && 'no observation'), timeout: 900_000 }, async () => {
  const { results } = await runAll();
  const frozen = results.get('tf1_seed_override_frozen_false') as Tf1Details;
  assert.ok(frozen && !(frozen instanceof Error));
  assert.equal(frozen.tf1.trainingOverridesApplied, true);
  assert.deepEqual(frozen.tf1.trainingOverrides.rewired.map((r) => [r.layer, r.key, r.training]), ['A', 'B', 'C'].map((s) => [`${s}/batch_normalization`, s, false]));
  assert.ok(frozen.tf1.trainingOverrides.rewired.every((r) => r.ops.some((o) => /\/cond(_\d+)?\/pred_id$/.test(o))), 'the cond predicates read the constant');
  assert.ok(!frozen.warnings.some((w) => /trainingOverrides/.test(w)), frozen.warnings.join('; '));
  assert.equal(frozen.agreement, 1);
  // control flow v2: the forward If ops and their gradient If ops read the constant
  const v2 = results.get('tf1_resource_override_mixed_training_false') as Tf1Details;
  assert.ok(v2 && !(v2 instanceof Error));
  const d = v2.tf1.trainingOverrides.rewired.find((r) => r.layer === 'D/batch_normalization')!;
  assert.ok(d.ops.includes('D/batch_normalization/cond') && d.ops.some((o) => o.startsWith('gradients/D/batch_normalization/')), d.ops.join(', '));
  assert.deepEqual(v2.batchNorms.map((b) => [b.layer, b.normalizedWith, b.updatedMovingStats]), [
    ['A/batch_normalization', 'moving', false],
    ['B/batch_normalization', 'batch', false],
    ['C/batch_normalization', 'moving', false],
    ['D/batch_normalization', 'batch', true],
  ]);
  const unused = results.get('tf1_seed_override_unused_key') as Tf1Details;
  assert.ok(unused && !(unused instanceof Error));
  assert.deepEqual(unused.tf1.trainingOverrides.unusedKeys.map((u) => u.key), ['E']);
  assert.ok(unused.warnings.some((w) => /trainingOverrides\['E'\] is not applied: it covers no BatchNorm layer/.test(w)), unused.warnings.join('; '));
});

test('python engine, TF1: an override cannot change a BatchNorm built with a constant training flag; the analysis says so and agrees', { skip: !haveVenv && `${py215} absent`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-tf1-const-'));
  try {
    // A real TF1 SavedModel: scope A's BatchNorm is built with training=False (a Python constant: no cond, no
    // placeholder), scope D's with the is_training placeholder.
    execFileSync(py215, ['-c', [
      'import tensorflow as tf',
      'v1 = tf.compat.v1',
      'v1.disable_v2_behavior()',
      'x = v1.placeholder(tf.float32, [None, 6], name="x")',
      'y = v1.placeholder(tf.float32, [None, 4], name="y")',
      't = v1.placeholder_with_default(True, [], name="is_training")',
      'with v1.variable_scope("A"):',
      '    h = v1.layers.batch_normalization(v1.layers.dense(x, 5), training=False)',
      'with v1.variable_scope("D"):',
      '    out = v1.layers.batch_normalization(v1.layers.dense(h, 4), training=t)',
      'loss = tf.reduce_mean(tf.square(out - y), name="loss")',
      'with tf.control_dependencies(v1.get_collection(v1.GraphKeys.UPDATE_OPS)):',
      '    train = v1.train.GradientDescentOptimizer(0.1).minimize(loss)',
      'v1.add_to_collection("train_op", train)',
      'with v1.Session() as s:',
      '    s.run(v1.global_variables_initializer())',
      '    b = v1.saved_model.builder.SavedModelBuilder("sm")',
      '    b.add_meta_graph_and_variables(s, ["train"])',
      '    b.save()',
    ].join('\n')], { cwd: dir, stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    const h = await openModel(path.join(dir, 'sm'));
    const text = JSON.stringify({ model: './sm', runtime: 'tf1-graph', training: true, trainingOverrides: { A: true, D: false } });
    const config = parseFreezeConfig(text, path.join(dir, 'x.freeze.json')).config!;
    const analysis = analyze(h.model, config, text);
    const req = buildVerifyRequest({ requestId: 'const', model: h.model, config, configPath: null, analysis, settings });
    await h.close();
    // the analysis: A keeps its constant (the override cannot reach it), D follows its override
    assert.deepEqual(analysis.batchNorms.map((b) => [b.layer, b.normalizesWith, b.movingStatsUpdate]), [['A/batch_normalization', 'moving', false], ['D/batch_normalization', 'moving', false]]);
    const info = analysis.findings.find((f) => f.code === 'training-flag-fixed-in-graph');
    assert.deepEqual(info?.configPath, ['trainingOverrides', 'A']);
    const r = (await runPythonBatch({ interpreter: py215 }, [req])).get('const') as Tf1Details;
    if (r instanceof Error || !r) assert.fail(`const: ${(r as Error | undefined)?.message ?? 'no result'}`);
    assert.deepEqual(r.batchNorms.map((b) => [b.layer, b.normalizedWith, b.updatedMovingStats]), [['A/batch_normalization', 'moving', false], ['D/batch_normalization', 'moving', false]]);
    assert.deepEqual(r.tf1.trainingOverrides.rewired.map((x) => x.layer), ['D/batch_normalization']);
    assert.deepEqual(r.tf1.trainingOverrides.notRewired.map((x) => [x.layer, x.key]), [['A/batch_normalization', 'A']]);
    assert.ok(r.warnings.some((w) => /trainingOverrides\['A'\] is not applied to A\/batch_normalization: no op of the layer reads the training placeholder/.test(w)), r.warnings.join('; '));
    assert.equal(r.agreement, 1, JSON.stringify(r.variables.filter((v) => !v.agree)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('python engine, TF1: a graph with no loss to minimize is refused clearly, never guessed', { skip: !haveVenv && `${py215} absent`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-tf1-noloss-'));
  try {
    // A real TF1 SavedModel with a BatchNorm and a training placeholder, but no loss, gradients or train op.
    execFileSync(py215, ['-c', [
      'import tensorflow as tf',
      'v1 = tf.compat.v1',
      'v1.disable_v2_behavior()',
      'x = v1.placeholder(tf.float32, [None, 6], name="x")',
      't = v1.placeholder_with_default(True, [], name="is_training")',
      'h = v1.layers.dense(x, 4, name="dense")',
      'out = tf.identity(v1.layers.batch_normalization(h, training=t, name="bn"), name="out")',
      'with v1.Session() as s:',
      '    s.run(v1.global_variables_initializer())',
      '    b = v1.saved_model.builder.SavedModelBuilder("sm")',
      '    b.add_meta_graph_and_variables(s, ["train"])',
      '    b.save()',
    ].join('\n')], { cwd: dir, stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    const modelPath = path.join(dir, 'sm');
    const h = await openModel(modelPath);
    const text = JSON.stringify({ model: './sm', runtime: 'tf1-graph', freeze: ['bn'] });
    const config = parseFreezeConfig(text, path.join(dir, 'x.freeze.json')).config!;
    const req = buildVerifyRequest({ requestId: 'noloss', model: h.model, config, configPath: null, analysis: analyze(h.model, config, text), settings });
    await h.close();
    const results = await runPythonBatch({ interpreter: py215 }, [req]);
    const e = results.get('noloss');
    assert.ok(e instanceof Error && isFreezeInspectorError(e), `expected a refusal, got ${JSON.stringify(e)?.slice(0, 200)}`);
    assert.equal(e.reason, 'not-rebuildable');
    assert.match(e.message, /no loss tensor found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('python engine, TF1: the loss from the `losses` collection, the output from the loss, several losses refused', { skip: !haveVenv && `${py215} absent`, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-tf1-losses-'));
  try {
    // Two real TF1 SavedModels without a gradients subgraph or signatures: 'coll' has one tf.losses loss (in
    // the LOSSES collection); 'two' has two gradients subgraphs of two different losses.
    execFileSync(py215, ['-c', [
      'import tensorflow as tf',
      'v1 = tf.compat.v1',
      'v1.disable_v2_behavior()',
      'def build(kind):',
      '    g = tf.Graph()',
      '    with g.as_default():',
      '        x = v1.placeholder(tf.float32, [None, 6], name="x")',
      '        y = v1.placeholder(tf.float32, [None, 4], name="y")',
      '        t = v1.placeholder_with_default(True, [], name="is_training")',
      '        h = v1.layers.dense(x, 4, name="dense")',
      '        out = v1.layers.batch_normalization(h, training=t, name="bn")',
      '        loss = v1.losses.mean_squared_error(y, out)',
      '        if kind == "two":',
      '            tf.gradients(loss, v1.trainable_variables())',
      '            tf.gradients(tf.reduce_sum(out), v1.trainable_variables())',
      '        with v1.Session() as s:',
      '            s.run(v1.global_variables_initializer())',
      '            b = v1.saved_model.builder.SavedModelBuilder(kind)',
      '            b.add_meta_graph_and_variables(s, ["train"])',
      '            b.save()',
      'build("coll")',
      'build("two")',
    ].join('\n')], { cwd: dir, stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    const requests: PlannedVerifyRequest[] = [];
    for (const kind of ['coll', 'two']) {
      const h = await openModel(path.join(dir, kind));
      const text = JSON.stringify({ model: `./${kind}`, runtime: 'tf1-graph', freeze: ['dense'] });
      const config = parseFreezeConfig(text, path.join(dir, `${kind}.freeze.json`)).config!;
      requests.push(buildVerifyRequest({ requestId: kind, model: h.model, config, configPath: null, analysis: analyze(h.model, config, text), settings }));
      await h.close();
    }
    const results = await runPythonBatch({ interpreter: py215 }, requests);
    const r = results.get('coll');
    if (r instanceof Error || !r) assert.fail(`coll: ${r?.message ?? 'no result'}`);
    const found = (r as VerifyResult & { tf1: { loss: string; output: string | null; notes: string[] } }).tf1;
    assert.ok(found.notes.some((n) => /the 'losses' collection/.test(n)), found.notes.join('; '));
    assert.equal(found.output, 'bn/batchnorm/add_1:0'); // rank 2: tf.layers builds the non-fused form
    const changed = Object.fromEntries(r.variables.map((v) => [v.name, v.observed]));
    assert.deepEqual(changed, { 'dense/kernel': false, 'dense/bias': false, 'bn/gamma': true, 'bn/beta': true, 'bn/moving_mean': true, 'bn/moving_variance': true });
    assert.equal(r.agreement, 1);
    const two = results.get('two');
    assert.ok(two instanceof Error && isFreezeInspectorError(two), 'two losses must be refused');
    assert.equal(two.reason, 'not-rebuildable');
    assert.match(two.message, /several loss candidates .* will not guess/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function io(): { out: string[]; err: string[]; io: { stdout(s: string): void; stderr(s: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) } };
}

const seedConfig = path.join(repoRoot, 'samples/seed-tf1/seed.freeze.json');

test('verify CLI: the seed sample (TF1 SavedModel) runs on the Python engine by default and agrees everywhere', { skip: !haveVenv && `${py215} absent`, timeout: 300_000 }, async () => {
  const c = io();
  const code = await runVerify([seedConfig, '--python', py215, '--json'], c.io);
  assert.equal(code, 0, c.err.join(''));
  const r = JSON.parse(c.out.join('')) as VerifyResult;
  assert.equal(r.engine, 'python');
  assert.equal(r.agreement, 1);
  assert.equal(r.variables.length, 24);
  assert.equal(r.loss.length, 3);
  assert.deepEqual(r.batchNorms.map((b) => [b.layer, b.normalizedWith, b.updatedMovingStats]), ['A', 'B', 'C', 'D'].map((s) => [`${s}/batch_normalization`, 'batch', true]));
  // A-C are frozen (not in var_list) yet their moving statistics drift: the seed question's answer.
  const frozenGamma = r.variables.find((v) => v.name === 'A/batch_normalization/gamma')!;
  assert.equal(frozenGamma.observed, false);
  assert.ok(r.batchNorms[0]!.movingMeanDrift > 0);
});

test('verify CLI: a TF1 graph without a TensorFlow interpreter is refused with a clear message (exit 2)', async () => {
  const c = io();
  const code = await runVerify([seedConfig, '--python', '/nonexistent/python3'], c.io);
  assert.equal(code, 2);
  assert.match(c.err.join(''), /a TF1 graph cannot be rebuilt in TensorFlow\.js, so it is verified with your TensorFlow \(the Python engine\), but the Python interpreter "\/nonexistent\/python3" cannot be started/);
});
