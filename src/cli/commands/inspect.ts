// `freeze-inspector inspect PATH [--json]`: the model's layers and variables as a tree, or the IR as JSON.
import { openModel } from '../../core/open';
import { isFreezeInspectorError } from '../../core/io/errors';
import type { Layer, Model, Variable } from '../../core/model/ir';
import { EXIT, parseArgs, flag, type CliIO } from '../io';
import { toInspectJson } from './inspect-json';

export async function runInspect(argv: string[], io: CliIO): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (flag(args, 'help') || args.positionals.length !== 1) {
    io.stderr('usage: freeze-inspector inspect PATH [--json]\n');
    return args.positionals.length === 1 ? EXIT.ok : EXIT.badInput;
  }
  const input = args.positionals[0]!;
  let handle;
  try {
    handle = await openModel(input);
  } catch (e) {
    if (isFreezeInspectorError(e)) {
      io.stderr(`error: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
  try {
    const model = handle.model;
    if (flag(args, 'json')) io.stdout(JSON.stringify(toInspectJson(model), null, 2) + '\n');
    else io.stdout(renderTree(model));
    return EXIT.ok;
  } finally {
    await handle.close();
  }
}

export function summarize(model: Model) {
  const vars = model.variables.filter((v) => !v.optimizerSlot);
  const trainable = vars.filter((v) => v.trainable);
  const bnFrozen = model.batchNorms.filter((b) => !b.trainable);
  const params = (vs: readonly Variable[]) => vs.reduce((n, v) => n + (v.size ?? 0), 0);
  return {
    variables: vars.length,
    trainable: trainable.length,
    frozen: vars.length - trainable.length,
    optimizerSlots: model.variables.length - vars.length,
    batchNorms: model.batchNorms.length,
    frozenBatchNorms: bnFrozen.length,
    parameters: params(vars),
    trainableParameters: params(trainable),
  };
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d < 0 ? '?' : String(d))).join(', ')}]`;
}

/** Human-readable tree: layers nested, their variables under them, BN layers marked. */
export function renderTree(model: Model): string {
  const out: string[] = [];
  const s = summarize(model);
  out.push(`${model.path}`);
  out.push(`  format ${model.format}, TensorFlow ${model.tensorflowVersion ?? 'unknown'}, Keras ${model.kerasVersion ?? '-'}`);
  const bnLayers = new Map(model.batchNorms.map((b) => [b.layer, b]));
  const varsByKey = new Map(model.variables.map((v) => [v.key, v]));
  const children = new Map<string | null, Layer[]>();
  for (const l of model.layers) {
    const list = children.get(l.parent) ?? [];
    list.push(l);
    children.set(l.parent, list);
  }
  const shown = new Set<string>();
  const varLine = (v: Variable, indent: string) => {
    shown.add(v.key);
    const state = v.optimizerSlot ? 'optimizer' : v.trainable ? 'trainable' : 'frozen';
    out.push(`${indent}${v.name.split('/').pop()}  ${fmtShape(v.shape)} ${v.dtype}  ${state}${v.role !== 'other' ? `  (${v.role})` : ''}  key=${v.key}`);
  };
  const walk = (parent: string | null, indent: string) => {
    for (const l of children.get(parent) ?? []) {
      const bn = bnLayers.get(l.path);
      const marks = [l.trainable ? 'trainable' : 'frozen'];
      if (!l.configTrainable && l.trainable === false) marks.push('trainable=False');
      if (l.callTraining !== null) marks.push(`training=${l.callTraining ? 'True' : 'False'}`);
      if (bn) marks.push(`BatchNorm momentum=${bn.momentum} epsilon=${bn.epsilon}`);
      const label = l.path === '' ? '(root)' : l.name;
      out.push(`${indent}${bn ? '◆' : l.isModel ? '▣' : '▪'} ${label} <${l.className}>  ${marks.join(', ')}`);
      for (const k of l.variables) {
        const v = varsByKey.get(k);
        if (v) varLine(v, indent + '    ');
      }
      walk(l.path, indent + '  ');
    }
  };
  walk(null, '  ');
  const rest = model.variables.filter((v) => !shown.has(v.key));
  const slots = rest.filter((v) => v.optimizerSlot);
  const loose = rest.filter((v) => !v.optimizerSlot);
  if (loose.length) {
    out.push('  variables without a layer:');
    for (const v of loose) varLine(v, '    ');
  }
  if (slots.length) out.push(`  (${slots.length} optimizer slot variables not shown; --json lists them)`);
  for (const w of model.warnings) out.push(`  warning: ${w.message}`);
  out.push(
    `${s.variables} variables (${s.trainable} trainable, ${s.frozen} frozen), ${s.batchNorms} BatchNorm layers (${s.frozenBatchNorms} frozen), ` +
      `${s.parameters.toLocaleString('en-US')} parameters (${s.trainableParameters.toLocaleString('en-US')} trainable)` +
      (s.optimizerSlots ? `, ${s.optimizerSlots} optimizer slots` : ''),
  );
  return out.join('\n') + '\n';
}
