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

test('trainingOverrides: a Switch inside an overridden BatchNorm scope reads the override, the others the fed flag', async () => {
  const { tf1ScopeOfOp, tf1OverrideKey } = await import('../../../src/core/analysis/runtimes/tf1-graph');
  // one is_training placeholder (through an Identity chain outside the layers) drives two BatchNorm conds
  const bool = { dtype: { kind: 'type' as const, value: 'bool' } };
  const nodes = [
    node('is_training', 'Placeholder', [], bool),
    node('flag', 'Identity', ['is_training']),
    node('v', 'VariableV2'),
    ...['A/bn', 'D/bn'].flatMap((l) => [
      node(`${l}/cond/pred_id`, 'Identity', ['flag']),
      node(`${l}/cond/Switch`, 'Switch', ['v', `${l}/cond/pred_id`]),
      node(`${l}/cond/update`, 'AssignSub', [`${l}/cond/Switch:1`, `${l}/cond/Switch:1`]),
      node(`${l}/cond/keep`, 'Identity', [`${l}/cond/Switch:0`]),
      node(`${l}/cond/Merge`, 'Merge', [`${l}/cond/keep`, `${l}/cond/update`]),
    ]),
    node('train', 'NoOp', ['^A/bn/cond/Merge', '^D/bn/cond/Merge']),
  ];
  const g = new GraphIndex(graph(nodes));
  const layers = ['A/bn', 'D/bn'];
  const overrides = { A: true, 'D/bn': false };
  assert.equal(tf1OverrideKey('A/bn', overrides), 'A');
  assert.equal(tf1OverrideKey('D/bn', { D: true, 'D/bn': false }), 'D/bn', 'the nearest enclosing entry wins');
  assert.equal(tf1ScopeOfOp('gradients/A/bn/cond/Merge_grad/cond_grad', layers), 'A/bn', 'gradient ops belong to their layer');
  assert.equal(tf1ScopeOfOp('A/bnx/cond', layers), null);
  const flagOverride = (consumer: number, source: number) => {
    const layer = tf1ScopeOfOp(g.nodes[consumer]!.name, layers);
    const key = layer === null ? undefined : tf1OverrideKey(layer, overrides);
    const src = g.nodes[source]!.name;
    return key !== undefined && (src === 'is_training' || src === 'flag') ? overrides[key as keyof typeof overrides] : null;
  };
  // fed False: A overridden True runs its update branch, D overridden False keeps it dead
  const r = reachableOps(g, [g.find('train')], { trainingFlag: (n) => (n.name === 'is_training' ? false : null), flagOverride });
  assert.equal(r.resolvedSwitches, 2);
  assert.deepEqual(runs(g, r).filter((n) => /\/(update|keep)$/.test(n)), ['A/bn/cond/update', 'D/bn/cond/keep']);
  // without the override both follow the fed flag
  const plain = reachableOps(g, [g.find('train')], { trainingFlag: (n) => (n.name === 'is_training' ? false : null) });
  assert.deepEqual(runs(g, plain).filter((n) => /\/(update|keep)$/.test(n)), ['A/bn/cond/keep', 'D/bn/cond/keep']);
});
