// Which engine "Verify by Fine-tuning" runs on (src/extension/engine-choice.ts): workspace trust gates everything,
// a selected Python interpreter runs the user's TensorFlow (TF1 graphs included), else TensorFlow.js for Keras
// models, else a clear refusal. The real TF1 seed fixture and a real Keras SavedModel supply the model facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chooseEngine, mayLaunchInterpreter, tfjsCanRebuild, UNTRUSTED_MESSAGE, type EngineChoiceInput } from '../../../src/extension/engine-choice';
import { openModel } from '../../../src/core/open';

const repoRoot = path.resolve(__dirname, '../../..');
const tf1Seed = path.join(repoRoot, 'test/fixtures/generated/tf1_seed/saved_model');
const kerasSaved = path.join(repoRoot, 'samples/keras-transfer/model/saved_model');
const venvPython = '/opt/venv/bin/python';

function input(over: Partial<EngineChoiceInput>): EngineChoiceInput {
  return { trusted: true, interpreter: null, runtime: 'tf2-keras', hasKerasConfig: true, modelLabel: 'm', ...over };
}

test('untrusted workspace: refused with the explanation, whatever the interpreter and model', () => {
  for (const interpreter of [null, { path: venvPython, source: 'setting' as const }, { path: venvPython, source: 'python-extension' as const }]) {
    for (const runtime of ['tf1-graph', 'tf2-keras', 'keras3'] as const) {
      const c = chooseEngine(input({ trusted: false, interpreter, runtime }));
      assert.equal(c.kind, 'refuse');
      assert.equal(c.kind === 'refuse' && c.reason, 'untrusted');
      assert.equal(c.kind === 'refuse' && c.message, UNTRUSTED_MESSAGE);
    }
  }
  assert.match(UNTRUSTED_MESSAGE, /untrusted workspace/);
  assert.match(UNTRUSTED_MESSAGE, /Python interpreter/);
  assert.equal(mayLaunchInterpreter(false), false);
  assert.equal(mayLaunchInterpreter(true), true);
});

test('a configured interpreter runs the Python engine, for Keras and TF1 models alike', () => {
  const k = chooseEngine(input({ interpreter: { path: venvPython, source: 'setting' } }));
  assert.deepEqual(k.kind === 'python' && k.interpreter, venvPython);
  assert.match(k.kind === 'python' ? k.why : '', /freezeInspector\.python\.interpreterPath/);
  const t = chooseEngine(input({ interpreter: { path: venvPython, source: 'python-extension' }, runtime: 'tf1-graph', hasKerasConfig: false }));
  assert.equal(t.kind, 'python');
  assert.match(t.kind === 'python' ? t.why : '', /Python extension/);
});

test('no interpreter: TensorFlow.js for a Keras model; a blank setting counts as none', () => {
  assert.equal(chooseEngine(input({})).kind, 'tfjs');
  assert.equal(chooseEngine(input({ runtime: 'keras3' })).kind, 'tfjs');
  assert.equal(chooseEngine(input({ interpreter: { path: '  ', source: 'setting' } })).kind, 'tfjs');
});

test('no interpreter and a model TensorFlow.js cannot rebuild: a refusal that says how to verify it', () => {
  const c = chooseEngine(input({ runtime: 'tf1-graph', hasKerasConfig: false, modelLabel: 'seed-tf1/model/saved_model' }));
  assert.equal(c.kind, 'refuse');
  assert.equal(c.kind === 'refuse' && c.reason, 'not-rebuildable');
  const msg = c.kind === 'refuse' ? c.message : '';
  assert.match(msg, /^seed-tf1\/model\/saved_model is a TF1 graph: TensorFlow\.js cannot rebuild it/);
  assert.match(msg, /Python: Select Interpreter/);
  assert.match(msg, /freezeInspector\.python\.interpreterPath/);
  const noConfig = chooseEngine(input({ runtime: 'tf2-keras', hasKerasConfig: false }));
  assert.match(noConfig.kind === 'refuse' ? noConfig.message : '', /without a Keras model config/);
});

test('real models: the TF1 seed cannot be rebuilt in TensorFlow.js, the Keras SavedModel can', { skip: !(existsSync(tf1Seed) && existsSync(kerasSaved)) && 'fixtures absent' }, async () => {
  const seed = await openModel(tf1Seed);
  const keras = await openModel(kerasSaved);
  try {
    assert.equal(tfjsCanRebuild('tf1-graph', seed.model.kerasConfig != null), false);
    assert.equal(seed.model.kerasConfig, null);
    assert.notEqual(keras.model.kerasConfig, null);
    assert.equal(tfjsCanRebuild('tf2-keras', keras.model.kerasConfig != null), true);
  } finally {
    await seed.close();
    await keras.close();
  }
});
