// `layer.trainable == False` as a statement compares and throws the result away: nothing is frozen.
import type { ScriptModel } from '../idioms';
import type { ScriptFinding } from '../types';
import { replace } from './edits';
import type { ScriptRule } from './rule';

export const trainableComparison: ScriptRule = {
  code: 'trainable-comparison',
  description: '`x.trainable == False` used as a statement: a comparison that changes nothing.',
  run(m: ScriptModel): ScriptFinding[] {
    const out: ScriptFinding[] = [];
    for (const c of m.keras.comparisons) {
      const [l, r] = c.expr.operands as [typeof c.expr.operands[0], typeof c.expr.operands[0]];
      const between = m.src.slice(l.e, r.s);
      const at = between.indexOf('==');
      const value = m.text(r);
      out.push({
        code: 'trainable-comparison',
        severity: 'error',
        message: `\`${m.text(c.expr)}\` compares and discards the result: ${m.text(l).replace(/\.trainable$/, '')} is not ${value === 'False' ? 'frozen' : 'unfrozen'}. Use = to assign.`,
        range: m.range(c.expr.s, c.expr.e),
        related: [],
        fixes: at === -1 ? [] : [{ title: 'Assign with = instead of comparing with ==', isPreferred: true, edits: [replace(m, l.e + at, l.e + at + 2, '=')] }],
      });
    }
    return out;
  },
};
