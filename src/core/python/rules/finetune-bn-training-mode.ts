// Keras: a pretrained base with BatchNorm is unfrozen for fine-tuning, and its BN runs in training mode:
// batch statistics on small new data and moving statistics overwritten. The TF transfer-learning guide:
// keep the base in inference mode with `base_model(x, training=False)` when unfreezing. Keras 3 <= 3.15.1
// functional models ignore that call argument (SEMANTICS E5): there, keep the BN layers frozen instead.
import type { ScriptModel } from '../idioms';
import type { KerasModelVar, TrainableFlip } from '../idioms/keras';
import type { ScriptFinding, ScriptFix } from '../types';
import { addKeywordArgument, indentUnit, insertLinesAfter } from './edits';
import type { ScriptRule } from './rule';

export const finetuneBnTrainingMode: ScriptRule = {
  code: 'finetune-bn-training-mode',
  description: 'Keras: an unfrozen base with BatchNorm is fine-tuned without training=False (BN in training mode).',
  run(m: ScriptModel): ScriptFinding[] {
    if (m.runtime.runtime === 'tf1-graph') return [];
    const out: ScriptFinding[] = [];
    const { models, flips, modelCalls } = m.keras;
    for (const base of models) {
      if (base.hasBatchNorm !== true) continue;
      const owners = new Set([base.name, ...models.filter((x) => x.sharesLayersOf.includes(base.name)).map((x) => x.name)]);
      const touches = (f: TrainableFlip) => (f.object.k === 'name' && f.object.name === base.name) || (f.onLoopVar && f.loopModel !== null && owners.has(f.loopModel));
      const unfreezes = flips.filter((f) => f.value === true && touches(f) && f.bnGuard !== 'not-bn');
      if (unfreezes.length === 0) continue;
      const lastUnfreeze = unfreezes[unfreezes.length - 1]!;
      // BN layers re-frozen after the unfreeze (`if isinstance(layer, BatchNormalization): layer.trainable = False`)
      if (flips.some((f) => f.value === false && f.bnGuard === 'only-bn' && f.onLoopVar && f.loopModel !== null && owners.has(f.loopModel) && f.stmt.s > lastUnfreeze.stmt.s)) continue;
      const calls = modelCalls.filter((c) => c.model === base.name);
      if (calls.some((c) => c.training !== undefined)) continue; // training= given: correct (or deliberate), and Keras 3 is another rule's business
      const keepFrozen = keepBnFrozenFix(m, base, lastUnfreeze);
      const unfreezeLine = m.lines.positionAt(lastUnfreeze.stmt.s).line + 1;
      const keras3 = m.runtime.runtime === 'keras3';
      if (calls.length > 0) {
        for (const c of calls) {
          const fixes: ScriptFix[] = [];
          if (!keras3) fixes.push({ title: `Call ${base.name} in inference mode (training=False)`, isPreferred: true, edits: [addKeywordArgument(m, c.call, 'training', 'False')] });
          fixes.push({ ...keepFrozen, isPreferred: keras3 });
          out.push(finding(m, base, c.call.s, c.call.e, unfreezeLine, fixes, keras3 ? 'keras3' : 'call'));
        }
      } else {
        out.push(finding(m, base, lastUnfreeze.stmt.s, lastUnfreeze.stmt.e, unfreezeLine, [{ ...keepFrozen, isPreferred: true }], 'no-call'));
      }
    }
    return out;
  },
};

function keepBnFrozenFix(m: ScriptModel, base: KerasModelVar, unfreeze: TrainableFlip): ScriptFix {
  const unit = indentUnit(m);
  const bn = m.names.batchNormSpelling();
  const v = 'layer';
  const lines = [`for ${v} in ${base.name}.layers:`, `${unit}if isinstance(${v}, ${bn}):`, `${unit}${unit}${v}.trainable = False`];
  // after the unfreezing statement; for a loop, after the whole loop
  const stmt = unfreeze.loop ? { ...unfreeze.stmt, s: unfreeze.loop.s, e: unfreeze.loop.end, indent: indentOfLoop(m, unfreeze.loop.s) } : unfreeze.stmt;
  return { title: `Keep ${base.name}'s BatchNormalization layers frozen (inference mode) while fine-tuning`, isPreferred: false, edits: [insertLinesAfter(m, stmt, lines, stmt.indent)] };
}

function indentOfLoop(m: ScriptModel, s: number): string {
  const line = m.lines.lineText(m.lines.positionAt(s).line);
  return /^[ \t]*/.exec(line)![0];
}

function finding(m: ScriptModel, base: KerasModelVar, s: number, e: number, unfreezeLine: number, fixes: ScriptFix[], how: 'call' | 'keras3' | 'no-call'): ScriptFinding {
  const what = `${base.name} (${base.detail}, contains BatchNormalization) is unfrozen for fine-tuning on line ${unfreezeLine}`;
  const tail =
    how === 'call'
      ? ' but is called without training=False: its BatchNorm layers normalize with batch statistics and overwrite the pretrained moving mean/variance. The TensorFlow transfer-learning guide: keep the base in inference mode with training=False when unfreezing.'
      : how === 'keras3'
        ? ' and runs its BatchNorm in training mode (batch statistics, moving mean/variance overwritten). In Keras 3 (<= 3.15.1) a functional model ignores training=False on an inner call, so keep the BatchNormalization layers frozen instead.'
        : ' and used without a call that could pass training=False (Sequential or shared layers): its BatchNorm layers will train in batch-statistics mode and overwrite the pretrained moving mean/variance. Keep them frozen.';
  return { code: 'finetune-bn-training-mode', severity: 'warning', message: what + tail, range: m.range(s, e), related: [], fixes };
}
