// Text-edit builders shared by the rules' quick-fixes. All offsets are UTF-16 offsets into the script.
import type { StmtInfo } from '../idioms/collect';
import type { ScriptModel } from '../idioms';
import type { CallExpr, Kwarg } from '../syntax';
import type { TextEdit } from '../types';

export function replace(m: ScriptModel, s: number, e: number, newText: string): TextEdit {
  return { range: m.range(s, e), newText };
}

/** Adds `name=value` as the last argument of a call (keeps a trailing comma / multi-line layout sane). */
export function addKeywordArgument(m: ScriptModel, call: CallExpr, name: string, value: string): TextEdit {
  const inner = m.src.slice(call.argsS + 1, call.argsE - 1);
  const closeAt = call.argsE - 1;
  const trimmed = inner.replace(/\s+$/, '');
  if (trimmed.length === 0) return replace(m, call.argsS + 1, closeAt, `${name}=${value}`);
  const endOfLast = call.argsS + 1 + trimmed.length;
  if (trimmed.endsWith(',')) {
    // `f(a, b,\n)`: add after the trailing comma, on the same layout
    const multiLine = inner.slice(trimmed.length).includes('\n');
    if (multiLine) {
      const lastLineIndent = /\n([ \t]*)[^\n]*$/.exec(m.src.slice(call.argsS, endOfLast))?.[1] ?? '    ';
      return replace(m, endOfLast, endOfLast, `\n${lastLineIndent}${name}=${value},`);
    }
    return replace(m, endOfLast, endOfLast, ` ${name}=${value},`);
  }
  return replace(m, endOfLast, endOfLast, `, ${name}=${value}`);
}

/** Sets a keyword argument: replaces the value when present, adds it otherwise. */
export function setKeywordArgument(m: ScriptModel, call: CallExpr, existing: Kwarg | null | undefined, name: string, value: string): TextEdit {
  if (existing && existing.s >= call.argsS && existing.e <= call.argsE) return replace(m, existing.value.s, existing.value.e, value);
  return addKeywordArgument(m, call, name, value);
}

/** Inserts whole lines before a statement, at the statement's indentation. */
export function insertLinesBefore(m: ScriptModel, stmt: StmtInfo, lines: readonly string[]): TextEdit {
  const lineStart = stmt.s - stmt.indent.length;
  const eol = m.src.includes('\r\n') ? '\r\n' : '\n';
  return replace(m, lineStart, lineStart, lines.map((l) => `${stmt.indent}${l}${eol}`).join(''));
}

/** Inserts whole lines after a statement (after its last line). */
export function insertLinesAfter(m: ScriptModel, stmt: StmtInfo, lines: readonly string[], indent = stmt.indent): TextEdit {
  const eol = m.src.includes('\r\n') ? '\r\n' : '\n';
  let at = m.src.indexOf('\n', stmt.e);
  if (at === -1) return replace(m, m.src.length, m.src.length, eol + lines.map((l) => `${indent}${l}`).join(eol) + eol);
  at += 1;
  return replace(m, at, at, lines.map((l) => `${indent}${l}${eol}`).join(''));
}

/** The indentation unit the script uses (4 spaces unless it indents otherwise). */
export function indentUnit(m: ScriptModel): string {
  const match = /\n([ \t]+)\S/.exec(m.src);
  if (!match) return '    ';
  const ind = match[1]!;
  if (ind.startsWith('\t')) return '\t';
  return ind.length === 2 ? '  ' : '    ';
}

/**
 * Wraps a statement into a `with` block: inserts the header lines before it and indents each of its lines
 * by one unit (lines inside a multi-line string are left alone: indenting them would change the string).
 */
export function wrapStatement(m: ScriptModel, stmt: StmtInfo, header: readonly string[]): TextEdit[] {
  const unit = indentUnit(m);
  const eol = m.src.includes('\r\n') ? '\r\n' : '\n';
  const lineStart = stmt.s - stmt.indent.length;
  // header lines and the first line's extra indent in one insertion (two inserts at one offset are ambiguous)
  const edits: TextEdit[] = [replace(m, lineStart, lineStart, header.map((l) => `${stmt.indent}${l}${eol}`).join('') + unit)];
  const first = m.lines.positionAt(stmt.s).line;
  const last = m.lines.positionAt(stmt.e).line;
  const stringSpans = tripleQuotedSpans(m.src.slice(stmt.s, stmt.e)).map(([a, b]) => [a + stmt.s, b + stmt.s] as const);
  for (let line = first + 1; line <= last; line++) {
    const off = m.lines.lineStart(line);
    if (stringSpans.some(([a, b]) => off > a && off < b)) continue;
    if (m.lines.lineText(line).trim() === '') continue;
    edits.push(replace(m, off, off, unit));
  }
  return edits;
}

function tripleQuotedSpans(text: string): [number, number][] {
  const out: [number, number][] = [];
  const re = /("""|''')/g;
  let open: number | null = null;
  let quote = '';
  for (const m of text.matchAll(re)) {
    if (open === null) {
      open = m.index!;
      quote = m[0];
    } else if (m[0] === quote) {
      out.push([open, m.index! + 3]);
      open = null;
    }
  }
  return out;
}

/** A name not yet used in the script, from a preferred one. */
export function freshName(m: ScriptModel, preferred: string): string {
  if (!new RegExp(`\\b${preferred}\\b`).test(m.src)) return preferred;
  for (let i = 2; i < 100; i++) if (!new RegExp(`\\b${preferred}_${i}\\b`).test(m.src)) return `${preferred}_${i}`;
  return `${preferred}_fi`;
}

export function pyStr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
