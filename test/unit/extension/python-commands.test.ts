// The pure decisions behind "Extract Freeze Config from This Script" and the link offer
// (src/extension/python-commands.ts): where the pragma goes, what the config is called and where it is written,
// the relative paths, the runtime, the message texts. The end-to-end cases use a real corpus script next to a
// real TensorFlow model (a generated fixture): the offer finds the model the script loads, the pragma links it,
// and the extracted config parses, names that model and lists the script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeScriptText } from '../../../src/core/python/analyze';
import { findModelLink } from '../../../src/core/python/link';
import { parseFreezeConfig, resolveModelPath, resolveRuntime } from '../../../src/core/analysis/index';
import { openModel } from '../../../src/core/open';
import type { RuntimeGuess } from '../../../src/core/python/types';
import {
  buildExtractedConfig,
  candidatePaths,
  configPathFor,
  extractedMessage,
  linkedRuntime,
  linkCandidates,
  linkOfferMessage,
  modelRoot,
  pragmaComment,
  pragmaInsertion,
  relativeLinkPath,
} from '../../../src/extension/python-commands';

const repoRoot = path.resolve(__dirname, '../../..');
const corpus = (f: string) => path.join(repoRoot, 'test/python-corpus/scripts', f);
const kerasH5 = path.join(repoRoot, 'test/fixtures/generated/k2_cnn_bn_h5/k2_cnn_bn.h5');
const tf1Seed = path.join(repoRoot, 'test/fixtures/generated/tf1_seed/saved_model');

function insert(src: string, rel: string): string {
  const at = pragmaInsertion(src, rel);
  return src.slice(0, at.offset) + at.text + src.slice(at.offset);
}

test('pragma: first line, or after the shebang and the encoding declaration', () => {
  assert.equal(insert('import tensorflow as tf\n', './m'), '# freeze-inspector: model=./m\nimport tensorflow as tf\n');
  assert.equal(insert('#!/usr/bin/env python\nimport tensorflow as tf\n', './m'), '#!/usr/bin/env python\n# freeze-inspector: model=./m\nimport tensorflow as tf\n');
  assert.equal(insert('# -*- coding: utf-8 -*-\nimport os\n', './m'), '# -*- coding: utf-8 -*-\n# freeze-inspector: model=./m\nimport os\n');
  assert.equal(insert('#!/usr/bin/python3\n# -*- coding: latin-1 -*-\nx = 1\n', '../m'), '#!/usr/bin/python3\n# -*- coding: latin-1 -*-\n# freeze-inspector: model=../m\nx = 1\n');
  // an encoding line second, after a plain comment: still must stay on line 2
  assert.equal(insert('# Copyright\n# vim: set fileencoding=utf-8 :\nx = 1\n', './m'), '# Copyright\n# vim: set fileencoding=utf-8 :\n# freeze-inspector: model=./m\nx = 1\n');
  // ...but not after code (Python ignores it there), and a plain comment first line is not a header
  assert.equal(insert('x = 1\n# coding: utf-8\n', './m'), '# freeze-inspector: model=./m\nx = 1\n# coding: utf-8\n');
  assert.equal(insert('# Source: somewhere\nimport os\n', './m'), '# freeze-inspector: model=./m\n# Source: somewhere\nimport os\n');
});

test('pragma: CRLF files keep CRLF; a header without a final line break; empty file; paths with spaces are quoted', () => {
  assert.equal(insert('#!/usr/bin/env python\r\nimport os\r\n', './m'), '#!/usr/bin/env python\r\n# freeze-inspector: model=./m\r\nimport os\r\n');
  assert.equal(insert('#!/usr/bin/env python', './m'), '#!/usr/bin/env python\n# freeze-inspector: model=./m');
  assert.equal(insert('', './m'), '# freeze-inspector: model=./m\n');
  assert.equal(pragmaComment('./my models/base'), '# freeze-inspector: model="./my models/base"');
  assert.equal(pragmaComment('./it\'s "here"'), '# freeze-inspector: model=\'./it\'s "here"\'');
});

test('pragma is read back by the core: the quoted path with spaces links the script', async () => {
  const src = insert('#!/usr/bin/env python\nimport tensorflow as tf\nm = tf.keras.models.load_model(p)\n', './my models/base');
  const a = await analyzeScriptText(src);
  const link = findModelLink(a.model, '/w/scripts/train.py');
  assert.equal(link?.modelPath, path.resolve('/w/scripts/my models/base'));
  assert.equal(link?.range?.start.line, 1);
});

test('relative paths: ./ below, ../ above, "." for the folder itself', () => {
  assert.equal(relativeLinkPath('/w/scripts', '/w/scripts/models/seed'), './models/seed');
  assert.equal(relativeLinkPath('/w/scripts', '/w/models/seed'), '../models/seed');
  assert.equal(relativeLinkPath('/w/scripts', '/w/scripts'), '.');
  assert.equal(relativeLinkPath('/w', '/w/..hidden/m.h5'), './..hidden/m.h5');
  assert.equal(modelRoot('/w/m/saved_model.pb'), '/w/m');
  assert.equal(modelRoot('/w/m/saved_model.pbtxt'), '/w/m');
  assert.equal(modelRoot('/w/m.h5'), '/w/m.h5');
});

test('config file: <script>.freeze.json next to the script, never inside the SavedModel folder', () => {
  assert.equal(configPathFor('/w/scripts/train.py', '/w/models/seed'), path.join('/w/scripts', 'train.freeze.json'));
  assert.equal(configPathFor('/w/train_v2.pyw', '/w/m.h5'), path.join('/w', 'train_v2.freeze.json'));
  // a .h5 / .keras model beside the script: its folder is not TensorFlow's, the config goes there
  assert.equal(configPathFor('/w/models/train.py', '/w/models/base.keras'), path.join('/w/models', 'train.freeze.json'));
  // a script kept inside the SavedModel folder (or below it): the config goes beside the folder
  assert.equal(configPathFor('/w/models/seed/train.py', '/w/models/seed'), path.join('/w/models', 'train.freeze.json'));
  assert.equal(configPathFor('/w/models/seed/assets/train.py', '/w/models/seed/saved_model.pb'), path.join('/w/models', 'train.freeze.json'));
  assert.equal(configPathFor('/w/models/seed-tools/train.py', '/w/models/seed'), path.join('/w/models/seed-tools', 'train.freeze.json'));
});

test('runtime of a linked script: the script decides the family, the model fills in the rest', () => {
  const guess = (runtime: RuntimeGuess['runtime'], source: RuntimeGuess['source']): RuntimeGuess => ({ runtime, source, why: '', standaloneKeras2: false });
  // certain answers win
  assert.equal(linkedRuntime(guess('tf1-graph', 'pragma'), 'keras3'), 'tf1-graph');
  assert.equal(linkedRuntime(guess('tf2-keras', 'setting'), 'keras3'), 'tf2-keras');
  // a guess from the imports: the model's recorded versions pick between the Keras runtimes...
  assert.equal(linkedRuntime(guess('tf2-keras', 'imports'), 'keras3'), 'keras3');
  assert.equal(linkedRuntime(guess('keras3', 'imports'), 'tf2-keras'), 'tf2-keras');
  // ...but a model of the other family does not turn a Keras script into a TF1 one (or back)
  assert.equal(linkedRuntime(guess('tf2-keras', 'imports'), 'tf1-graph'), 'tf2-keras');
  assert.equal(linkedRuntime(guess('tf1-graph', 'imports'), 'keras3'), 'tf1-graph');
  // no clue in the script: the model's; no model: the script's
  assert.equal(linkedRuntime(guess(null, 'unknown'), 'tf1-graph'), 'tf1-graph');
  assert.equal(linkedRuntime(guess('tf2-keras', 'imports'), null), 'tf2-keras');
  assert.equal(linkedRuntime(guess(null, 'unknown'), null), null);
});

test('messages', () => {
  assert.equal(linkOfferMessage('/w/scripts/train.py', '../models/seed'), 'Link train.py to model ../models/seed?');
  assert.equal(extractedMessage('/w/train.freeze.json', '/w/train.py', 'tf1-graph', []), 'Freeze Inspector: wrote train.freeze.json from train.py (runtime tf1-graph).');
  assert.equal(extractedMessage('/w/t.freeze.json', '/w/t.py', 'auto', ['a']), 'Freeze Inspector: wrote t.freeze.json from t.py (runtime auto). 1 thing the config cannot express: a.');
  assert.equal(extractedMessage('/w/t.freeze.json', '/w/t.py', 'keras3', ['a', 'b', 'c']), 'Freeze Inspector: wrote t.freeze.json from t.py (runtime keras3). 3 things the config cannot express: a (and 2 more in the log).');
});

test('candidates: relative to the script, then each workspace folder; absolute as is; URLs never', () => {
  assert.deepEqual(candidatePaths('models/m.h5', '/w/scripts/train.py', ['/w', '/w/scripts']), [path.resolve('/w/scripts/models/m.h5'), path.resolve('/w/models/m.h5')]);
  assert.deepEqual(candidatePaths('/data/m', '/w/train.py', ['/w']), [path.normalize('/data/m')]);
  assert.deepEqual(candidatePaths('gs://bucket/model', '/w/train.py', ['/w']), []);
  assert.deepEqual(candidatePaths('https://tfhub.dev/x/1', '/w/train.py', ['/w']), []);
});

test('link candidates: load_model, tf.saved_model.load and the TF1 loader (export_dir third or by keyword); load_weights is not a model', async () => {
  const src = [
    'import tensorflow as tf',
    'import tensorflow.compat.v1 as tf1',
    "a = tf.keras.models.load_model('models/a.keras')",
    "b = tf.saved_model.load('models/b')",
    "tf1.saved_model.loader.load(sess, ['serve'], 'models/c')",
    "tf.compat.v1.saved_model.load(sess, tags=['serve'], export_dir='models/d')",
    "a.load_weights('ckpt/weights')",
    'tf.compat.v1.saved_model.loader.load(sess, ["serve"], export_path)',
    '',
  ].join('\n');
  const a = await analyzeScriptText(src);
  assert.deepEqual(
    linkCandidates(a.model, '/w/train.py').map((c) => [c.literal, c.line]),
    [
      ['models/a.keras', 2],
      ['models/b', 3],
      ['models/c', 4],
      ['models/d', 5],
    ],
  );
  assert.equal(linkCandidates(a.model, '/w/train.py')[2]!.loader, 'tf.saved_model.loader.load');
});

test('TF1 loader of the real seed SavedModel, run from the workspace root: found by the root candidate, linked, config beside the script', { skip: !existsSync(tf1Seed) && 'generated fixture tf1_seed absent' }, async () => {
  const root = path.dirname(tf1Seed);
  const script = path.join(root, 'scripts', 'finetune.py');
  const a = await analyzeScriptText("import tensorflow.compat.v1 as tf\nwith tf.Session() as sess:\n    tf.saved_model.loader.load(sess, ['serve'], 'saved_model')\n");
  const [c] = linkCandidates(a.model, script);
  assert.ok(c);
  const found = candidatePaths(c.literal, script, [root]).find((p) => existsSync(path.join(p, 'saved_model.pb')));
  assert.equal(found, tf1Seed);
  const rel = relativeLinkPath(path.dirname(script), found);
  assert.equal(rel, '../saved_model');
  const linked = await analyzeScriptText(insert(a.model.src, rel));
  assert.equal(findModelLink(linked.model, script)?.modelPath, tf1Seed);
  const handle = await openModel(tf1Seed);
  try {
    const runtime = linkedRuntime(linked.model.runtime, resolveRuntime(handle.model, { runtime: 'auto' }).runtime);
    const out = await buildExtractedConfig(linked.model, { scriptPath: script, modelPath: found, runtime });
    assert.equal(out.configPath, path.join(root, 'scripts', 'finetune.freeze.json'));
    assert.equal(out.config.runtime, 'tf1-graph');
    assert.equal(out.config.model, '../saved_model');
    assert.deepEqual(out.config.scripts, ['./finetune.py']);
  } finally {
    await handle.close();
  }
});

test('real corpus script + real Keras model: offer, link, extract; the config parses, names the model and links the script back', { skip: !existsSync(kerasH5) && 'generated fixture k2_cnn_bn_h5 absent' }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fi-pycmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // the script loads 'model_a.h5' from its own folder: put the real model there under that name
  const script = path.join(dir, 'train.py');
  copyFileSync(corpus('mlstruckmann_04_transfer_learning.py'), script);
  copyFileSync(kerasH5, path.join(dir, 'model_a.h5'));
  const src = readFileSync(script, 'utf8');

  const a = await analyzeScriptText(src);
  assert.equal(findModelLink(a.model, script), null, 'not linked yet');
  const [c] = linkCandidates(a.model, script);
  assert.deepEqual(c && [c.literal, c.loader, c.line], ['model_a.h5', 'keras.models.load_model', 5]);
  const target = candidatePaths(c!.literal, script, [dir]).find((p) => existsSync(p));
  assert.equal(target, path.join(dir, 'model_a.h5'));
  const rel = relativeLinkPath(dir, modelRoot(target!));
  assert.equal(linkOfferMessage(script, rel), 'Link train.py to model ./model_a.h5?');

  // "Link": the pragma goes on line 1 (the corpus header is plain comments), and the core now sees the link
  const linkedSrc = insert(src, rel);
  assert.equal(linkedSrc.split('\n')[0], '# freeze-inspector: model=./model_a.h5');
  const linked = await analyzeScriptText(linkedSrc);
  assert.equal(findModelLink(linked.model, script)?.modelPath, target);
  assert.deepEqual(linkCandidates(linked.model, script).map((x) => x.literal), ['model_a.h5']);

  // extract: the script does not say its runtime, so the real model's does
  assert.equal(linked.model.runtime.source, 'unknown');
  const handle = await openModel(target!);
  let modelRuntime;
  try {
    modelRuntime = resolveRuntime(handle.model, { runtime: 'auto' }).runtime;
  } finally {
    await handle.close();
  }
  assert.equal(modelRuntime, 'tf2-keras');
  const out = await buildExtractedConfig(linked.model, { scriptPath: script, modelPath: target!, runtime: linkedRuntime(linked.model.runtime, modelRuntime) });
  assert.equal(out.configPath, path.join(dir, 'train.freeze.json'));
  const parsed = parseFreezeConfig(out.text, out.configPath);
  assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.ok(parsed.config);
  assert.equal(parsed.config.runtime, 'tf2-keras');
  assert.equal(resolveModelPath(out.configPath, parsed.config), target);
  assert.deepEqual(parsed.config.scripts, ['./train.py']);
  // the unlinked script is linked through the config's scripts field
  assert.deepEqual(findModelLink(a.model, script, [{ path: out.configPath, config: parsed.config }]), { modelPath: target, source: 'config', range: null, configPath: out.configPath });
  // the freeze loops need layer names: listed as unresolved (line 19 of the corpus file, 20 under the pragma)
  assert.equal(out.unresolved.length, 2);
  assert.match(out.unresolved[0]!, /^line 20: \.trainable set in a loop over model_b\.layers\[:-1\]/);
  assert.match(extractedMessage(out.configPath, script, parsed.config.runtime, out.unresolved), /2 things the config cannot express: line 20: .* \(and 1 more in the log\)\.$/);
});
