// Keras idioms: base models (keras.applications, load_model, hub), `.trainable` flips (single, loops over
// layers with isinstance guards), models called with training=, BatchNormalization(trainable=False), and
// compile()/fit() calls in order.
import { type CallExpr, type Expr, dottedName, kwarg, mentionsName, strValue, visitExpr } from '../syntax';
import { type CtxEntry, type Fact, type StmtInfo, ctxEntries, ctxFunction } from './collect';
import type { NameResolver } from './names';

/** keras.applications constructors and whether the architecture contains BatchNormalization. */
const APPLICATIONS: Record<string, boolean> = {
  ResNet50: true, ResNet101: true, ResNet152: true, ResNet50V2: true, ResNet101V2: true, ResNet152V2: true,
  ResNetRS50: true, ResNetRS101: true, ResNetRS152: true, ResNetRS200: true, ResNetRS270: true, ResNetRS350: true, ResNetRS420: true,
  InceptionV3: true, InceptionResNetV2: true, Xception: true,
  MobileNet: true, MobileNetV2: true, MobileNetV3Small: true, MobileNetV3Large: true,
  DenseNet121: true, DenseNet169: true, DenseNet201: true,
  NASNetMobile: true, NASNetLarge: true,
  EfficientNetB0: true, EfficientNetB1: true, EfficientNetB2: true, EfficientNetB3: true, EfficientNetB4: true, EfficientNetB5: true, EfficientNetB6: true, EfficientNetB7: true,
  EfficientNetV2B0: true, EfficientNetV2B1: true, EfficientNetV2B2: true, EfficientNetV2B3: true, EfficientNetV2S: true, EfficientNetV2M: true, EfficientNetV2L: true,
  RegNetX002: true, RegNetY002: true,
  VGG16: false, VGG19: false,
  ConvNeXtTiny: false, ConvNeXtSmall: false, ConvNeXtBase: false, ConvNeXtLarge: false, ConvNeXtXLarge: false,
};

export interface KerasModelVar {
  readonly name: string;
  readonly fn: string;
  readonly kind: 'application' | 'loaded' | 'functional' | 'sequential' | 'hub';
  /** 'ResNet50'..., or the loaded path. */
  readonly detail: string | null;
  /** Contains BatchNormalization: known for applications; null when unknown. */
  readonly hasBatchNorm: boolean | null;
  readonly stmt: StmtInfo;
  readonly call: CallExpr;
  /** Names of other model variables this one is built from (`Model(base.input, ...)`, `Sequential([base, ...])`). */
  readonly builtFrom: readonly string[];
  /** `Model(inputs=base.input, ...)`: the base's layers are this model's own layers (not nested). */
  readonly sharesLayersOf: readonly string[];
}

export interface TrainableFlip {
  readonly stmt: StmtInfo;
  /** The object whose `.trainable` is set. */
  readonly object: Expr;
  readonly objectText: string;
  /** True / False literal; null when computed. */
  readonly value: boolean | null;
  readonly valueExpr: Expr;
  /** The innermost enclosing loop, when any. */
  readonly loop: { readonly targets: readonly string[]; readonly iter: Expr; readonly iterText: string; readonly s: number; readonly e: number; readonly end: number } | null;
  /** The model variable whose layers the loop walks (`base.layers[:N]` -> 'base'), when known. */
  readonly loopModel: string | null;
  /** Guard on BatchNormalization: 'only-bn' under `if isinstance(x, BatchNormalization)`, 'not-bn' under its negation. */
  readonly bnGuard: 'only-bn' | 'not-bn' | null;
  /** The object is the loop variable (or an expression of it). */
  readonly onLoopVar: boolean;
  readonly fn: string;
}

export interface ModelCall {
  readonly model: string;
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  /** The training= argument, when given. */
  readonly training: Expr | undefined;
  readonly fn: string;
}

export interface CompileFit {
  readonly kind: 'compile' | 'fit';
  /** 'fit', 'fit_generator', 'train_on_batch', 'compile' */
  readonly method: string;
  readonly receiver: string;
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  readonly fn: string;
}

export interface BatchNormLayer {
  readonly call: CallExpr;
  readonly stmt: StmtInfo;
  readonly trainable: boolean | null;
  readonly name: string | null;
}

export interface KerasModel {
  readonly models: readonly KerasModelVar[];
  readonly flips: readonly TrainableFlip[];
  readonly modelCalls: readonly ModelCall[];
  readonly compileFits: readonly CompileFit[];
  readonly batchNormLayers: readonly BatchNormLayer[];
  /** `x.trainable == False` used as a statement. */
  readonly comparisons: readonly { readonly stmt: StmtInfo; readonly expr: Extract<Expr, { k: 'cmp' }> }[];
  /** Literal paths given to load_model / saved_model.load / from_pretrained-like loaders. */
  readonly loadPaths: readonly { readonly path: string; readonly expr: Expr; readonly stmt: StmtInfo; readonly loader: string }[];
}

const FIT_METHODS = new Set(['fit', 'fit_generator', 'train_on_batch']);

export function isBatchNormClass(canon: string | null): boolean {
  return !!canon && /(^|\.)(BatchNormalization|SyncBatchNormalization|BatchNormalizationV1|BatchNormalizationV2)$/.test(canon) && !canon.startsWith('tf.layers.');
}

export function buildKeras(facts: readonly Fact[], names: NameResolver, src: string): KerasModel {
  const models: KerasModelVar[] = [];
  const flips: TrainableFlip[] = [];
  const modelCalls: ModelCall[] = [];
  const compileFits: CompileFit[] = [];
  const batchNormLayers: BatchNormLayer[] = [];
  const comparisons: { stmt: StmtInfo; expr: Extract<Expr, { k: 'cmp' }> }[] = [];
  const loadPaths: { path: string; expr: Expr; stmt: StmtInfo; loader: string }[] = [];
  const text = (e: Expr) => src.slice(e.s, e.e);

  const mentioned = (e: Expr) => {
    const ids = identifiersOf(e);
    return models.filter((m) => ids.has(m.name)).map((m) => m.name);
  };
  // model variables
  for (const f of facts) {
    if (f.kind !== 'assign' || f.op !== '=' || f.targets.length !== 1) continue;
    const t = f.targets[0]!;
    if (t.k !== 'name') continue;
    const v = f.value;
    if (v.k !== 'call') continue;
    const canon = names.canon(v.callee) ?? '';
    const last = canon.slice(canon.lastIndexOf('.') + 1);
    const fn = ctxFunction(f.stmt.ctx);
    if (last in APPLICATIONS && (canon.includes('applications') || !canon.includes('.'))) {
      models.push({ name: t.name, fn, kind: 'application', detail: last, hasBatchNorm: APPLICATIONS[last]!, stmt: f.stmt, call: v, builtFrom: [], sharesLayersOf: [] });
    } else if (/(^|\.)load_model$/.test(canon) || canon === 'tf.saved_model.load' || canon === 'keras.saving.load_model') {
      const p = strValue(v.args[0]);
      models.push({ name: t.name, fn, kind: 'loaded', detail: p, hasBatchNorm: null, stmt: f.stmt, call: v, builtFrom: [], sharesLayersOf: [] });
    } else if (/(^|\.)KerasLayer$/.test(canon)) {
      models.push({ name: t.name, fn, kind: 'hub', detail: strValue(v.args[0]), hasBatchNorm: null, stmt: f.stmt, call: v, builtFrom: [], sharesLayersOf: [] });
    } else if (/^keras\.(models\.|engine\.(training\.)?)?(Model|Functional)$/.test(canon) || canon === 'Model') {
      const from = mentioned(v);
      const shares = models.filter((m) => v.args.concat(v.kwargs.map((k) => k.value)).some((a) => isInputOf(a, m.name))).map((m) => m.name);
      models.push({ name: t.name, fn, kind: 'functional', detail: null, hasBatchNorm: null, stmt: f.stmt, call: v, builtFrom: from, sharesLayersOf: shares });
    } else if (/^keras\.(models\.)?Sequential$/.test(canon) || canon === 'Sequential') {
      models.push({ name: t.name, fn, kind: 'sequential', detail: null, hasBatchNorm: null, stmt: f.stmt, call: v, builtFrom: mentioned(v), sharesLayersOf: [] });
    }
  }
  // Sequential.add(base)
  for (const f of facts) {
    if (f.kind !== 'call' || f.call.fn.k !== 'attr' || f.call.fn.attr !== 'add' || f.call.fn.object.k !== 'name') continue;
    const owner = models.find((m) => m.name === (f.call.fn as { object: { name: string } }).object.name && m.kind === 'sequential');
    const arg = f.call.args[0];
    if (owner && arg && arg.k === 'name' && models.some((m) => m.name === arg.name)) (owner.builtFrom as string[]).push(arg.name);
  }
  const modelNames = new Set(models.map((m) => m.name));

  for (const f of facts) {
    if (f.kind === 'assign') {
      for (const t of f.targets) {
        if (t.k !== 'attr' || t.attr !== 'trainable') continue;
        const entries = ctxEntries(f.stmt.ctx);
        const loops = entries.filter((e): e is Extract<CtxEntry, { kind: 'loop' }> => e.kind === 'loop');
        const loop = loops[loops.length - 1] ?? null;
        const onLoopVar = loop ? loop.targets.some((v) => mentionsName(t.object, v)) : false;
        flips.push({
          stmt: f.stmt,
          object: t.object,
          objectText: text(t.object),
          value: f.value.k === 'bool' ? f.value.value : null,
          valueExpr: f.value,
          // offsets read through the loop entry: they move with it when an edit shifts the statement
          loop: loop
            ? {
                targets: loop.targets,
                iter: loop.iter,
                iterText: text(loop.iter),
                get s() {
                  return loop.s;
                },
                get e() {
                  return loop.e;
                },
                get end() {
                  return loop.end;
                },
              }
            : null,
          loopModel: loop ? layersOwner(loop.iter) : null,
          bnGuard: bnGuardOf(entries, loop?.targets ?? [], names),
          onLoopVar,
          fn: ctxFunction(f.stmt.ctx),
        });
      }
    } else if (f.kind === 'expr') {
      const e = f.expr;
      if (e.k === 'cmp' && e.ops.length === 1 && e.ops[0] === '==' && e.operands[0]?.k === 'attr' && e.operands[0].attr === 'trainable' && e.operands[1]?.k === 'bool') comparisons.push({ stmt: f.stmt, expr: e });
    } else if (f.kind === 'call') {
      const c = f.call;
      const fn = ctxFunction(f.stmt.ctx);
      if (c.fn.k === 'name' && modelNames.has(c.fn.name) && (c.args.length > 0 || c.kwargs.length > 0)) {
        modelCalls.push({ model: c.fn.name, call: c, stmt: f.stmt, training: kwarg(c, 'training')?.value, fn });
      }
      if (c.fn.k === 'attr' && c.fn.object.k === 'name') {
        const m = c.fn.attr;
        if (m === 'compile') compileFits.push({ kind: 'compile', method: m, receiver: c.fn.object.name, call: c, stmt: f.stmt, fn });
        else if (FIT_METHODS.has(m)) compileFits.push({ kind: 'fit', method: m, receiver: c.fn.object.name, call: c, stmt: f.stmt, fn });
      }
      const canon = names.canon(c.callee);
      if (isBatchNormClass(canon) || (c.callee === 'BatchNormalization' && !names.isImported('BatchNormalization'))) {
        const t = kwarg(c, 'trainable');
        batchNormLayers.push({ call: c, stmt: f.stmt, trainable: t && t.value.k === 'bool' ? t.value.value : null, name: strValue(kwarg(c, 'name')?.value) });
      }
      if (canon && (/(^|\.)load_model$/.test(canon) || canon === 'tf.saved_model.load' || /(^|\.)load_weights$/.test(canon) || canon === 'tf.train.import_meta_graph')) {
        const p = c.args[0];
        const ps = strValue(p);
        if (p && ps !== null) loadPaths.push({ path: ps, expr: p, stmt: f.stmt, loader: canon });
      }
    }
  }
  return { models, flips, modelCalls, compileFits, batchNormLayers, comparisons, loadPaths };
}

function identifiersOf(e: Expr): Set<string> {
  const out = new Set<string>();
  visitExpr(e, (x) => {
    if (x.k === 'name') out.add(x.name);
  });
  return out;
}

/** `base.input` / `base.inputs` */
function isInputOf(e: Expr, name: string): boolean {
  return e.k === 'attr' && (e.attr === 'input' || e.attr === 'inputs') && e.object.k === 'name' && e.object.name === name;
}

/** `base.layers`, `base.layers[:N]`, `enumerate(base.layers)`, `base.layers[-20:]` -> 'base' */
export function layersOwner(iter: Expr): string | null {
  let e = iter;
  if (e.k === 'call' && (e.callee === 'enumerate' || e.callee === 'reversed' || e.callee === 'list') && e.args[0]) e = e.args[0];
  if (e.k === 'subscript') e = e.value;
  if (e.k === 'attr' && e.attr === 'layers') return dottedName(e.object);
  return null;
}

function bnGuardOf(entries: readonly CtxEntry[], loopVars: readonly string[], names: NameResolver): 'only-bn' | 'not-bn' | null {
  for (const e of entries) {
    if (e.kind !== 'guard') continue;
    // `if a and not isinstance(layer, BatchNormalization):` guards the body with each conjunct
    const conjuncts: Expr[] = [];
    const split = (c: Expr): void => {
      if (c.k === 'boolop' && c.op === 'and') {
        split(c.left);
        split(c.right);
      } else conjuncts.push(c);
    };
    if (e.negated) conjuncts.push(e.cond);
    else split(e.cond);
    for (const c of conjuncts) {
      const g = bnGuardOfCond(c, e.negated, loopVars, names);
      if (g) return g;
    }
  }
  return null;
}

function bnGuardOfCond(c: Expr, negated: boolean, loopVars: readonly string[], names: NameResolver): 'only-bn' | 'not-bn' | null {
  {
    let cond = c;
    let neg = negated;
    while (cond.k === 'not') {
      cond = cond.operand;
      neg = !neg;
    }
    if (cond.k === 'call' && cond.callee === 'isinstance' && cond.args[0] && loopVars.some((v) => mentionsName(cond.args[0]!, v))) {
      const cls = cond.args[1];
      const classes = cls && cls.k === 'list' ? cls.items : cls ? [cls] : [];
      if (classes.some((c) => isBatchNormClass(names.canon(dottedName(c))) || dottedName(c) === 'BatchNormalization')) return neg ? 'not-bn' : 'only-bn';
    }
    // 'bn' in layer.name / layer.name.endswith('_bn') / 'batch_norm' in layer.name
    const t = cond.k === 'cmp' && cond.operands[0]?.k === 'str' ? cond.operands[0].value.toLowerCase() : null;
    if (t !== null && /^(bn|_bn|batch_norm|batchnorm|batch_normalization)$/.test(t) && cond.k === 'cmp' && cond.operands[1] && loopVars.some((v) => mentionsName(cond.operands[1]!, v))) {
      const notIn = cond.ops[0] === 'not in';
      return neg !== notIn ? 'not-bn' : 'only-bn';
    }
  }
  return null;
}
