// Keras: `for layer in base.layers[:N]: base.trainable = False` sets the same object on every iteration
// instead of each layer: the loop's intent (freeze some layers) silently does something else.
import type { ScriptModel } from '../idioms';
import type { TrainableFlip } from '../idioms/keras';
import type { ScriptFinding } from '../types';
import { replace } from './edits';
import type { ScriptRule } from './rule';

export const trainableWrongTarget: ScriptRule = {
  code: 'trainable-wrong-target',
  description: 'Keras: a loop over model layers sets .trainable on something other than the loop variable.',
  run(m: ScriptModel): ScriptFinding[] {
    const out: ScriptFinding[] = [];
    for (const f of m.keras.flips) {
      if (!f.loop || f.loopModel === null || f.onLoopVar) continue;
      const root = rootName(f.object);
      if (root === null || root === 'self') continue;
      // bound inside the loop (`l = model.get_layer(name)`): not a wrong target
      if (m.bindings.all(root).some((b) => b.stmt.s > f.loop!.s && b.stmt.s < f.loop!.end)) continue;
      if (f.loop.targets.length === 0) continue;
      const elem = loopElement(f);
      out.push(finding(m, f, elem));
    }
    return out;
  },
};

function loopElement(f: TrainableFlip): string {
  const t = f.loop!.targets;
  const it = f.loop!.iter;
  if (t.length === 2 && it.k === 'call' && it.callee === 'enumerate') return t[1]!;
  return t[0]!;
}

function rootName(e: TrainableFlip['object']): string | null {
  let x = e;
  for (;;) {
    if (x.k === 'name') return x.name;
    if (x.k === 'attr') x = x.object;
    else if (x.k === 'subscript') x = x.value;
    else return null;
  }
}

function finding(m: ScriptModel, f: TrainableFlip, elem: string): ScriptFinding {
  return {
    code: 'trainable-wrong-target',
    severity: 'error',
    message:
      `This loop walks ${m.text(f.loop!.iter)} but sets ${f.objectText}.trainable instead of ${elem}.trainable: ` +
      `every iteration changes the same object${f.object.k === 'name' ? ' (the whole model)' : ''} and the selected layers are not frozen one by one.`,
    range: m.range(f.object.s, f.object.e),
    related: [{ range: m.range(f.loop!.s, f.loop!.e), message: 'the loop over layers' }],
    fixes: [{ title: `Set ${elem}.trainable (the loop variable)`, isPreferred: true, edits: [replace(m, f.object.s, f.object.e, elem)] }],
  };
}
