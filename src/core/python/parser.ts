// Python parsing with tree-sitter (web-tree-sitter + the tree-sitter-python grammar, both WebAssembly).
// Loaded lazily on first use and shared: nothing of it runs until a script is parsed. Trees are parsed
// from JS strings, so every index and column is a UTF-16 code unit, exactly VS Code's unit.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Language, Parser, Tree } from 'web-tree-sitter';
import { FreezeInspectorError } from '../io/errors';
import { LineIndex } from './text';
import type { Range } from './types';

/** A script could not be parsed at all (the grammar could not be loaded). Malformed Python is never an error. */
export class ScriptError extends FreezeInspectorError {
  readonly domain = 'script' as const;
  override readonly name = 'ScriptError';
}

export type WasmFile = 'web-tree-sitter.wasm' | 'tree-sitter-python.wasm';

const PACKAGE_OF: Record<WasmFile, string> = {
  'web-tree-sitter.wasm': 'web-tree-sitter',
  'tree-sitter-python.wasm': 'tree-sitter-python',
};

/**
 * Finds a grammar/runtime .wasm file. The bundles (dist/extension.js, dist/cli.js) find the copies esbuild
 * puts next to them (`__dirname`); tests and `tsx` runs find them in node_modules. Tried in order:
 * $FREEZE_INSPECTOR_WASM_DIR, the bundle's folder, Node resolution of the package, then every
 * node_modules/<package>/ and dist/ above this file. Returns the candidates tried when none exists.
 */
export function locateWasm(file: WasmFile, from: string = __dirname): { path: string } | { path: null; tried: string[] } {
  const tried: string[] = [];
  const check = (p: string): boolean => {
    tried.push(p);
    return existsSync(p);
  };
  const envDir = process.env['FREEZE_INSPECTOR_WASM_DIR'];
  if (envDir && check(path.join(envDir, file))) return { path: path.join(envDir, file) };
  if (check(path.join(from, file))) return { path: path.join(from, file) };
  try {
    const resolved = require.resolve(`${PACKAGE_OF[file]}/${file}`, { paths: [from] });
    if (check(resolved)) return { path: resolved };
  } catch {
    // not resolvable from here (a packaged extension ships no node_modules): keep looking
  }
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const inModules = path.join(dir, 'node_modules', PACKAGE_OF[file], file);
    if (check(inModules)) return { path: inModules };
    const inDist = path.join(dir, 'dist', file);
    if (check(inDist)) return { path: inDist };
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return { path: null, tried };
}

interface Loaded {
  readonly parser: Parser;
  readonly language: Language;
}

let loading: Promise<Loaded> | null = null;

/** Loads web-tree-sitter and the Python grammar once. Throws ScriptError when a .wasm is missing. */
export function loadPython(): Promise<Loaded> {
  if (!loading) {
    loading = doLoad().catch((e) => {
      loading = null; // let a later call retry (e.g. after the files were restored)
      throw e;
    });
  }
  return loading;
}

async function doLoad(): Promise<Loaded> {
  const runtime = locateWasm('web-tree-sitter.wasm');
  const grammar = locateWasm('tree-sitter-python.wasm');
  for (const [name, r] of [['web-tree-sitter.wasm', runtime], ['tree-sitter-python.wasm', grammar]] as const) {
    if (r.path === null) throw new ScriptError(name, 'missing-wasm', `not found (looked in ${r.tried.join(', ')})`);
  }
  try {
    const ts = await import('web-tree-sitter');
    await ts.Parser.init({ locateFile: () => runtime.path as string });
    const language = await ts.Language.load(grammar.path as string);
    const parser = new ts.Parser();
    parser.setLanguage(language);
    return { parser, language };
  } catch (e) {
    throw new ScriptError(grammar.path ?? '', 'load-failed', `could not load the Python grammar: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/** A change as VS Code reports it (TextDocumentContentChangeEvent): replace `range` by `text`. */
export interface TextChange {
  readonly range: Range;
  readonly text: string;
}

/**
 * A parsed script that follows edits: `applyChanges` edits the tree and re-parses incrementally, reusing
 * every unchanged subtree. Call `dispose()` when the document closes (trees live in WebAssembly memory).
 */
export class PythonScript {
  private _tree: Tree;
  private _lines: LineIndex | null = null;
  private _version = 0;

  private constructor(
    private readonly parser: Parser,
    private _text: string,
    tree: Tree,
  ) {
    this._tree = tree;
  }

  static async parse(text: string): Promise<PythonScript> {
    const { parser } = await loadPython();
    return new PythonScript(parser, text, parseOrThrow(parser, text, null));
  }

  get text(): string {
    return this._text;
  }
  get tree(): Tree {
    return this._tree;
  }
  /** Bumped by every change; analyses cache on it. */
  get version(): number {
    return this._version;
  }
  get lines(): LineIndex {
    return (this._lines ??= new LineIndex(this._text));
  }

  /** Applies changes in order (each in the coordinates left by the previous one), then re-parses incrementally. */
  applyChanges(changes: readonly TextChange[]): void {
    if (changes.length === 0) return;
    let text = this._text;
    let lines = this.lines;
    for (const c of changes) {
      const startIndex = lines.offsetAt(c.range.start);
      const oldEndIndex = Math.max(startIndex, lines.offsetAt(c.range.end));
      const startPosition = lines.positionAt(startIndex);
      const oldEndPosition = lines.positionAt(oldEndIndex);
      text = text.slice(0, startIndex) + c.text + text.slice(oldEndIndex);
      const lastBreak = c.text.lastIndexOf('\n');
      const newEndPosition =
        lastBreak === -1
          ? { row: startPosition.line, column: startPosition.character + c.text.length }
          : { row: startPosition.line + countLineBreaks(c.text), column: c.text.length - lastBreak - 1 };
      this._tree.edit({
        startIndex,
        oldEndIndex,
        newEndIndex: startIndex + c.text.length,
        startPosition: { row: startPosition.line, column: startPosition.character },
        oldEndPosition: { row: oldEndPosition.line, column: oldEndPosition.character },
        newEndPosition,
      } as Parameters<Tree['edit']>[0]);
      lines = new LineIndex(text);
    }
    const old = this._tree;
    this._tree = parseOrThrow(this.parser, text, old);
    old.delete();
    this._text = text;
    this._lines = lines;
    this._version++;
  }

  /** Replaces the whole text (full parse). */
  setText(text: string): void {
    const old = this._tree;
    this._tree = parseOrThrow(this.parser, text, null);
    old.delete();
    this._text = text;
    this._lines = null;
    this._version++;
  }

  dispose(): void {
    this._tree.delete();
  }
}

function countLineBreaks(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function parseOrThrow(parser: Parser, text: string, old: Tree | null): Tree {
  const tree = parser.parse(text, old);
  if (!tree) throw new ScriptError('', 'parse-failed', 'tree-sitter returned no tree');
  return tree;
}

/** Parses a whole script (convenience for the CLI and tests). */
export function parsePython(text: string): Promise<PythonScript> {
  return PythonScript.parse(text);
}
