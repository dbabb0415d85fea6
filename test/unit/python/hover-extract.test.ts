import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { analyzeScriptText } from '../../../src/core/python/analyze';
import { extractFreezeConfig } from '../../../src/core/python/extract-config';
import { hoverAt } from '../../../src/core/python/hover-info';
import { findModelLink, linkSuggestions } from '../../../src/core/python/link';

const TF1 = [
  'import tensorflow as tf',
  "# freeze-inspector: model=../models/seed",
  "with tf.variable_scope('A'):",
  '    h = tf.layers.batch_normalization(x, training=True)',
  "train_vars = tf.contrib.framework.filter_variables(tf.trainable_variables(), exclude_patterns=['A'])",
  'update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)',
  'with tf.control_dependencies(update_ops):',
  '    train_op = tf.train.AdamOptimizer().minimize(loss, var_list=train_vars)',
  '',
].join('\n');

test('extract-config: TF1 exclude_patterns + unscoped UPDATE_OPS + training BN', async () => {
  const a = await analyzeScriptText(TF1);
  const { config, unresolved } = extractFreezeConfig(a.model, { modelPath: 'models/seed', scriptPath: 'train.py' });
  assert.equal(config.runtime, 'tf1-graph');
  assert.equal(config.patternSyntax, 'regex');
  assert.deepEqual(config.freeze, ['A']);
  assert.equal(config.train, null);
  assert.equal(config.training, true);
  assert.equal(config.updateOps, 'all');
  assert.deepEqual(config.scripts, ['train.py']);
  assert.deepEqual(unresolved, []);
});

test('extract-config: Keras base frozen and called with training=False', async () => {
  const a = await analyzeScriptText(['from tensorflow import keras', 'base = keras.applications.ResNet50(include_top=False)', 'base.trainable = False', 'x = base(inputs, training=False)', ''].join('\n'));
  const { config } = extractFreezeConfig(a.model, { modelPath: 'm.keras', scriptPath: 's.py' });
  assert.equal(config.runtime, 'tf2-keras');
  assert.deepEqual(config.freeze, ['resnet50']);
  assert.deepEqual(config.trainingOverrides, { resnet50: false });
});

test('hover: pattern strings, trainable, training= and UPDATE_OPS explain themselves without a model', async () => {
  const a = await analyzeScriptText(TF1);
  const at = (line: number, ch: number) => hoverAt(a, { line, character: ch });
  const p = at(4, TF1.split('\n')[4]!.indexOf("'A'") + 1);
  assert.equal(p?.data.kind, 'pattern');
  assert.match(p!.markdown, /exclude_patterns/);
  assert.match(p!.markdown, /No model linked/);
  const t = at(3, TF1.split('\n')[3]!.indexOf('training') + 2);
  assert.equal(t?.data.kind, 'training');
  assert.match(t!.markdown, /UPDATE_OPS/);
  const u = at(5, TF1.split('\n')[5]!.indexOf('UPDATE_OPS') + 3);
  assert.equal(u?.data.kind, 'update-ops');
  assert.equal(at(0, 0), null);
});

test('linking: pragma, config scripts field, load_model suggestions', async () => {
  const a = await analyzeScriptText(TF1);
  const link = findModelLink(a.model, '/w/scripts/train.py');
  assert.equal(link?.modelPath, path.resolve('/w/models/seed'));
  assert.equal(link?.range?.start.line, 1);
  const b = await analyzeScriptText("import tensorflow as tf\nm = tf.keras.models.load_model('saved/model')\n");
  assert.equal(findModelLink(b.model, '/w/train.py'), null);
  assert.deepEqual(linkSuggestions(b.model, '/w/train.py').map((s) => s.modelPath), [path.resolve('/w/saved/model')]);
});

const seed = path.resolve(__dirname, '../../fixtures/generated/tf1_seed/saved_model');
test('hover on a pattern with a linked real TF1 model lists its variables and BatchNorms', { skip: !existsSync(seed) && 'generated fixture tf1_seed absent' }, async () => {
  const { openModel } = await import('../../../src/core/open');
  const handle = await openModel(seed);
  try {
    const a = await analyzeScriptText(TF1);
    const h = hoverAt(a, { line: 4, character: TF1.split('\n')[4]!.indexOf("'A'") + 1 }, { model: handle.model, modelPath: seed, scriptPath: 'train.py' });
    assert.equal(h?.data.kind, 'pattern');
    if (h?.data.kind === 'pattern') {
      assert.ok(h.data.match && h.data.match.variables.length > 0, h.markdown);
      assert.ok((h.data.params ?? 0) > 0);
    }
    assert.match(h!.markdown, /command:freezeInspector\.verify/);
  } finally {
    await handle.close();
  }
});

test('an extracted config round-trips through the config parser without diagnostics', async () => {
  const { parseFreezeConfig } = await import('../../../src/core/analysis/freeze-config');
  const a = await analyzeScriptText(TF1);
  const { config } = extractFreezeConfig(a.model, { modelPath: 'models/seed', scriptPath: 'train.py' });
  const text = JSON.stringify(config, null, 2);
  const parsed = parseFreezeConfig(text, 'extracted.freeze.json');
  assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(parsed.config, config);
});
