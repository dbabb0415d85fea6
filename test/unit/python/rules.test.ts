// Each rule on realistic scripts: it fires where the idiom is misused (with a working quick-fix) and stays
// silent where the idiom is used correctly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeScriptText } from '../../../src/core/python/analyze';
import { applyTextEdits } from '../../../src/core/python/text';
import type { ScriptFindingCode } from '../../../src/core/python/types';

async function findings(src: string, code: ScriptFindingCode) {
  const a = await analyzeScriptText(src);
  return a.findings.filter((f) => f.code === code);
}
async function fixed(src: string, code: ScriptFindingCode, fixIndex = 0): Promise<string> {
  const [f] = await findings(src, code);
  assert.ok(f, `expected a ${code} finding`);
  return applyTextEdits(src, f.fixes[fixIndex]!.edits);
}
const lines = (...l: string[]) => l.join('\n') + '\n';

const TF1_HEAD = lines(
  'import tensorflow as tf',
  'is_training = tf.placeholder(tf.bool, name="is_training")',
  'x = tf.placeholder(tf.float32, [None, 32])',
  "with tf.variable_scope('A'):",
  '    h = tf.layers.dense(x, 64)',
  '    h = tf.layers.batch_normalization(h, training=is_training)',
  "with tf.variable_scope('B'):",
  '    h = tf.layers.dense(h, 64)',
  '    h = tf.layers.batch_normalization(h, training=is_training)',
  'loss = tf.reduce_mean(tf.layers.dense(h, 10))',
);

test('frozen-bn-stats-drift: exclude_patterns + unscoped UPDATE_OPS + training BN', async () => {
  const src = TF1_HEAD + lines(
    "train_vars = tf.contrib.framework.filter_variables(tf.trainable_variables(), exclude_patterns=['A'])",
    'update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)',
    'with tf.control_dependencies(update_ops):',
    '    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, var_list=train_vars)',
  );
  const f = await findings(src, 'frozen-bn-stats-drift');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.range.start.line, 11);
  assert.match(f[0]!.message, /scope 'A'/);
  const out = await fixed(src, 'frozen-bn-stats-drift');
  assert.match(out, /update_ops = tf\.contrib\.framework\.filter_variables\(tf\.get_collection\(tf\.GraphKeys\.UPDATE_OPS\), exclude_patterns=\['A'\]\)/);
  assert.deepEqual(await findings(out, 'frozen-bn-stats-drift'), []);
  // the other fix: the frozen BN in inference mode
  const out2 = await fixed(src, 'frozen-bn-stats-drift', 1);
  assert.match(out2, /with tf.variable_scope\('A'\):\n {4}h = tf.layers.dense\(x, 64\)\n {4}h = tf.layers.batch_normalization\(h, training=False\)/);
  assert.deepEqual(await findings(out2, 'frozen-bn-stats-drift'), []);
});

test('frozen-bn-stats-drift: scope= selection gets a scoped get_collection fix', async () => {
  const src = TF1_HEAD + lines(
    "train_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope='B')",
    'update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)',
    'with tf.control_dependencies(update_ops):',
    '    train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, var_list=train_vars)',
  );
  const out = await fixed(src, 'frozen-bn-stats-drift');
  assert.match(out, /update_ops = tf\.get_collection\(tf\.GraphKeys\.UPDATE_OPS, scope='B'\)/);
  assert.deepEqual(await findings(out, 'frozen-bn-stats-drift'), []);
});

test('frozen-bn-stats-drift negatives: all variables trained; GAN with two optimizers; frozen part in inference mode', async () => {
  const all = TF1_HEAD + lines('update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)', 'with tf.control_dependencies(update_ops):', '    train_op = tf.train.AdamOptimizer().minimize(loss)');
  assert.deepEqual(await findings(all, 'frozen-bn-stats-drift'), []);
  const gan = TF1_HEAD + lines(
    "g_vars = [v for v in tf.trainable_variables() if v.name.startswith('A')]",
    "d_vars = [v for v in tf.trainable_variables() if v.name.startswith('B')]",
    'with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):',
    '    g_op = tf.train.AdamOptimizer().minimize(loss, var_list=g_vars)',
    '    d_op = tf.train.AdamOptimizer().minimize(-loss, var_list=d_vars)',
  );
  assert.deepEqual(await findings(gan, 'frozen-bn-stats-drift'), []);
  const inference = TF1_HEAD.replace('h = tf.layers.batch_normalization(h, training=is_training)', 'h = tf.layers.batch_normalization(h, training=False)') + lines(
    "train_vars = tf.contrib.framework.filter_variables(tf.trainable_variables(), exclude_patterns=['A'])",
    'with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):',
    '    train_op = tf.train.AdamOptimizer().minimize(loss, var_list=train_vars)',
  );
  assert.deepEqual(await findings(inference, 'frozen-bn-stats-drift'), []);
  const scoped = TF1_HEAD + lines(
    "train_vars = tf.trainable_variables(scope='B')",
    "with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope='B')):",
    '    train_op = tf.train.AdamOptimizer().minimize(loss, var_list=train_vars)',
  );
  assert.deepEqual(await findings(scoped, 'frozen-bn-stats-drift'), []);
});

test('bn-update-ops-not-run: minimize without UPDATE_OPS; fix wraps it in control_dependencies', async () => {
  const src = lines(
    'import tensorflow as tf',
    'from functools import partial',
    "training = tf.placeholder_with_default(False, shape=(), name='training')",
    'bn = partial(tf.layers.batch_normalization, training=training, momentum=0.9)',
    'X = tf.placeholder(tf.float32, [None, 784])',
    'h = tf.nn.elu(bn(tf.layers.dense(X, 300)))',
    'loss = tf.reduce_mean(h)',
    'def train_op_fn():',
    '    optimizer = tf.train.GradientDescentOptimizer(0.01)',
    '    training_op = optimizer.minimize(',
    '        loss)',
    '    return training_op',
  );
  const f = await findings(src, 'bn-update-ops-not-run');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'error');
  const out = await fixed(src, 'bn-update-ops-not-run');
  assert.match(out, / {4}update_ops = tf\.get_collection\(tf\.GraphKeys\.UPDATE_OPS\)\n {4}with tf\.control_dependencies\(update_ops\):\n {8}training_op = optimizer\.minimize\(\n {12}loss\)\n {4}return training_op/);
  assert.deepEqual(await findings(out, 'bn-update-ops-not-run'), []);
});

test('bn-update-ops-not-run negatives: updates run via control deps, sess.run, in place, training=False, slim train op', async () => {
  const head = lines('import tensorflow as tf', 'x = tf.placeholder(tf.float32)', 'h = tf.layers.batch_normalization(x, training=True)', 'loss = tf.reduce_mean(h)');
  assert.deepEqual(await findings(head + lines('with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):', '    op = tf.train.AdamOptimizer().minimize(loss)'), 'bn-update-ops-not-run'), []);
  assert.deepEqual(await findings(head + lines('extra = tf.get_collection(tf.GraphKeys.UPDATE_OPS)', 'op = tf.train.AdamOptimizer().minimize(loss)', 'sess.run([op, extra])'), 'bn-update-ops-not-run'), []);
  assert.deepEqual(await findings(head.replace('training=True', 'training=False') + lines('op = tf.train.AdamOptimizer().minimize(loss)'), 'bn-update-ops-not-run'), []);
  const slimSrc = lines('import tensorflow as tf', 'slim = tf.contrib.slim', 'net = slim.batch_norm(x, is_training=True, updates_collections=None)', 'op = tf.train.AdamOptimizer().minimize(tf.reduce_mean(net))');
  assert.deepEqual(await findings(slimSrc, 'bn-update-ops-not-run'), []);
  const slimTrain = lines('import tensorflow as tf', 'slim = tf.contrib.slim', 'net = slim.batch_norm(x, is_training=True)', 'train_op = slim.learning.create_train_op(loss, optimizer)');
  assert.deepEqual(await findings(slimTrain, 'bn-update-ops-not-run'), []);
  // keras in TF2: no TF1 evidence
  assert.deepEqual(await findings(lines('import tensorflow as tf', 'opt = tf.keras.optimizers.Adam()', 'opt.minimize(loss, var_list=model.trainable_variables)'), 'bn-update-ops-not-run'), []);
});

test('slim-train-op-all-update-ops: variables_to_train restricted, update_ops defaulted', async () => {
  const src = lines(
    'import tensorflow as tf',
    'import tf_slim as slim',
    "with slim.arg_scope([slim.batch_norm], is_training=True):",
    "    with tf.variable_scope('backbone'):",
    '        net = slim.conv2d(images, 64, [3, 3], normalizer_fn=slim.batch_norm)',
    "    with tf.variable_scope('head'):",
    '        logits = slim.fully_connected(net, 10, normalizer_fn=slim.batch_norm)',
    "train_vars = slim.get_trainable_variables('head')",
    'train_op = slim.learning.create_train_op(total_loss, optimizer, variables_to_train=train_vars)',
  );
  const f = await findings(src, 'slim-train-op-all-update-ops');
  assert.equal(f.length, 1);
  const out = await fixed(src, 'slim-train-op-all-update-ops');
  assert.match(out, /variables_to_train=train_vars, update_ops=tf\.get_collection\(tf\.GraphKeys\.UPDATE_OPS, scope='head'\)\)/);
  assert.deepEqual(await findings(out, 'slim-train-op-all-update-ops'), []);
  // negatives: no restriction; explicit scoped update_ops; only the trained scope has BN in training mode
  assert.deepEqual(await findings(src.replace(', variables_to_train=train_vars', ''), 'slim-train-op-all-update-ops'), []);
  assert.deepEqual(await findings(src.replace('variables_to_train=train_vars)', "variables_to_train=train_vars, update_ops=tf.get_collection(tf.GraphKeys.UPDATE_OPS, 'head'))"), 'slim-train-op-all-update-ops'), []);
  const headOnlyBn = src.replace('net = slim.conv2d(images, 64, [3, 3], normalizer_fn=slim.batch_norm)', 'net = slim.conv2d(images, 64, [3, 3])');
  assert.deepEqual(await findings(headOnlyBn, 'slim-train-op-all-update-ops'), []);
});

test('frozen-bn-batch-stats: tf.layers BN frozen with trainable=False but training on', async () => {
  const src = lines('import tensorflow as tf', 'is_training = tf.placeholder(tf.bool)', 'h = tf.layers.batch_normalization(x, trainable=False, training=is_training)');
  const out = await fixed(src, 'frozen-bn-batch-stats');
  assert.match(out, /trainable=False, training=False\)/);
  assert.deepEqual(await findings(out, 'frozen-bn-batch-stats'), []);
  assert.deepEqual(await findings(src.replace('trainable=False, ', ''), 'frozen-bn-batch-stats'), []);
});

const KERAS_FT = lines(
  'import tensorflow as tf',
  'from tensorflow import keras',
  "base_model = keras.applications.ResNet50(weights='imagenet', include_top=False)",
  'base_model.trainable = False',
  'inputs = keras.Input(shape=(224, 224, 3))',
  'x = base_model(inputs)',
  'outputs = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling2D()(x))',
  'model = keras.Model(inputs, outputs)',
  "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')",
  'model.fit(train_ds, epochs=5)',
  'base_model.trainable = True',
  "model.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy')",
  'model.fit(train_ds, epochs=5)',
);

test('finetune-bn-training-mode: unfrozen base called without training=False', async () => {
  const f = await findings(KERAS_FT, 'finetune-bn-training-mode');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.range.start.line, 5);
  const out = await fixed(KERAS_FT, 'finetune-bn-training-mode');
  assert.match(out, /x = base_model\(inputs, training=False\)/);
  assert.deepEqual(await findings(out, 'finetune-bn-training-mode'), []);
  const out2 = await fixed(KERAS_FT, 'finetune-bn-training-mode', 1);
  assert.match(out2, /base_model\.trainable = True\nfor layer in base_model\.layers:\n {4}if isinstance\(layer, keras\.layers\.BatchNormalization\):\n {8}layer\.trainable = False\n/);
  assert.deepEqual(await findings(out2, 'finetune-bn-training-mode'), []);
});

test('finetune-bn-training-mode negatives: training=False, base never unfrozen, VGG (no BN), BN kept frozen', async () => {
  assert.deepEqual(await findings(KERAS_FT.replace('base_model(inputs)', 'base_model(inputs, training=False)'), 'finetune-bn-training-mode'), []);
  assert.deepEqual(await findings(KERAS_FT.replace('base_model.trainable = True\n', ''), 'finetune-bn-training-mode'), []);
  assert.deepEqual(await findings(KERAS_FT.replace('ResNet50', 'VGG16'), 'finetune-bn-training-mode'), []);
  const guarded = KERAS_FT.replace(
    'base_model.trainable = True\n',
    'for layer in base_model.layers[-20:]:\n    if not isinstance(layer, keras.layers.BatchNormalization):\n        layer.trainable = True\n',
  );
  assert.deepEqual(await findings(guarded, 'finetune-bn-training-mode'), []);
});

test('trainable-after-compile: flip after fit without recompiling; fix recompiles before fit', async () => {
  const src = KERAS_FT.replace("model.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy')\n", '');
  const f = await findings(src, 'trainable-after-compile');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.range.start.line, 10);
  const out = await fixed(src, 'trainable-after-compile');
  assert.match(out, /base_model\.trainable = True\nmodel\.compile\(optimizer='adam', loss='sparse_categorical_crossentropy'\)\nmodel\.fit/);
  assert.deepEqual(await findings(out, 'trainable-after-compile'), []);
});

test('trainable-after-compile negatives: recompiled; flipped before compile; TF2 flip between compile and first fit', async () => {
  assert.deepEqual(await findings(KERAS_FT, 'trainable-after-compile'), []);
  const before = lines('from tensorflow import keras', 'model = keras.Sequential([keras.layers.Dense(1)])', 'model.layers[0].trainable = False', "model.compile('sgd', 'mse')", 'model.fit(x, y)');
  assert.deepEqual(await findings(before, 'trainable-after-compile'), []);
  const tf2 = lines('from tensorflow import keras', 'model = keras.Sequential([keras.layers.Dense(1)])', "model.compile('sgd', 'mse')", 'model.layers[0].trainable = False', 'model.fit(x, y)');
  assert.deepEqual(await findings(tf2, 'trainable-after-compile'), []);
  // standalone Keras 2 collects trainable weights in compile(): the same order is a mistake there
  const k2 = lines('import keras', 'from keras.optimizers import SGD', 'model = keras.models.Sequential([keras.layers.Dense(1)])', 'model.compile(SGD(lr=0.1), "mse")', 'model.layers[0].trainable = False', 'model.fit_generator(gen)');
  assert.equal((await findings(k2, 'trainable-after-compile')).length, 1);
});

test('trainable-wrong-target: loop over layers sets the model; fix uses the loop variable', async () => {
  const src = lines('from tensorflow import keras', "base_model = keras.applications.MobileNetV2(include_top=False)", 'for layer in base_model.layers[:100]:', '    base_model.trainable = False');
  const out = await fixed(src, 'trainable-wrong-target');
  assert.match(out, /for layer in base_model\.layers\[:100\]:\n {4}layer\.trainable = False/);
  assert.deepEqual(await findings(out, 'trainable-wrong-target'), []);
  const en = lines('for i, l in enumerate(model.layers):', '    if i < 10:', '        model.trainable = False');
  assert.match(await fixed(en, 'trainable-wrong-target'), / {8}l\.trainable = False/);
  // negatives
  assert.deepEqual(await findings(lines('for i, l in enumerate(model.layers):', '    model.layers[i].trainable = False'), 'trainable-wrong-target'), []);
  assert.deepEqual(await findings(lines('for name in names:', '    model.get_layer(name).trainable = False'), 'trainable-wrong-target'), []);
  assert.deepEqual(await findings(lines('for l in model.layers:', '    target = l', '    target.trainable = False'), 'trainable-wrong-target'), []);
});

test('trainable-comparison: == instead of =', async () => {
  const src = lines('for layer in model.layers:', '    layer.trainable == False');
  assert.equal(await fixed(src, 'trainable-comparison'), lines('for layer in model.layers:', '    layer.trainable = False'));
  assert.deepEqual(await findings(lines('if layer.trainable == False:', '    pass', 'ok = layer.trainable == False'), 'trainable-comparison'), []);
});

test('findings positions are UTF-16 columns on lines with non-ASCII text', async () => {
  const src = lines("# modèle pré-entraîné 😀", "for layer in base.layers: base.trainable = False  # gèle 😀");
  const f = await findings(src, 'trainable-wrong-target');
  assert.equal(f.length, 1);
  assert.deepEqual(f[0]!.range.start, { line: 1, character: 26 });
});

// BatchNorm built outside the script (a model class): the train op collecting UPDATE_OPS is the evidence.
const TF1_EXTERNAL_MODEL = lines(
  'import tensorflow as tf',
  'from nets import resnet_model',
  'def model_fn(features, labels, mode, fine_tune=False):',
  '    model = resnet_model.Model(50)',
  '    logits = model(features, mode == tf.estimator.ModeKeys.TRAIN)',
  '    loss = tf.losses.sparse_softmax_cross_entropy(logits=logits, labels=labels)',
  '    optimizer = tf.train.MomentumOptimizer(0.1, 0.9)',
  '    def _head_only(gvs):',
  "        return [(g, v) for g, v in gvs if 'dense' in v.name]",
  '    grad_vars = optimizer.compute_gradients(loss)',
  '    if fine_tune:',
  '        grad_vars = _head_only(grad_vars)',
  '    minimize_op = optimizer.apply_gradients(grad_vars)',
);

test('frozen-bn-stats-drift: gradients filtered by a helper, every UPDATE_OPS grouped with the train op', async () => {
  const src = TF1_EXTERNAL_MODEL + lines('    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)', '    train_op = tf.group(minimize_op, update_ops)', '    return train_op');
  const f = await findings(src, 'frozen-bn-stats-drift');
  assert.equal(f.length, 1);
  assert.equal(f[0]!.range.start.line, 13);
  assert.match(f[0]!.message, /containing 'dense'/);
});

test('frozen-bn-stats-drift negatives: unfiltered gradients; update ops not run; helper that keeps everything', async () => {
  const unfiltered = TF1_EXTERNAL_MODEL.replace('        grad_vars = _head_only(grad_vars)', '        grad_vars = grad_vars') + lines('    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)', '    return tf.group(minimize_op, update_ops)');
  assert.deepEqual(await findings(unfiltered, 'frozen-bn-stats-drift'), []);
  const noUpdates = TF1_EXTERNAL_MODEL + lines('    return minimize_op');
  assert.deepEqual(await findings(noUpdates, 'frozen-bn-stats-drift'), []);
  const keepAll = TF1_EXTERNAL_MODEL.replace("if 'dense' in v.name]", ']') + lines('    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)', '    return tf.group(minimize_op, update_ops)');
  assert.deepEqual(await findings(keepAll, 'frozen-bn-stats-drift'), []);
});

test('frozen-bn-stats-drift: two training phases; only the restricted phase drifts, its own UPDATE_OPS is reported', async () => {
  const src = lines(
    'import tensorflow as tf',
    'class Trainer(object):',
    '    def __init__(self):',
    "        self.training = tf.placeholder(dtype=tf.bool, name='training')",
    '        self.loss = build_loss(self.training)',
    '        self.head_vars = []',
    '        for var in tf.trainable_variables():',
    "            if var.op.name.startswith('head'):",
    '                self.head_vars.append(var)',
    '        first = tf.train.AdamOptimizer(1e-3).minimize(self.loss, var_list=self.head_vars)',
    '        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):',
    '            with tf.control_dependencies([first]):',
    '                self.train_head = tf.no_op()',
    '        second = tf.train.AdamOptimizer(1e-4).minimize(self.loss, var_list=tf.trainable_variables())',
    '        with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):',
    '            with tf.control_dependencies([second]):',
    '                self.train_all = tf.no_op()',
  );
  const f = await findings(src, 'frozen-bn-stats-drift');
  assert.deepEqual(f.map((x) => x.range.start.line), [10]);
  // the GAN shape (two different restricted sets) stays silent
  const gan = src.replace('var_list=tf.trainable_variables()', 'var_list=self.other_vars');
  assert.deepEqual(await findings(gan.replace("        self.head_vars = []", "        self.other_vars = [v for v in tf.trainable_variables() if v.name.startswith('d')]\n        self.head_vars = []"), 'frozen-bn-stats-drift'), []);
});

test('frozen-bn-stats-drift: slim-style helper returning a subset under a flag, update ops of the whole clone', async () => {
  const src = lines(
    'import tensorflow as tf',
    'from nets import nets_factory',
    'def _get_variables_to_train():',
    '  if FLAGS.trainable_scopes is None:',
    '    return tf.trainable_variables()',
    "  scopes = [scope.strip() for scope in FLAGS.trainable_scopes.split(',')]",
    '  variables_to_train = []',
    '  for scope in scopes:',
    '    variables_to_train.extend(tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope))',
    '  return variables_to_train',
    'def main(_):',
    "  network_fn = nets_factory.get_network_fn('resnet_v1_50', num_classes=10, is_training=True)",
    '  clones = model_deploy.create_clones(deploy_config, clone_fn, [batch_queue])',
    '  first_clone_scope = deploy_config.clone_scope(0)',
    '  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, first_clone_scope)',
    '  total_loss, grads = model_deploy.optimize_clones(clones, optimizer, var_list=_get_variables_to_train())',
    '  update_ops.append(optimizer.apply_gradients(grads))',
    '  train_tensor = control_flow_ops.with_dependencies([tf.group(*update_ops)], total_loss)',
  );
  assert.deepEqual((await findings(src, 'frozen-bn-stats-drift')).map((x) => x.range.start.line), [14]);
  // update ops of one named scope are not the whole clone
  assert.deepEqual(await findings(src.replace('first_clone_scope)', "'resnet_v1_50/logits')"), 'frozen-bn-stats-drift'), []);
});

test('finetune-bn-training-mode: a guard `cond and not isinstance(layer, BatchNormalization)` keeps BatchNorm frozen', async () => {
  const src = lines(
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    "base = keras.applications.MobileNetV2(include_top=False, weights='imagenet')",
    'base.trainable = False',
    'model = keras.Sequential([base, layers.Dense(2)])',
    "model.compile('adam', 'mse')",
    'model.fit(x, y)',
    'go = False',
    'for layer in base.layers:',
    "    if 'block_10' in layer.name:",
    '        go = True',
    '    if go and not isinstance(layer, layers.BatchNormalization):',
    '        layer.trainable = True',
    "model.compile('adam', 'mse')",
    'model.fit(x, y)',
  );
  assert.deepEqual(await findings(src, 'finetune-bn-training-mode'), []);
  assert.equal((await findings(src.replace(' and not isinstance(layer, layers.BatchNormalization)', ''), 'finetune-bn-training-mode')).length, 1);
});

test('frozen-bn-stats-drift stays silent without any sign of BatchNorm: no BN call, no network, no training switch', async () => {
  const src = lines(
    'import tensorflow as tf',
    'x = tf.placeholder(tf.float32, [None, 784])',
    'h = tf.layers.dense(x, 300, name="hidden")',
    'loss = tf.reduce_mean(tf.layers.dense(h, 10, name="out"))',
    "out_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope='out')",
    'update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)',
    'with tf.control_dependencies(update_ops):',
    '    train_op = tf.train.AdamOptimizer().minimize(loss, var_list=out_vars)',
  );
  assert.deepEqual(await findings(src, 'frozen-bn-stats-drift'), []);
  // the same with the model fed a training switch: its BatchNorm (built elsewhere) drifts
  const withSwitch = src.replace('h = tf.layers.dense(x, 300, name="hidden")', 'h = build_body(x, is_training=training)').replace('import tensorflow as tf', "import tensorflow as tf\ntraining = tf.placeholder(tf.bool, name='training')");
  assert.equal((await findings(withSwitch, 'frozen-bn-stats-drift')).length, 1);
});
