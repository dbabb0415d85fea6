// A freeze/train pattern that selects nothing: a typo, or a pattern written for the other naming (TF1
// variable names vs Keras layer paths).
import type { Finding } from '../types';
import { compilePattern } from '../patterns';
import { matchesLayers } from '../selection';
import type { FindingRule } from './rule';

export const patternMatchesNothing: FindingRule = (p) => {
  const onLayers = matchesLayers(p.model, p.runtime);
  const target = onLayers ? 'layer paths' : 'variable names';
  return p.selection.patterns
    .filter(({ match }) => !match.error && match.variables.length === 0 && match.layers.length === 0)
    .map(({ ref }): Finding => {
      const compiled = compilePattern(ref.pattern, p.config.patternSyntax);
      let hint = '';
      if (compiled.ok) {
        // Written for the other naming? Keras variable names / TF1 scopes are the usual mix-up.
        const other = onLayers ? p.index.modelVariables.find((v) => compiled.pattern.test(v.name))?.name : undefined;
        if (other) hint = ` It would match the variable name "${other}", but with runtime ${p.runtime} patterns select layer paths (e.g. "${p.model.layers.find((l) => l.parent !== null)?.path ?? ''}").`;
      }
      const examples = onLayers
        ? p.model.layers.filter((l) => l.parent !== null).slice(0, 3).map((l) => `"${l.path}"`)
        : p.index.modelVariables.slice(0, 3).map((v) => `"${v.name}"`);
      return {
        code: 'pattern-matches-nothing',
        severity: 'warning',
        message: `${ref.list} pattern "${ref.pattern}" (${p.config.patternSyntax}) matches none of the model's ${target}${examples.length ? ` (such as ${examples.join(', ')})` : ''}.${hint}`,
        target: { kind: 'pattern', name: ref.pattern },
        fixes: [{ title: `Remove the pattern "${ref.pattern}"`, isPreferred: true, edits: [{ kind: 'remove', path: [ref.list, ref.index] }] }],
        configPath: [ref.list, ref.index],
      };
    });
};
