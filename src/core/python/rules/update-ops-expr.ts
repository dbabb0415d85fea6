// Builds the Python expression that selects the UPDATE_OPS of the variables a selector trains, mirroring
// how the selector itself selects (scope / filter_variables patterns / startswith / substring).
import type { ScriptModel } from '../idioms';
import type { Selector } from '../idioms/selectors';
import { pyStr } from './edits';

export function updateOpsExpression(m: ScriptModel, sel: Selector): string | null {
  const tf = m.names.tfSpelling();
  const all = `${tf}.get_collection(${tf}.GraphKeys.UPDATE_OPS)`;
  const list = (xs: readonly string[]) => `[${xs.map(pyStr).join(', ')}]`;
  const scopes = matchScopes(sel);
  if (scopes) {
    const joined = scopes.length === 1 ? scopes[0]! : scopes.map((s) => (/^[\w/.-]*$/.test(s) ? s : `(?:${s})`)).join('|');
    return `${tf}.get_collection(${tf}.GraphKeys.UPDATE_OPS, scope=${pyStr(joined)})`;
  }
  if (sel.kind !== 'patterns' || sel.base.kind !== 'all') return null;
  switch (sel.how) {
    case 'search': {
      const callee = sel.calleeText ?? `${tf}.contrib.framework.filter_variables`;
      const args = [all];
      if (sel.include) args.push(`include_patterns=${list(sel.include)}`);
      if (sel.exclude.length > 0) args.push(`exclude_patterns=${list(sel.exclude)}`);
      return `${callee}(${args.join(', ')})`;
    }
    case 'prefix': {
      const conds: string[] = [];
      if (sel.include) conds.push(`op.name.startswith((${sel.include.map(pyStr).join(', ')},))`);
      if (sel.exclude.length > 0) conds.push(`not op.name.startswith((${sel.exclude.map(pyStr).join(', ')},))`);
      return `[op for op in ${all} if ${conds.join(' and ')}]`;
    }
    case 'substring': {
      const conds: string[] = [];
      if (sel.include) conds.push(`any(p in op.name for p in ${list(sel.include)})`);
      if (sel.exclude.length > 0) conds.push(`not any(p in op.name for p in ${list(sel.exclude)})`);
      return `[op for op in ${all} if ${conds.join(' and ')}]`;
    }
    case 'match':
      return null;
  }
}

/** Scopes when the selector is a union of `scope=` selections (re.match), else null. */
function matchScopes(sel: Selector): string[] | null {
  if (sel.kind === 'patterns' && sel.how === 'match' && sel.include && sel.exclude.length === 0 && sel.base.kind === 'all') return [...sel.include];
  if (sel.kind === 'union') {
    const out: string[] = [];
    for (const p of sel.parts) {
      const s = matchScopes(p);
      if (!s) return null;
      out.push(...s);
    }
    return out;
  }
  return null;
}
