// Import aliases -> canonical dotted names, so rules match `tf.layers.batch_normalization` however the
// script spells it: `import tensorflow.compat.v1 as tf`, `from tensorflow.contrib import slim`,
// `import tf_slim as slim`, `from tensorflow.keras.layers import BatchNormalization as BN`, module-level
// `slim = tf.contrib.slim`, or `bn = functools.partial(tf.layers.batch_normalization, training=t)`.
import { type CallExpr, type Kwarg, dottedName } from '../syntax';
import type { Fact } from './collect';

/** Ordered prefix rewrites to one spelling: tf.*, slim.*, keras.* */
const PREFIXES: readonly [string, string][] = [
  ['tensorflow.compat.v1.', 'tf.'],
  ['tensorflow.compat.v2.', 'tf.'],
  ['tensorflow.python.keras.', 'keras.'],
  ['tensorflow.python.framework.ops.', 'tf.'],
  ['tensorflow.python.ops.', 'tf.'],
  ['tensorflow.keras.', 'keras.'],
  ['tensorflow.contrib.slim.', 'slim.'],
  ['tensorflow.', 'tf.'],
  ['tf.compat.v1.', 'tf.'],
  ['tf.compat.v2.', 'tf.'],
  ['tf.contrib.slim.', 'slim.'],
  ['tf.keras.', 'keras.'],
  ['tf_slim.', 'slim.'],
  ['tf_keras.', 'keras.'],
  ['keras.src.', 'keras.'],
];
const EXACT: Record<string, string> = {
  tensorflow: 'tf',
  'tensorflow.compat.v1': 'tf',
  'tf.compat.v1': 'tf',
  'tensorflow.contrib.slim': 'slim',
  'tf.contrib.slim': 'slim',
  tf_slim: 'slim',
  'tensorflow.keras': 'keras',
  'tf.keras': 'keras',
  tf_keras: 'keras',
};

export function normalizeDotted(name: string): string {
  if (EXACT[name]) return EXACT[name]!;
  for (let guard = 0; guard < 4; guard++) {
    let changed = false;
    for (const [from, to] of PREFIXES) {
      if (name.startsWith(from)) {
        name = to + name.slice(from.length);
        changed = true;
        break;
      }
    }
    if (EXACT[name]) return EXACT[name]!;
    if (!changed) break;
  }
  return name;
}

export interface PartialAlias {
  readonly target: string;
  readonly kwargs: readonly Kwarg[];
}

export class NameResolver {
  /** local name -> full dotted module path, as imported */
  private readonly aliases = new Map<string, string>();
  private readonly partials = new Map<string, PartialAlias>();
  /** Star-imported modules (canonical), e.g. 'keras.layers'. */
  readonly starModules: string[] = [];

  constructor(facts: readonly Fact[]) {
    for (const f of facts) {
      if (f.kind !== 'import') continue;
      if (f.module === null) {
        for (const n of f.names) {
          if (n.alias) this.aliases.set(n.alias, n.name);
          // `import a.b.c` binds `a`, resolvable as itself
        }
      } else {
        if (f.star) this.starModules.push(normalizeDotted(f.module));
        for (const n of f.names) this.aliases.set(n.alias ?? n.name, `${f.module}.${n.name}`);
      }
    }
    // simple aliases and functools.partial aliases, anywhere (first binding wins for determinism)
    for (const f of facts) {
      if (f.kind !== 'assign' || f.op !== '=' || f.targets.length !== 1) continue;
      const t = f.targets[0]!;
      if (t.k !== 'name') continue;
      const v = f.value;
      if (v.k === 'attr' || v.k === 'name') {
        const d = dottedName(v);
        if (!d || d === t.name) continue;
        const canon = this.canonUncached(d);
        if (canon && /^(tf|slim|keras)\./.test(canon) && !this.aliases.has(t.name)) this.aliases.set(t.name, canon);
      } else if (v.k === 'call' && v.callee && /(^|\.)partial$/.test(v.callee) && v.args[0]) {
        const d = dottedName(v.args[0]);
        const canon = d ? this.canonUncached(d) : null;
        if (canon && !this.partials.has(t.name)) this.partials.set(t.name, { target: canon, kwargs: v.kwargs });
      }
    }
  }

  private readonly canonCache = new Map<string, string>();

  /** Canonical dotted name of a dotted name as written in the script. */
  canon(dotted: string | null): string | null {
    if (!dotted) return null;
    const hit = this.canonCache.get(dotted);
    if (hit !== undefined) return hit;
    const c = this.canonUncached(dotted);
    this.canonCache.set(dotted, c);
    return c;
  }

  private canonUncached(dotted: string): string {
    const dot = dotted.indexOf('.');
    const head = dot === -1 ? dotted : dotted.slice(0, dot);
    const rest = dot === -1 ? '' : dotted.slice(dot);
    const partial = this.partials.get(head);
    if (partial && rest === '') return partial.target;
    const full = this.aliases.get(head);
    return normalizeDotted(full !== undefined ? full + rest : dotted);
  }

  /** The callee's canonical name plus keyword arguments preset by a functools.partial alias. */
  resolveCall(call: CallExpr): { name: string | null; presetKwargs: readonly Kwarg[] } {
    if (call.callee && !call.callee.includes('.')) {
      const p = this.partials.get(call.callee);
      if (p) return { name: p.target, presetKwargs: p.kwargs };
    }
    return { name: this.canon(call.callee), presetKwargs: [] };
  }

  /** The local spelling of TensorFlow's module for generated code ('tf' unless imported otherwise). */
  tfSpelling(): string {
    for (const [local, full] of this.aliases) if (full === 'tensorflow' || full === 'tensorflow.compat.v1') return local;
    return 'tf';
  }

  /** Local spelling of keras' BatchNormalization for generated code. */
  batchNormSpelling(): string {
    for (const [local, full] of this.aliases) {
      const c = normalizeDotted(full);
      if (c.endsWith('.BatchNormalization') && c.startsWith('keras.')) return local;
    }
    for (const [local, full] of this.aliases) {
      const c = normalizeDotted(full);
      if (c === 'keras.layers' || c === 'keras.layers') return `${local}.BatchNormalization`;
      if (c === 'keras') return `${local}.layers.BatchNormalization`;
    }
    if (this.starModules.some((m) => m === 'keras.layers')) return 'BatchNormalization';
    for (const [local, full] of this.aliases) if (full === 'tensorflow') return `${local}.keras.layers.BatchNormalization`;
    return 'tf.keras.layers.BatchNormalization';
  }

  isImported(local: string): boolean {
    return this.aliases.has(local);
  }
}
