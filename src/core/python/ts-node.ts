// Cheap reads of tree-sitter nodes. Every `node.type` / `node.endIndex` / `childForFieldName` crosses into
// WebAssembly (the node is copied into wasm memory first); the fact walk reads the same node's type several
// times, so the type and end are kept per node object, and field names are turned into field ids once per grammar.
import type { Language, Node } from 'web-tree-sitter';

const types = new WeakMap<Node, string>();
const ends = new WeakMap<Node, number>();
const fieldIds = new WeakMap<Language, Map<string, number>>();

export function typeOf(n: Node): string {
  let t = types.get(n);
  if (t === undefined) {
    t = n.type;
    types.set(n, t);
  }
  return t;
}

export function endOf(n: Node): number {
  let e = ends.get(n);
  if (e === undefined) {
    e = n.endIndex;
    ends.set(n, e);
  }
  return e;
}

/** `n.childForFieldName(name)` without the linear search of the field name. */
export function field(n: Node, name: string): Node | null {
  const lang = n.tree.language;
  let ids = fieldIds.get(lang);
  if (!ids) {
    ids = new Map();
    lang.fields.forEach((f, i) => {
      if (f) ids!.set(f, i);
    });
    fieldIds.set(lang, ids);
  }
  const id = ids.get(name);
  return id === undefined ? null : n.childForFieldId(id);
}
