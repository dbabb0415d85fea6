import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { locateWasm, parsePython } from '../../../src/core/python/parser';
import { ScriptAnalyzer, analyzeScriptText } from '../../../src/core/python/analyze';
import { LineIndex, applyTextEdits } from '../../../src/core/python/text';

test('locateWasm finds both wasm files from node_modules and from a dist/ folder next to a bundle', () => {
  const fromSrc = locateWasm('tree-sitter-python.wasm');
  assert.ok(fromSrc.path && fromSrc.path.endsWith(path.join('tree-sitter-python', 'tree-sitter-python.wasm')));
  const rt = locateWasm('web-tree-sitter.wasm');
  assert.ok(rt.path && rt.path.endsWith('web-tree-sitter.wasm'));
  const missing = locateWasm('tree-sitter-python.wasm', '/');
  if (missing.path === null) assert.ok(missing.tried.length > 0);
});

test('tree positions are UTF-16 code units, like VS Code', async () => {
  const src = "s = 'é😀'\nbase_model.trainable = False\n";
  const script = await parsePython("x = '😀é'; y = 1\n");
  try {
    const root = script.tree.rootNode;
    const second = root.descendantForIndex(script.text.indexOf('y'))!;
    assert.equal(second.startPosition.column, script.text.indexOf('y')); // 😀 counts 2, é counts 1
  } finally {
    script.dispose();
  }
  const idx = new LineIndex(src);
  assert.deepEqual(idx.positionAt(src.indexOf('base_model')), { line: 1, character: 0 });
  assert.deepEqual(idx.positionAt(src.indexOf("'", 5)), { line: 0, character: 8 }); // é is 1 unit, 😀 is 2
});

test('incremental re-parse after an edit equals a full parse and reuses unchanged statements', async () => {
  const text = ['import tensorflow as tf', 'def f(x):', '    return tf.layers.batch_normalization(x, training=True)', 'y = 1', ''].join('\n');
  const script = await parsePython(text);
  try {
    const analyzer = new ScriptAnalyzer(script);
    analyzer.analyze();
    script.applyChanges([{ range: { start: { line: 3, character: 4 }, end: { line: 3, character: 5 } }, text: '2 + 3' }]);
    assert.equal(script.text, text.replace('y = 1', 'y = 2 + 3'));
    const full = await parsePython(script.text);
    assert.equal(script.tree.rootNode.toString(), full.tree.rootNode.toString());
    full.dispose();
    const a = analyzer.analyze();
    assert.ok(a.stats.reused >= 2, `reused ${a.stats.reused}`);
    assert.equal(a.stats.walked, 1);
  } finally {
    script.dispose();
  }
});

test('edits with line breaks and multi-byte characters keep the tree in sync', async () => {
  const script = await parsePython('a = 1\nb = 2\n');
  try {
    script.applyChanges([{ range: { start: { line: 0, character: 4 }, end: { line: 1, character: 0 } }, text: "'😀'\nc = 3\n" }]);
    script.applyChanges([{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 1 } }, text: 'é' }]);
    assert.equal(script.text, "a = '😀'\né = 3\nb = 2\n");
    const full = await parsePython(script.text);
    assert.equal(script.tree.rootNode.toString(), full.tree.rootNode.toString());
    full.dispose();
  } finally {
    script.dispose();
  }
});

test('malformed and half-typed Python never throws and says nothing where unsure', async () => {
  const broken = [
    'def f(:\n  x.trainable = \nfor l in m.layers[:3]\n   l.trainable=False\n',
    'base_model = tf.keras.applications.ResNet50(\nbase_model.trainable = True\nmodel.fit(',
    'with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS):\n  train_op = opt.minimize(loss, var_list=\n',
    '"""unterminated\n',
    ')))]]]',
    '',
    'import',
    'x = tf.layers.batch_normalization(h, training=',
  ];
  for (const text of broken) {
    const a = await analyzeScriptText(text);
    assert.ok(Array.isArray(a.findings));
  }
  // every prefix of a real script
  const real = ['import tensorflow as tf', 'x = tf.placeholder(tf.float32)', 'h = tf.layers.batch_normalization(x, training=True)', 'loss = tf.reduce_mean(h)', 'train_op = tf.train.AdamOptimizer().minimize(loss)', ''].join('\n');
  for (let i = 0; i <= real.length; i += 3) await analyzeScriptText(real.slice(0, i));
});

test('applyTextEdits applies non-overlapping edits in any order', () => {
  const r = (l: number, c: number) => ({ line: l, character: c });
  assert.equal(applyTextEdits('abc\ndef\n', [{ range: { start: r(1, 0), end: r(1, 1) }, newText: 'D' }, { range: { start: r(0, 1), end: r(0, 2) }, newText: 'B' }]), 'aBc\nDef\n');
});

test('incremental analysis after edits reports exactly what a full analysis of the new text reports', async () => {
  const corpus = path.resolve(__dirname, '../../python-corpus/scripts');
  for (const file of ['yunyang1994_tensorflow_yolov3_train.py', 'tfdocs_r2_transfer_learning.py', 'tfmodels_official_r1_resnet_run_loop.py']) {
    const script = await parsePython(readFileSync(path.join(corpus, file), 'utf8'));
    const analyzer = new ScriptAnalyzer(script);
    const view = (fs: readonly { code: string; range: unknown; message: string; fixes: unknown; related: unknown }[]) => JSON.stringify(fs.map((f) => [f.code, f.range, f.message, f.fixes, f.related]));
    assert.ok(analyzer.analyze().findings.length > 0, `${file}: has findings to follow`);
    const last = script.lines.lineCount - 2;
    const at = (line: number, character: number) => ({ line, character });
    const edits = [
      { range: { start: at(last, 0), end: at(last, 0) }, text: ' ' }, // whitespace only: facts move
      { range: { start: at(0, 0), end: at(0, 0) }, text: '\n# a comment\n' }, // everything shifts down
      { range: { start: at(2, 0), end: at(2, 12) }, text: '' }, // delete it again
      { range: { start: at(8, 0), end: at(8, 0) }, text: 'x_ = 1\n' }, // code inserted
      { range: { start: at(8, 0), end: at(9, 0) }, text: '' },
      { range: { start: at(last, 0), end: at(last, 1) }, text: '' },
    ];
    // edits inside a function body, with the function moved in between (nested statements reused after a shift)
    const indentOf = (line: number) => /^[ \t]*/.exec(script.lines.lineText(line))![0];
    const mid = Math.floor(last / 2);
    edits.push(
      { range: { start: at(mid, 0), end: at(mid, 0) }, text: `${indentOf(mid)}z_ = 3\n` },
      { range: { start: at(0, 0), end: at(0, 0) }, text: '\n\n' },
      { range: { start: at(mid + 2, 0), end: at(mid + 3, 0) }, text: '' },
      { range: { start: at(mid + 4, 0), end: at(mid + 4, 0) }, text: `${indentOf(mid + 4)}w_ = [v for v in tf.trainable_variables() if 'x' in v.name]\n` },
    );
    let sawReuse = false;
    for (const e of edits) {
      script.applyChanges([e]);
      const incremental = analyzer.analyze();
      const fresh = await analyzeScriptText(script.text);
      assert.equal(view(incremental.findings), view(fresh.findings), `${file}: after ${JSON.stringify(e)}`);
      sawReuse ||= incremental.stats.walked <= 1;
    }
    assert.ok(sawReuse, `${file}: unchanged statements were reused`);
    script.dispose();
  }
});
