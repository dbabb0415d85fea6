// Helpers rewritten for speed must keep their exact answers.
import test from 'node:test';
import assert from 'node:assert/strict';
import { opName } from '../../../src/core/formats/meta-graph/summary';
import { GraphIndex } from '../../../src/core/formats/tf1/graph-index';
import type { GraphNode } from '../../../src/core/model/ir';

test('opName strips a leading ^ and a numeric :N output, nothing else', () => {
  const cases: [string, string][] = [
    ['x', 'x'],
    ['x:0', 'x'],
    ['x:12', 'x'],
    ['^x', 'x'],
    ['^x:1', 'x'],
    ['a/b:0:1', 'a/b:0'],
    ['a:b', 'a:b'],
    ['a:', 'a:'],
    [':5', ':5'],
    ['x:1a', 'x:1a'],
    ['x: 1', 'x: 1'],
    ['', ''],
    ['^', ''],
  ];
  for (const [input, want] of cases) assert.equal(opName(input), want, JSON.stringify(input));
});

test('dataInputs leaves out control inputs and keeps order', () => {
  const node = (inputs: string[]): GraphNode => ({ name: 'n', op: 'Op', inputs, attrs: {} });
  const g = new GraphIndex([]);
  assert.deepEqual(g.dataInputs(node(['a', 'b:1'])), ['a', 'b:1']);
  assert.deepEqual(g.dataInputs(node(['^c', 'a', '^d', 'b:1'])), ['a', 'b:1']);
  assert.deepEqual(g.dataInputs(node([])), []);
});
