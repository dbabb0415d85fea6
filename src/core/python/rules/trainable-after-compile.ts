// Keras: `trainable` changed after compile() and fit() called again without compile(): the change is ignored.
// tf.keras 2 / Keras 3 pick the trainable weights when fit() first builds its train function (a flip after a
// fit is ignored; SEMANTICS E4); standalone Keras 2 and TF1 tf.keras already at compile().
import type { ScriptModel } from '../idioms';
import type { CompileFit, TrainableFlip } from '../idioms/keras';
import type { ScriptFinding, ScriptFix } from '../types';
import { insertLinesBefore } from './edits';
import type { ScriptRule } from './rule';

export const trainableAfterCompile: ScriptRule = {
  code: 'trainable-after-compile',
  description: 'Keras: `.trainable` changed after compile()/fit(), then fit() again without recompiling: the change is ignored.',
  run(m: ScriptModel): ScriptFinding[] {
    const out: ScriptFinding[] = [];
    const compileAtCompile = m.runtime.standaloneKeras2 || m.runtime.runtime === 'tf1-graph';
    const byFn = new Map<string, CompileFit[]>();
    for (const c of m.keras.compileFits) {
      const list = byFn.get(c.fn);
      if (list) list.push(c);
      else byFn.set(c.fn, [c]);
    }
    const reported = new Set<TrainableFlip>();
    for (const [fn, events] of byFn) {
      const compiled = new Set(events.filter((e) => e.kind === 'compile').map((e) => e.receiver));
      for (const fit of events) {
        if (fit.kind !== 'fit') continue;
        const compile = last(events.filter((e) => e.kind === 'compile' && e.receiver === fit.receiver && e.stmt.s < fit.stmt.s));
        if (!compile) continue;
        const related = relatedNames(m, fit.receiver);
        const flips = m.keras.flips.filter((f) => f.fn === fn && f.stmt.s > compile.stmt.e && f.stmt.s < fit.stmt.s && !reported.has(f) && (compiled.size === 1 || touches(f, related)));
        for (const f of flips) {
          const fitBefore = events.some((e) => e.kind === 'fit' && e.receiver === fit.receiver && e.stmt.s > compile.stmt.e && e.stmt.s < f.stmt.s);
          if (!fitBefore && !compileAtCompile) continue;
          reported.add(f);
          out.push(finding(m, f, compile, fit, fitBefore));
          break; // one finding per fit: the first ignored flip
        }
      }
    }
    return out;
  },
};

function last<T>(xs: readonly T[]): T | undefined {
  return xs[xs.length - 1];
}

/** The compiled model plus the models it is built from. */
function relatedNames(m: ScriptModel, receiver: string): Set<string> {
  const out = new Set([receiver]);
  const model = m.keras.models.find((x) => x.name === receiver);
  for (const n of model?.builtFrom ?? []) out.add(n);
  for (const n of model?.sharesLayersOf ?? []) out.add(n);
  return out;
}

function touches(f: TrainableFlip, names: Set<string>): boolean {
  const root = rootName(f.object);
  if (root && names.has(root)) return true;
  return f.loopModel !== null && names.has(f.loopModel.split('.')[0]!);
}

function rootName(e: TrainableFlip['object']): string | null {
  let x = e;
  for (;;) {
    if (x.k === 'name') return x.name;
    if (x.k === 'attr') x = x.object;
    else if (x.k === 'subscript') x = x.value;
    else if (x.k === 'call') x = x.fn;
    else return null;
  }
}

function finding(m: ScriptModel, f: TrainableFlip, compile: CompileFit, fit: CompileFit, fitBefore: boolean): ScriptFinding {
  const compileText = m.text(compile.stmt.type === 'expression_statement' ? compile.stmt : compile.call);
  const reindented = compileText.split('\n').map((l, i) => (i === 0 ? l : l.startsWith(compile.stmt.indent) ? l.slice(compile.stmt.indent.length) : l.trimStart()));
  const fixes: ScriptFix[] = [];
  if (fit.stmt.type === 'expression_statement') {
    fixes.push({ title: `Recompile ${fit.receiver} before ${fit.method}() so the change takes effect`, isPreferred: true, edits: [insertLinesBefore(m, fit.stmt, reindented)] });
  }
  const compileLine = m.lines.positionAt(compile.call.s).line + 1;
  const why = fitBefore
    ? `${fit.receiver} was compiled (line ${compileLine}) and already trained, so its train function keeps the old trainable weights`
    : `${fit.receiver} was compiled on line ${compileLine}; with standalone Keras 2 / TF1 tf.keras the trainable weights are collected by compile()`;
  return {
    code: 'trainable-after-compile',
    severity: 'error',
    message: `This change of trainable is ignored by ${fit.receiver}.${fit.method}(): ${why}. Call compile() again after changing trainable.`,
    range: m.range(f.stmt.s, f.stmt.e),
    related: [
      { range: m.range(compile.call.s, compile.call.e), message: 'compiled here' },
      { range: m.range(fit.call.s, fit.call.e), message: 'trains without recompiling' },
    ],
    fixes,
  };
}
