// "Extract freeze config from this script": the *.freeze.json that says what the script does, in the
// analysis' config format. What cannot be said in the format (loops over layer indices without a model,
// var_list built at run time) is listed in `unresolved` instead of being guessed.
import type { FreezeConfig, PatternSyntax, Runtime, UpdateOpsSetting } from '../analysis/types';
import { escapeRegex } from '../analysis/patterns';
import { defaultFreezeConfig } from '../analysis/freeze-config';
import type { ScriptModel } from './idioms';
import type { Selector } from './idioms/selectors';
import { mayTrain } from './idioms/tf1';
import { bnVariableName } from './rules/tf1-common';

export interface ExtractedConfig {
  /** The config (defaults written out), ready for JSON.stringify. */
  readonly config: FreezeConfig;
  /** What the script does that the config could not express. */
  readonly unresolved: readonly string[];
}

export function extractFreezeConfig(m: ScriptModel, opts: { readonly modelPath: string; readonly scriptPath: string; readonly runtime?: Runtime | null }): ExtractedConfig {
  const unresolved: string[] = [];
  const runtime = opts.runtime ?? m.runtime.runtime;
  let patternSyntax: PatternSyntax = 'regex';
  let freeze: string[] = [];
  let train: string[] | null = null;
  let training = true;
  const trainingOverrides: Record<string, boolean> = {};
  let updateOps: UpdateOpsSetting | null = null;

  if (runtime === 'tf1-graph') {
    const ops = m.tf1.trainOps.filter((t) => t.kind !== 'apply_gradients');
    const op = ops[0];
    if (ops.length > 1) unresolved.push(`${ops.length} train ops: the config describes the first one (line ${m.lines.positionAt(op!.call.s).line + 1})`);
    if (op) {
      const p = selectorPatterns(op.selector);
      if (p) {
        patternSyntax = p.syntax;
        freeze = p.freeze;
        train = p.train;
      } else if (op.selector.kind !== 'all') unresolved.push(`var_list (line ${m.lines.positionAt(op.call.s).line + 1}) selects variables in a way the config cannot express`);
      const refs = op.underUpdateOps.length > 0 ? op.underUpdateOps : m.tf1.updateOps.filter((r) => r.used);
      if (op.kind === 'create_train_op' || op.kind === 'optimize_loss') updateOps = op.updateOpsArg === undefined ? 'all' : null;
      else if (refs.length === 0) updateOps = 'none';
      else if (refs.some((r) => r.scope === undefined && !r.filtered)) updateOps = 'all';
      else if (refs.every((r) => typeof r.scope === 'string')) updateOps = { scopes: refs.map((r) => r.scope as string) };
      else unresolved.push('the update ops are filtered at run time');
    }
    const bns = m.tf1.batchNorms;
    const flags = bns.map((b) => mayTrain(b.training));
    training = flags.length === 0 ? true : flags.filter(Boolean).length >= flags.length / 2;
    for (const b of bns) {
      if (mayTrain(b.training) === training) continue;
      const v = bnVariableName(b);
      if (v) trainingOverrides[v.replace(/\/beta$/, '')] = mayTrain(b.training);
      else unresolved.push(`BatchNorm on line ${m.lines.positionAt(b.call.s).line + 1} runs with ${b.trainingParam}=${mayTrain(b.training) ? 'True' : 'False'} in a scope computed at run time`);
    }
  } else {
    patternSyntax = 'glob';
    // the last literal trainable value of each base model, and training=False calls
    for (const base of m.keras.models.filter((x) => x.kind === 'application' || x.kind === 'loaded' || x.kind === 'hub')) {
      const direct = m.keras.flips.filter((f) => f.object.k === 'name' && f.object.name === base.name && f.value !== null);
      const last = direct[direct.length - 1];
      const layerName = defaultModelName(base.detail);
      if (last && last.value === false) {
        if (layerName) freeze.push(layerName);
        else unresolved.push(`${base.name} is frozen, but its layer name in the model is not known without the model`);
      }
      if (m.keras.modelCalls.some((c) => c.model === base.name && c.training?.k === 'bool' && !c.training.value)) {
        if (layerName) trainingOverrides[layerName] = false;
        else unresolved.push(`${base.name} is called with training=False, but its layer name is not known without the model`);
      }
    }
    for (const f of m.keras.flips) {
      if (f.loop) unresolved.push(`line ${m.lines.positionAt(f.stmt.s).line + 1}: .trainable set in a loop over ${f.loop.iterText} (layer names need the model)`);
      else if (f.object.k === 'subscript') unresolved.push(`line ${m.lines.positionAt(f.stmt.s).line + 1}: .trainable set on ${f.objectText}`);
    }
    for (const b of m.keras.batchNormLayers) {
      if (b.trainable === false) {
        if (b.name) freeze.push(`*${b.name}`);
        else unresolved.push(`BatchNormalization(trainable=False) on line ${m.lines.positionAt(b.call.s).line + 1} has no name=`);
      }
    }
    freeze = [...new Set(freeze)];
  }
  const config: FreezeConfig = {
    ...defaultFreezeConfig(opts.modelPath),
    model: opts.modelPath,
    runtime: runtime ?? 'auto',
    patternSyntax,
    freeze,
    train,
    training,
    trainingOverrides,
    updateOps: updateOps ?? 'all',
    verify: null,
    scripts: [opts.scriptPath],
  };
  return { config, unresolved };
}

function selectorPatterns(sel: Selector): { syntax: PatternSyntax; freeze: string[]; train: string[] | null } | null {
  if (sel.kind === 'all') return { syntax: 'regex', freeze: [], train: null };
  if (sel.kind === 'union') {
    const parts = sel.parts.map(selectorPatterns);
    if (parts.some((p) => !p || p.freeze.length > 0 || p.train === null)) return null;
    return { syntax: 'regex', freeze: [], train: parts.flatMap((p) => p!.train!) };
  }
  if (sel.kind !== 'patterns' || sel.base.kind !== 'all') return null;
  const conv = (p: string): string => {
    switch (sel.how) {
      case 'search':
        return p;
      case 'match':
        return `^(?:${p})`;
      case 'prefix':
        return `^${escapeRegex(p)}`;
      case 'substring':
        return escapeRegex(p);
    }
  };
  return { syntax: 'regex', freeze: sel.exclude.map(conv), train: sel.include ? sel.include.map(conv) : null };
}

/** The layer name Keras gives an application model by default (its name inside the outer model). */
function defaultModelName(app: string | null): string | null {
  if (!app) return null;
  const known: Record<string, string> = {
    ResNet50: 'resnet50', ResNet101: 'resnet101', ResNet152: 'resnet152', ResNet50V2: 'resnet50v2', ResNet101V2: 'resnet101v2', ResNet152V2: 'resnet152v2',
    InceptionV3: 'inception_v3', InceptionResNetV2: 'inception_resnet_v2', Xception: 'xception', VGG16: 'vgg16', VGG19: 'vgg19',
    DenseNet121: 'densenet121', DenseNet169: 'densenet169', DenseNet201: 'densenet201', NASNetMobile: 'NASNet', NASNetLarge: 'NASNet',
    EfficientNetB0: 'efficientnetb0', EfficientNetB1: 'efficientnetb1', EfficientNetB2: 'efficientnetb2', EfficientNetB3: 'efficientnetb3',
    EfficientNetB4: 'efficientnetb4', EfficientNetB5: 'efficientnetb5', EfficientNetB6: 'efficientnetb6', EfficientNetB7: 'efficientnetb7',
  };
  // MobileNet names depend on alpha and input size: not guessed
  return known[app] ?? null;
}
