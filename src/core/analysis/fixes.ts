// Fixes are structured edits of the config (JSON path + value) so the editor can apply them as quick-fixes
// and the CLI can print them. configEditsToTextEdits turns them into text edits with jsonc-parser, keeping
// the file's comments and indentation.
import { applyEdits, modify, parseTree, findNodeAtLocation, type FormattingOptions } from 'jsonc-parser';
import type { ConfigEdit, FreezeConfig, PatternSyntax, TextEdit, UpdateOpsSetting } from './types';
import { escapeRegex, patternFor } from './patterns';
import { scopeChain } from './model-index';

export function setEdit(path: (string | number)[], value: unknown): ConfigEdit {
  return { kind: 'set', path, value };
}

/** Appends patterns to `freeze`/`train` (creating the list when the config has none). */
export function addPatterns(config: FreezeConfig, list: 'freeze' | 'train', patterns: readonly string[]): ConfigEdit[] {
  const current = list === 'freeze' ? config.freeze : (config.train ?? []);
  const fresh = patterns.filter((p, i) => !current.includes(p) && patterns.indexOf(p) === i);
  if (fresh.length === 0) return [];
  if (current.length === 0) return [setEdit([list], fresh)];
  return fresh.map((p, i) => ({ kind: 'insert', path: [list, current.length + i], value: p }));
}

export function trainingOverrideEdits(scopes: readonly string[], value: boolean): ConfigEdit[] {
  return scopes.map((s) => setEdit(['trainingOverrides', s], value));
}

export function updateOpsEdit(value: UpdateOpsSetting): ConfigEdit {
  return setEdit(['updateOps'], typeof value === 'string' ? value : { scopes: [...value.scopes] });
}

/** The update-op scope regex for a TF1 scope, as tf.get_collection(UPDATE_OPS, scope) reads it (re.match). */
export function updateScopeFor(scope: string): string {
  return `${escapeRegex(scope)}/`;
}

/**
 * The shortest scopes that cover every `target` and no other member of `all` ('A/batch_normalization' ->
 * 'A' when A holds no other layer of `all`). Names are '/'-separated layer paths or TF1 scopes.
 */
export function coverScopes(targets: readonly string[], all: readonly string[]): string[] {
  const targetSet = new Set(targets);
  const others = all.filter((a) => !targetSet.has(a));
  const under = (scope: string, name: string) => name === scope || name.startsWith(`${scope}/`);
  const out = new Set<string>();
  for (const t of targets) {
    const chain = scopeChain(t).reverse(); // shortest first
    const scope = chain.find((s) => !others.some((o) => under(s, o))) ?? t;
    out.add(scope);
  }
  // Drop scopes already covered by a shorter one.
  const list = [...out].sort((a, b) => a.length - b.length);
  return list.filter((s, i) => !list.slice(0, i).some((p) => under(p, s)));
}

/**
 * A freeze pattern that still selects what `pattern` selects except the variables named in `keep` (TF1
 * gamma/beta to unfreeze). Regex: a lookahead at the start keeps re.search semantics in Python and JS.
 * Prefix/glob cannot exclude, so they become the explicit list of the other matched names.
 */
export function patternsExcluding(pattern: string, syntax: PatternSyntax, matchedNames: readonly string[], keep: readonly string[]): string[] {
  if (syntax === 'regex') {
    const names = keep.map((k) => escapeRegex(k)).join('|');
    return [`^(?!(?:${names})$).*?(?:${pattern})`];
  }
  return matchedNames.filter((n) => !keep.includes(n)).map((n) => patternFor(n, syntax, false));
}

/** Applies structured edits in order (each path refers to the text after the previous edit). */
export function applyConfigEdits(text: string, edits: readonly ConfigEdit[]): string {
  const formattingOptions = detectFormatting(text);
  let out = text;
  for (const e of edits) {
    const path = [...e.path];
    if (e.kind === 'remove') {
      out = applyEdits(out, modify(out, path, undefined, { formattingOptions }));
    } else if (e.kind === 'insert') {
      const root = parseTree(out);
      const parent = root ? findNodeAtLocation(root, path.slice(0, -1)) : undefined;
      if (!parent) {
        // No array yet: create it holding the value.
        out = applyEdits(out, modify(out, path.slice(0, -1), [e.value], { formattingOptions }));
      } else {
        const at = Math.min(Number(path[path.length - 1]), parent.children?.length ?? 0);
        out = applyEdits(out, modify(out, [...path.slice(0, -1), at], e.value, { formattingOptions, isArrayInsertion: true }));
      }
    } else {
      out = applyEdits(out, modify(out, path, e.value, { formattingOptions }));
    }
  }
  return out;
}

/** The edits as text edits against the original text (one replacement spanning what changed, or none). */
export function configEditsToTextEdits(text: string, edits: readonly ConfigEdit[]): TextEdit[] {
  const after = applyConfigEdits(text, edits);
  if (after === text) return [];
  let start = 0;
  while (start < text.length && start < after.length && text[start] === after[start]) start++;
  let endOld = text.length;
  let endNew = after.length;
  while (endOld > start && endNew > start && text[endOld - 1] === after[endNew - 1]) {
    endOld--;
    endNew--;
  }
  return [{ offset: start, length: endOld - start, newText: after.slice(start, endNew) }];
}

function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indents = [...text.matchAll(/\n([ \t]+)\S/g)].map((m) => m[1]!);
  if (indents.some((i) => i.startsWith('\t'))) return { insertSpaces: false, tabSize: 1, eol };
  const sizes = indents.map((i) => i.length).filter((n) => n > 0);
  const tabSize = sizes.length ? Math.min(...sizes) : 2;
  return { insertSpaces: true, tabSize, eol };
}
