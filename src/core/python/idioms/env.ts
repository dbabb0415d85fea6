// Name bindings: which assignment gave a name its value at a point of the script. Python scoping, roughly:
// the function's own assignments before the use, else the module's (the last one before the use, else any).
import { type Expr, dottedName } from '../syntax';
import { type Fact, type StmtInfo, ctxFunction } from './collect';

export interface Binding {
  readonly name: string;
  readonly value: Expr;
  readonly op: string;
  readonly stmt: StmtInfo;
  readonly fn: string;
}

export class Bindings {
  private readonly byName = new Map<string, Binding[]>();
  /** `x.extend(...)`, `x.append(...)`, `x += ...` per name. */
  private readonly growth = new Map<string, { value: Expr; stmt: StmtInfo; fn: string; how: 'extend' | 'append' | '+=' }[]>();

  constructor(facts: readonly Fact[]) {
    for (const f of facts) {
      if (f.kind === 'assign') {
        const fn = ctxFunction(f.stmt.ctx);
        for (const t of f.targets) {
          // names, and attribute chains (`self.var_list = []`) keyed by their dotted text
          const key = t.k === 'name' ? t.name : t.k === 'attr' ? dottedName(t) : null;
          if (key === null) continue;
          if (f.op === '+=') this.addGrowth(key, { value: f.value, stmt: f.stmt, fn, how: '+=' });
          else if (f.op === '=') this.add({ name: key, value: f.value, op: f.op, stmt: f.stmt, fn });
        }
        // tuple unpacking `a, b = x` binds a and b to unknown values: record them as opaque
        for (const t of f.targets) {
          if (t.k === 'list') for (const it of t.items) if (it.k === 'name') this.add({ name: it.name, value: { k: 'other', s: f.value.s, e: f.value.e, type: 'unpacked' }, op: '=', stmt: f.stmt, fn });
        }
      } else if (f.kind === 'call' && f.role === 'stmt') {
        const c = f.call;
        const owner = c.fn.k === 'attr' ? dottedName(c.fn.object) : null;
        if (c.fn.k === 'attr' && owner !== null && (c.fn.attr === 'extend' || c.fn.attr === 'append') && c.args[0]) {
          this.addGrowth(owner, { value: c.args[0], stmt: f.stmt, fn: ctxFunction(f.stmt.ctx), how: c.fn.attr });
        }
      }
    }
  }

  private add(b: Binding): void {
    const list = this.byName.get(b.name);
    if (list) list.push(b);
    else this.byName.set(b.name, [b]);
  }

  private addGrowth(name: string, g: { value: Expr; stmt: StmtInfo; fn: string; how: 'extend' | 'append' | '+=' }): void {
    const list = this.growth.get(name);
    if (list) list.push(g);
    else this.growth.set(name, [g]);
  }

  /** The binding of `name` visible at offset `at` inside function `fn`. */
  lookup(name: string, at: number, fn: string): Binding | null {
    const list = this.byName.get(name);
    if (!list) return null;
    const inScope = (f: string) => list.filter((b) => b.fn === f);
    const own = inScope(fn);
    const before = own.filter((b) => b.stmt.s < at);
    if (before.length > 0) return before[before.length - 1]!;
    if (own.length > 0 && fn !== '') return null; // assigned later in this function: a local we cannot see yet
    // enclosing functions, then the module
    const parts = fn === '' ? [] : fn.split('.');
    for (let i = parts.length - 1; i >= 0; i--) {
      const outer = inScope(parts.slice(0, i).join('.'));
      if (outer.length > 0) {
        const ob = outer.filter((b) => b.stmt.s < at);
        return ob.length > 0 ? ob[ob.length - 1]! : outer[outer.length - 1]!;
      }
    }
    return null;
  }

  growthOf(name: string, fn: string): { value: Expr; stmt: StmtInfo; how: 'extend' | 'append' | '+=' }[] {
    return (this.growth.get(name) ?? []).filter((g) => g.fn === fn || fn.startsWith(g.fn));
  }

  all(name: string): readonly Binding[] {
    return this.byName.get(name) ?? [];
  }
}
