import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseFreezeConfig, CONFIG_KEYS, resolveModelPath, lineColumn, locateInConfig } from '../../../src/core/analysis/freeze-config';

const repoRoot = path.resolve(__dirname, '../../..');

function at(text: string, needle: string): number {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, `${needle} in text`);
  return i;
}

test('a full config parses with no diagnostics and keeps every value', () => {
  const text = `{
  // comments are allowed (JSONC)
  "$schema": "../schemas/freeze-config.schema.json",
  "model": "./model/saved_model",
  "runtime": "tf1-graph",
  "patternSyntax": "regex",
  "freeze": ["^A/", "^B/"],
  "train": ["conv"],
  "training": true,
  "trainingOverrides": {"A": false, "base/": false},
  "updateOps": {"scopes": ["D/"]},
  "verify": {"steps": 5, "batchSize": 4, "optimizer": "adam", "learningRate": 0.001, "seed": 7, "data": {"kind": "npy", "path": "x.npy"}},
  "scripts": ["train.py"],
}`;
  const { config, diagnostics } = parseFreezeConfig(text, 'a.freeze.json');
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.equal(config.model, './model/saved_model');
  assert.equal(config.runtime, 'tf1-graph');
  assert.deepEqual(config.freeze, ['^A/', '^B/']);
  assert.deepEqual(config.train, ['conv']);
  assert.deepEqual(config.trainingOverrides, { A: false, base: false });
  assert.deepEqual(config.updateOps, { scopes: ['D/'] });
  assert.deepEqual(config.verify, { steps: 5, batchSize: 4, optimizer: 'adam', learningRate: 0.001, seed: 7, data: { kind: 'npy', path: 'x.npy' } });
  assert.deepEqual(config.scripts, ['train.py']);
});

test('defaults: auto runtime, regex, training true, all update ops, saved flags, no allow-list', () => {
  const { config, diagnostics } = parseFreezeConfig('{"model": "m.h5"}', 'm.freeze.json');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(config, {
    model: 'm.h5', runtime: 'auto', patternSyntax: 'regex', freeze: [], train: null, training: true,
    trainingOverrides: {}, updateOps: 'all', useSavedTrainOp: false, baseTrainable: 'saved', verify: null, scripts: [],
  });
});

test('unknown keys, invalid regexes and bad values are reported at their place in the file', () => {
  const text = '{\n  "model": "m",\n  "frezee": ["A"],\n  "freeze": ["ok", "bad(", 3],\n  "runtime": "tf3",\n  "training": "yes"\n}';
  const { config, diagnostics } = parseFreezeConfig(text, 'x.freeze.json');
  const by = (code: string) => diagnostics.filter((d) => d.code === code);
  const unknown = by('unknown-key')[0]!;
  assert.equal(unknown.offset, at(text, '"frezee"'));
  assert.equal(unknown.length, '"frezee"'.length);
  assert.match(unknown.message, /did you mean "freeze"/);
  assert.deepEqual(unknown.path, ['frezee']);
  const regex = by('invalid-regex')[0]!;
  assert.equal(regex.offset, at(text, '"bad("'));
  assert.deepEqual(regex.path, ['freeze', 1]);
  assert.equal(regex.severity, 'error');
  const wrong = by('wrong-type');
  assert.deepEqual(wrong.map((d) => d.path), [['freeze', 2], ['training']]);
  assert.equal(wrong[0]!.offset, at(text, '3]'));
  const invalid = by('invalid-value')[0]!;
  assert.deepEqual(invalid.path, ['runtime']);
  assert.equal(lineColumn(text, invalid.offset).line, 5);
  // invalid entries fall back to defaults; valid ones are kept
  assert.deepEqual(config!.freeze, ['ok']);
  assert.equal(config!.runtime, 'auto');
  assert.equal(config!.training, true);
});

test('invalid JSON, a missing model and a non-object are errors with positions', () => {
  const broken = parseFreezeConfig('{"model": "m", "freeze": [}', 'b.json');
  assert.ok(broken.diagnostics.some((d) => d.code === 'invalid-json' && d.severity === 'error' && d.offset > 0));
  const missing = parseFreezeConfig('{"freeze": []}', 'c.json');
  assert.deepEqual(missing.diagnostics.map((d) => d.code), ['missing-key']);
  const arr = parseFreezeConfig('[1]', 'd.json');
  assert.equal(arr.config, null);
  assert.equal(arr.diagnostics[0]!.code, 'not-an-object');
});

test('verify settings are validated: ranges, enums, data kinds needing a path', () => {
  const text = '{"model":"m","verify":{"steps":0,"batchSize":1.5,"optimizer":"rmsprop","learningRate":-1,"data":{"kind":"images"},"epochs":3}}';
  const { config, diagnostics } = parseFreezeConfig(text, 'v.json');
  const paths = diagnostics.map((d) => `${d.code}:${d.path.join('.')}`).sort();
  assert.deepEqual(paths, [
    'invalid-value:verify.batchSize',
    'invalid-value:verify.learningRate',
    'invalid-value:verify.optimizer',
    'invalid-value:verify.steps',
    'missing-key:verify.data.kind',
    'unknown-key:verify.epochs',
  ]);
  assert.deepEqual(config!.verify, { steps: 3, batchSize: 8, optimizer: 'sgd', learningRate: 0.01, seed: 1234, data: { kind: 'synthetic' } });
});

test('an empty train list means no allow-list (as the oracle and include_patterns=None)', () => {
  const { config, diagnostics } = parseFreezeConfig('{"model":"m","train":[],"useSavedTrainOp":true,"baseTrainable":"all"}', 't');
  assert.deepEqual(diagnostics, []);
  assert.equal(config!.train, null);
  assert.equal(config!.useSavedTrainOp, true);
  assert.equal(config!.baseTrainable, 'all');
  const bad = parseFreezeConfig('{"model":"m","baseTrainable":"none","useSavedTrainOp":1}', 't');
  assert.deepEqual(bad.diagnostics.map((d) => d.path.join('.')).sort(), ['baseTrainable', 'useSavedTrainOp']);
});

test('updateOps accepts all, none or scopes; scopes are regexes', () => {
  assert.equal(parseFreezeConfig('{"model":"m","updateOps":"none"}', 'u').config!.updateOps, 'none');
  const bad = parseFreezeConfig('{"model":"m","updateOps":{"scopes":["(D"]}}', 'u');
  assert.deepEqual(bad.diagnostics.map((d) => d.code), ['invalid-regex']);
  assert.deepEqual(bad.diagnostics[0]!.path, ['updateOps', 'scopes', 0]);
  const wrong = parseFreezeConfig('{"model":"m","updateOps":"some"}', 'u');
  assert.deepEqual(wrong.diagnostics.map((d) => d.code), ['invalid-value']);
});

test('glob and prefix patterns are not checked as regexes', () => {
  const { diagnostics } = parseFreezeConfig('{"model":"m","patternSyntax":"glob","freeze":["A/*(", "["]}', 'g');
  assert.deepEqual(diagnostics, []);
});

test('the shipped JSON schema lists exactly the keys the parser knows', () => {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schemas/freeze-config.schema.json'), 'utf8'));
  assert.deepEqual(Object.keys(schema.properties).sort(), [...CONFIG_KEYS].sort());
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.properties.runtime.enum, ['auto', 'tf1-graph', 'tf2-keras', 'keras3']);
  assert.deepEqual(Object.keys(schema.properties.verify.properties).sort(), ['batchSize', 'data', 'learningRate', 'optimizer', 'seed', 'steps']);
});

test('the model path resolves against the config file folder', () => {
  const cfg = parseFreezeConfig('{"model":"../models/m.h5"}', 'x').config!;
  assert.equal(resolveModelPath('/work/configs/a.freeze.json', cfg), '/work/models/m.h5');
  assert.equal(resolveModelPath('configs/a.freeze.json', cfg), 'models/m.h5');
  const abs = parseFreezeConfig('{"model":"/abs/m.h5"}', 'x').config!;
  assert.equal(resolveModelPath('/work/a.freeze.json', abs), '/abs/m.h5');
});

test('locateInConfig points at a value, or at the key of an object/array', () => {
  const text = '{\n  "model": "m",\n  "freeze": ["A", "B"]\n}';
  const r = locateInConfig(text, ['freeze', 1]);
  assert.equal(text.slice(r.offset, r.offset + r.length), '"B"');
  const k = locateInConfig(text, ['freeze']);
  assert.equal(text.slice(k.offset, k.offset + k.length), '"freeze"');
  const missing = locateInConfig(text, ['trainingOverrides', 'A']);
  assert.deepEqual(missing, { offset: 0, length: 1 });
});
