// Offsets <-> positions in UTF-16 code units: the unit of JavaScript strings, of VS Code positions and of
// tree-sitter trees parsed from a JS string (web-tree-sitter reads such strings as UTF-16). Lines end at
// '\n' (a '\r' before it stays on its line), as in tree-sitter's rows.
import type { Position, Range, TextEdit } from './types';

export class LineIndex {
  private readonly starts: number[];
  constructor(readonly text: string) {
    const starts = [0];
    let i = text.indexOf('\n');
    while (i !== -1) {
      starts.push(i + 1);
      i = text.indexOf('\n', i + 1);
    }
    this.starts = starts;
  }

  get lineCount(): number {
    return this.starts.length;
  }

  lineStart(line: number): number {
    return this.starts[Math.max(0, Math.min(line, this.starts.length - 1))]!;
  }

  /** The line's text without its line break. */
  lineText(line: number): string {
    const s = this.lineStart(line);
    const next = line + 1 < this.starts.length ? this.starts[line + 1]! - 1 : this.text.length;
    let e = next;
    if (e > s && this.text.charCodeAt(e - 1) === 13) e--;
    return this.text.slice(s, e);
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  /** Clamps like VS Code: a character past the end of its line lands at the line's end. */
  offsetAt(pos: Position): number {
    if (pos.line < 0) return 0;
    if (pos.line >= this.starts.length) return this.text.length;
    const s = this.starts[pos.line]!;
    const lineEnd = pos.line + 1 < this.starts.length ? this.starts[pos.line + 1]! - 1 : this.text.length;
    return Math.max(s, Math.min(s + pos.character, lineEnd));
  }
}

export function range(startLine: number, startChar: number, endLine: number, endChar: number): Range {
  return { start: { line: startLine, character: startChar }, end: { line: endLine, character: endChar } };
}

export function comparePositions(a: Position, b: Position): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

export function containsPosition(r: Range, p: Position): boolean {
  return comparePositions(r.start, p) <= 0 && comparePositions(p, r.end) <= 0;
}

/** Applies non-overlapping edits (any order) to a text. Used by tests and by the CLI's --fix preview. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const idx = new LineIndex(text);
  const resolved = edits
    .map((e) => ({ start: idx.offsetAt(e.range.start), end: idx.offsetAt(e.range.end), text: e.newText }))
    .sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  let last = Infinity;
  for (const e of resolved) {
    if (e.end > last) throw new Error('overlapping edits');
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    last = e.start;
  }
  return out;
}
