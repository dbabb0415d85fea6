import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineIndex } from '../../../src/extension/text-positions';

test('offsets map to line/character and back, across \\n and \\r\\n', () => {
  const text = '{\n  "model": "./m",\r\n  "freeze": ["A"]\n}';
  const idx = new LineIndex(text);
  const at = text.indexOf('"A"');
  const pos = idx.positionAt(at);
  assert.deepEqual(pos, { line: 2, character: 13 });
  assert.equal(idx.offsetAt(pos), at);
  assert.deepEqual(idx.positionAt(0), { line: 0, character: 0 });
  assert.deepEqual(idx.positionAt(text.length), { line: 3, character: 1 });
});

test('out-of-range offsets clamp to the text', () => {
  const idx = new LineIndex('ab\ncd');
  assert.deepEqual(idx.positionAt(-5), { line: 0, character: 0 });
  assert.deepEqual(idx.positionAt(99), { line: 1, character: 2 });
  assert.equal(idx.offsetAt({ line: 9, character: 9 }), 5);
});
