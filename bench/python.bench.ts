// Script-analysis speed on a 2,000-line training script: full analysis (parse + facts + rules) and
// incremental re-analysis after a one-line edit (tree edit + incremental parse + cached facts + rules), for two
// kinds of edit: typing a space at the end of a line (the facts only move) and changing one character of code
// (the edited statement's facts change, every pass is rebuilt). Wall-clock medians are the targets; CPU-time
// medians (process.cpuUsage) are printed next to them because a loaded machine inflates wall time.
// `benchPython()` returns the figures (ms); run standalone with `npx tsx bench/python.bench.ts`.
import { performance } from 'node:perf_hooks';
import { ScriptAnalyzer } from '../src/core/python/analyze';
import { PythonScript, loadPython } from '../src/core/python/parser';

/** A realistic script: TF1 graph blocks and Keras fine-tuning blocks inside functions, ~2,000 lines. */
export function makeScript(targetLines = 2000): string {
  const out: string[] = ['import tensorflow as tf', 'from tensorflow import keras', 'from functools import partial', ''];
  let i = 0;
  while (out.length < targetLines) {
    out.push(
      `def build_tf1_${i}(x, is_training):`,
      `    with tf.variable_scope('block_${i}'):`,
      `        h = tf.layers.conv2d(x, 64, 3, padding='same', name='conv')`,
      `        h = tf.layers.batch_normalization(h, training=is_training, name='bn')`,
      `        h = tf.nn.relu(h)`,
      `        # residual branch ${i}`,
      `        for j in range(3):`,
      `            h = tf.layers.conv2d(h, 64, 3, padding='same', name='conv_%d' % j)`,
      `            h = tf.layers.batch_normalization(h, training=is_training, name='bn_%d' % j)`,
      `    return h`,
      ``,
      `def train_tf1_${i}(loss):`,
      `    train_vars = tf.contrib.framework.filter_variables(tf.trainable_variables(), exclude_patterns=['block_${i}'])`,
      `    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)`,
      `    with tf.control_dependencies(update_ops):`,
      `        train_op = tf.train.MomentumOptimizer(0.01, 0.9).minimize(loss, var_list=train_vars)`,
      `    return train_op`,
      ``,
      `def finetune_${i}(train_ds, val_ds):`,
      `    base_model = keras.applications.ResNet50(weights='imagenet', include_top=False)`,
      `    base_model.trainable = False`,
      `    inputs = keras.Input(shape=(224, 224, 3))`,
      `    x = base_model(inputs, training=False)`,
      `    x = keras.layers.GlobalAveragePooling2D()(x)`,
      `    outputs = keras.layers.Dense(10, activation='softmax')(x)`,
      `    model = keras.Model(inputs, outputs)`,
      `    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])`,
      `    model.fit(train_ds, validation_data=val_ds, epochs=5)`,
      `    for layer in base_model.layers[-20:]:`,
      `        if not isinstance(layer, keras.layers.BatchNormalization):`,
      `            layer.trainable = True`,
      `    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss='sparse_categorical_crossentropy', metrics=['accuracy'])`,
      `    model.fit(train_ds, validation_data=val_ds, epochs=5)`,
      `    return model`,
      ``,
    );
    i++;
  }
  return out.slice(0, targetLines).join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Times `f` `runs` times: wall and CPU milliseconds per run. */
async function timed(runs: number, f: (r: number) => void | Promise<void>): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c = cpuMs();
    const t = performance.now();
    await f(r);
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  return { wall, cpu };
}

export async function benchPython(): Promise<Record<string, number>> {
  const t0 = performance.now();
  await loadPython();
  const loadMs = performance.now() - t0;
  const text = makeScript(2000);

  let findings = 0;
  const full = await timed(15, async () => {
    const script = await PythonScript.parse(text);
    findings = new ScriptAnalyzer(script).analyze().findings.length;
    script.dispose();
  });

  const script = await PythonScript.parse(text);
  const analyzer = new ScriptAnalyzer(script);
  analyzer.analyze();
  const target = script.text.split('\n').findIndex((l) => l.includes("exclude_patterns=['block_17']"));
  // alternate typing a space at the end of a line deep inside a function and deleting it
  const space = await timed(40, (r) => {
    const col = script.lines.lineText(target).length;
    const change = r % 2 === 0 ? { range: { start: { line: target, character: col }, end: { line: target, character: col } }, text: ' ' } : { range: { start: { line: target, character: col - 1 }, end: { line: target, character: col } }, text: '' };
    script.applyChanges([change]);
    analyzer.analyze();
  });
  // alternate changing one character of code ('block_17' -> 'block_18' -> 'block_17') on the same line
  const code = await timed(40, (r) => {
    const col = script.lines.lineText(target).indexOf("block_1") + 'block_1'.length;
    script.applyChanges([{ range: { start: { line: target, character: col }, end: { line: target, character: col + 1 } }, text: r % 2 === 0 ? '8' : '7' }]);
    analyzer.analyze();
  });
  script.dispose();
  return {
    'python.grammarLoadMs': round(loadMs),
    'python.lines': 2000,
    'python.findings': findings,
    'python.fullAnalysisMs': round(median(full.wall)),
    'python.fullAnalysisCpuMs': round(median(full.cpu)),
    'python.incrementalAnalysisMs': round(median(space.wall)),
    'python.incrementalAnalysisCpuMs': round(median(space.cpu)),
    'python.incrementalCodeEditMs': round(median(code.wall)),
    'python.incrementalCodeEditCpuMs': round(median(code.cpu)),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (require.main === module) {
  benchPython().then((r) => console.log(JSON.stringify(r, null, 2)));
}
