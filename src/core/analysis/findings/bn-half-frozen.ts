// A pattern that cuts a BatchNorm in half: gamma frozen and beta trained (or the reverse). Usually a
// pattern matching more than meant (re.search 'B' also matches 'BatchNorm/beta').
import type { Finding } from '../types';
import { addPatterns } from '../fixes';
import { patternFor } from '../patterns';
import { unfreezeGammaBetaFix } from './unfreeze-gamma-beta';
import type { FindingRule } from './rule';

export const bnHalfFrozen: FindingRule = (p) =>
  p.batchNorms
    .filter((a) => a.outcome.gammaTrained !== null && a.outcome.betaTrained !== null && a.outcome.gammaTrained !== a.outcome.betaTrained)
    .map((a): Finding => {
      const frozenSlot = a.outcome.gammaTrained ? 'beta' : 'gamma';
      const by = (frozenSlot === 'gamma' ? a.facts.gamma : a.facts.beta)?.by ?? null;
      const unfreeze = unfreezeGammaBetaFix(p, a);
      const freezeScope = patternFor(a.bn.layer, p.config.patternSyntax, p.runtime === 'tf1-graph');
      return {
        code: 'bn-half-frozen',
        severity: 'warning',
        message: `${a.bn.layer}: ${frozenSlot} is frozen${by ? ` by ${by.list} pattern "${by.pattern}"` : ''} but ${frozenSlot === 'gamma' ? 'beta' : 'gamma'} trains: the pattern cuts this BatchNorm in half.`,
        target: { kind: 'layer', name: a.bn.layer },
        fixes: [
          { title: `Freeze all of "${a.bn.layer}" (add "${freezeScope}")`, isPreferred: true, edits: addPatterns(p.config, 'freeze', [freezeScope]) },
          ...(unfreeze ? [{ ...unfreeze, title: `Train both gamma and beta of "${a.bn.layer}"` }] : []),
        ],
        ...(by ? { configPath: [by.list, by.index] } : {}),
      };
    });
