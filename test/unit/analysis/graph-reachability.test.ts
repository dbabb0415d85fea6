// The reachability algorithm over small graphs written out by hand. These check the graph search (data and
// control edges, Switch/Merge deadness, linear cost), not TensorFlow's behaviour: that is checked on real
// TF1 graphs in test/integration/analysis and against real runs in the oracle test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphNode, Tf1Graph } from '../../../src/core/model/ir';
import { GraphIndex, reachableOps, writtenVariable, nodeName } from '../../../src/core/analysis/graph-reachability';

function node(name: string, op: string, inputs: string[] = [], attrs: GraphNode['attrs'] = {}): GraphNode {
  return { name, op, inputs, attrs };
}
function graph(nodes: GraphNode[]): Tf1Graph {
  return { tags: ['train'], nodes, collections: {} };
}
function runs(g: GraphIndex, r: { runs: Uint8Array }): string[] {
  return g.nodes.filter((_, i) => r.runs[i]).map((n) => n.name).sort();
}

test('backward search follows data and control inputs, and nothing else', () => {
  const g = new GraphIndex(graph([
    node('x', 'Placeholder'),
    node('w', 'VariableV2'),
    node('mm', 'VariableV2'),
    node('y', 'MatMul', ['x', 'w']),
    node('update', 'AssignSub', ['mm', 'y:0']),
    node('unrelated', 'AssignSub', ['mm', 'y']),
    node('apply', 'ApplyGradientDescent', ['w', 'y', '^update']),
    node('train', 'NoOp', ['^apply']),
  ]));
  const r = reachableOps(g, [g.find('train')]);
  assert.deepEqual(runs(g, r), ['apply', 'mm', 'train', 'update', 'w', 'x', 'y']);
  assert.equal(writtenVariable(g, g.find('update')), 'mm');
  // blocked nodes (update ops left out by the config) are not entered
  const blocked = reachableOps(g, [g.find('train')], { blocked: new Set([g.find('update')]) });
  assert.equal(runs(g, blocked).includes('update'), false);
});

test('a Switch on the training flag forwards only the taken branch; Merge needs one live input', () => {
  const nodes = [
    node('is_training', 'PlaceholderWithDefault', ['default'], { dtype: { kind: 'type', value: 'bool' } }),
    node('default', 'Const', [], { value: { kind: 'tensor', dtype: 'bool', shape: [], values: [true] } }),
    node('pred_id', 'Identity', ['is_training']),
    node('v', 'VariableV2'),
    node('sw', 'Switch', ['v', 'pred_id']),
    node('true_branch', 'AssignSub', ['sw:1', 'sw:1']),
    node('false_branch', 'Identity', ['sw:0']),
    node('merge', 'Merge', ['false_branch', 'true_branch']),
    node('train', 'NoOp', ['^merge']),
  ];
  const g = new GraphIndex(graph(nodes));
  const flag = (n: GraphNode) => (n.name === 'is_training' ? value : null);
  let value = true;
  let r = reachableOps(g, [g.find('train')], { trainingFlag: flag });
  assert.equal(r.resolvedSwitches, 1);
  assert.deepEqual(runs(g, r).filter((n) => n.endsWith('branch')), ['true_branch']);
  assert.ok(runs(g, r).includes('merge'));
  value = false;
  r = reachableOps(g, [g.find('train')], { trainingFlag: flag });
  assert.deepEqual(runs(g, r).filter((n) => n.endsWith('branch')), ['false_branch']);
  // unknown predicate: both branches may run
  r = reachableOps(g, [g.find('train')], { trainingFlag: () => null });
  assert.equal(r.resolvedSwitches, 1, 'the placeholder default still resolves it');
  const noDefault = new GraphIndex(graph(nodes.map((n) => (n.name === 'is_training' ? node('is_training', 'Placeholder') : n))));
  r = reachableOps(noDefault, [noDefault.find('train')], { trainingFlag: () => null });
  assert.equal(r.resolvedSwitches, 0);
  assert.deepEqual(runs(noDefault, r).filter((n) => n.endsWith('branch')), ['false_branch', 'true_branch']);
});

test('deadness flows through ops and control edges; LogicalNot flips the predicate', () => {
  const g = new GraphIndex(graph([
    node('flag', 'Const', [], { value: { kind: 'tensor', dtype: 'bool', shape: [], values: [true] } }),
    node('not', 'LogicalNot', ['flag']),
    node('d', 'Const'),
    node('sw', 'Switch', ['d', 'not']),
    node('a', 'Identity', ['sw:1']),
    node('b', 'Neg', ['a']),
    node('c', 'NoOp', ['^b']),
    node('train', 'NoOp', ['^c', '^d']),
  ]));
  const r = reachableOps(g, [g.find('train')]);
  // a dead control input kills its consumer too (only Merge survives a dead input): tf.cond always merges
  assert.deepEqual(runs(g, r), ['d', 'flag', 'not', 'sw']);
  assert.equal(r.deadCount, 4);
});

test('cycles (while loops) terminate', () => {
  const g = new GraphIndex(graph([
    node('enter', 'Enter', ['x']),
    node('x', 'Const'),
    node('merge', 'Merge', ['enter', 'next']),
    node('body', 'Add', ['merge', 'merge']),
    node('next', 'NextIteration', ['body']),
    node('exit', 'Exit', ['merge']),
  ]));
  const r = reachableOps(g, [g.find('exit')]);
  assert.equal(runs(g, r).length, 6);
});

test('tensor and control names map to node names', () => {
  assert.equal(nodeName('^a/b'), 'a/b');
  assert.equal(nodeName('a/b:1'), 'a/b');
  assert.equal(nodeName('a:b'), 'a:b');
});

test('cost is linear: 10x the graph takes about 10x the time, not 100x', () => {
  function chain(n: number): GraphIndex {
    const nodes: GraphNode[] = [node('flag', 'Const', [], { value: { kind: 'tensor', dtype: 'bool', shape: [], values: [true] } })];
    for (let i = 0; i < n; i++) {
      nodes.push(node(`sw${i}`, 'Switch', [i === 0 ? 'flag' : `m${i - 1}`, 'flag']));
      nodes.push(node(`t${i}`, 'Identity', [`sw${i}:1`]));
      nodes.push(node(`f${i}`, 'Identity', [`sw${i}:0`]));
      nodes.push(node(`m${i}`, 'Merge', [`f${i}`, `t${i}`]));
    }
    nodes.push(node('train', 'NoOp', [`^m${n - 1}`]));
    return new GraphIndex(graph(nodes));
  }
  const time = (n: number) => {
    const g = chain(n);
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 3; k++) reachableOps(g, [g.find('train')]);
    return Number(process.hrtime.bigint() - t0);
  };
  time(2000); // warm up
  const small = Math.min(time(5000), time(5000));
  const large = Math.min(time(50000), time(50000));
  const r = reachableOps(chain(1000), [chain(1000).find('train')]);
  assert.equal(r.deadCount, 1000);
  assert.ok(large / small < 40, `50k nodes took ${(large / small).toFixed(1)}x the time of 5k`);
});
