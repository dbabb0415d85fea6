// Freeze/train patterns. Users write them as they would in Python (tf.contrib.framework.filter_variables
// searches with `re.search`; `scope=` selects by prefix; fnmatch for globs), so the regex dialect is
// Python's: the few constructs JavaScript spells differently are translated, the rest are rejected with a
// message rather than silently meaning something else.
import type { PatternSyntax } from './types';

export interface CompiledPattern {
  readonly source: string;
  readonly syntax: PatternSyntax;
  test(target: string): boolean;
}

export type CompileResult = { readonly ok: true; readonly pattern: CompiledPattern } | { readonly ok: false; readonly error: string };

export function compilePattern(source: string, syntax: PatternSyntax): CompileResult {
  switch (syntax) {
    case 'prefix':
      return { ok: true, pattern: { source, syntax, test: (t) => t.startsWith(source) } };
    case 'glob': {
      const re = new RegExp(globToRegexSource(source), 's');
      return { ok: true, pattern: { source, syntax, test: (t) => re.test(t) } };
    }
    case 'regex': {
      const translated = pythonRegexToJs(source);
      if (!translated.ok) return translated;
      let re: RegExp;
      try {
        re = new RegExp(translated.source, translated.flags);
      } catch (e) {
        return { ok: false, error: `invalid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}` };
      }
      return { ok: true, pattern: { source, syntax, test: (t) => re.test(t) } };
    }
  }
}

/** Python `re` syntax to a JavaScript RegExp source + flags (re.search semantics: unanchored test). */
export function pythonRegexToJs(source: string): { ok: true; source: string; flags: string } | { ok: false; error: string } {
  let flags = '';
  let s = source;
  // Global inline flags at the start, e.g. (?i) or (?is).
  const inline = /^\(\?([aiLmsux]+)\)/.exec(s);
  if (inline) {
    for (const f of inline[1]!) {
      if (f === 'i' || f === 's' || f === 'm') {
        if (!flags.includes(f)) flags += f;
      } else if (f !== 'u' && f !== 'a') {
        return { ok: false, error: `inline flag (?${f}) is not supported` };
      }
    }
    s = s.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) return { ok: false, error: 'pattern ends with a lone backslash' };
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'Z') out += '$'; // JS '$' without the m flag is Python's \Z
      else out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in Python.
      if (s[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (s[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && s[i + 1] === '?') {
      if (s.startsWith('(?P<', i)) {
        out += '(?<';
        i += 3;
        continue;
      }
      const backref = /^\(\?P=(\w+)\)/.exec(s.slice(i));
      if (backref) {
        out += `\\k<${backref[1]}>`;
        i += backref[0].length - 1;
        continue;
      }
      if (/^\(\?[aiLmsux-]+[:)]/.test(s.slice(i))) return { ok: false, error: 'inline flags are only supported at the start of the pattern' };
      if (s.startsWith('(?#', i)) return { ok: false, error: 'comments (?#...) are not supported' };
    }
    out += c;
  }
  if (inClass) return { ok: false, error: 'unterminated character set "["' };
  return { ok: true, source: out, flags };
}

/** fnmatch.translate: whole-string match, `*` crosses '/', `[!x]` negates, a lone '[' is literal. */
export function globToRegexSource(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      out += '.*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) out += '\\[';
      else {
        let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        out += `[${body}]`;
        i = j;
      }
    } else out += escapeRegex(c);
  }
  return out + '$';
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function escapeGlob(s: string): string {
  return s.replace(/[*?[]/g, (m) => `[${m}]`);
}

/**
 * A pattern that selects exactly `name` (Keras layer path / TF1 variable name) or, with `scope`, everything
 * under `name/`. Prefix syntax cannot be exact: 'base/bn1' also selects 'base/bn10'.
 */
export function patternFor(name: string, syntax: PatternSyntax, scope: boolean): string {
  switch (syntax) {
    case 'regex':
      return scope ? `^${escapeRegex(name)}/` : `^${escapeRegex(name)}$`;
    case 'prefix':
      return scope ? `${name}/` : name;
    case 'glob':
      return scope ? `${escapeGlob(name)}/*` : escapeGlob(name);
  }
}
