// Which runtime a script trains with, from a pragma, a setting, or what it imports and calls.
import type { Runtime } from '../../analysis/types';
import type { RuntimeGuess } from '../types';
import type { Fact } from './collect';
import type { NameResolver } from './names';

const PRAGMA_RE = /#\s*freeze-inspector\s*:\s*([^\n]*)/g;

/** `# freeze-inspector: model=path runtime=tf1-graph` -> { model: 'path', runtime: 'tf1-graph' } (first pragma of each key wins). */
export function readPragmas(src: string): { values: Record<string, string>; ranges: Record<string, { s: number; e: number }> } {
  const values: Record<string, string> = {};
  const ranges: Record<string, { s: number; e: number }> = {};
  for (const m of src.matchAll(PRAGMA_RE)) {
    const body = m[1]!;
    const bodyStart = m.index! + m[0].length - body.length;
    for (const kv of body.matchAll(/([A-Za-z_-]+)\s*=\s*("([^"]*)"|'([^']*)'|(\S+))/g)) {
      const key = kv[1]!.toLowerCase();
      if (key in values) continue;
      const value = kv[3] ?? kv[4] ?? kv[5] ?? '';
      values[key] = value;
      const valueOffset = kv.index! + kv[0].length - kv[2]!.length + (kv[3] !== undefined || kv[4] !== undefined ? 1 : 0);
      ranges[key] = { s: bodyStart + valueOffset, e: bodyStart + valueOffset + value.length };
    }
  }
  return { values, ranges };
}

const RUNTIMES: readonly Runtime[] = ['tf1-graph', 'tf2-keras', 'keras3'];

export function detectRuntime(src: string, facts: readonly Fact[], names: NameResolver, setting: Runtime | null): RuntimeGuess {
  const pragma = readPragmas(src).values['runtime'];
  if (pragma && (RUNTIMES as readonly string[]).includes(pragma)) return { runtime: pragma as Runtime, source: 'pragma', why: `set by the "# freeze-inspector: runtime=${pragma}" comment`, standaloneKeras2: false };
  if (setting) return { runtime: setting, source: 'setting', why: 'set in the settings', standaloneKeras2: false };

  let tf1 = 0;
  let tfKeras = false;
  let standaloneKeras = false;
  let keras3 = 0;
  let keras2 = 0;
  const tf1Why: string[] = [];
  for (const f of facts) {
    if (f.kind === 'import') {
      const mods = f.module ? [f.module] : f.names.map((n) => n.name);
      for (const m of mods) {
        if (m === 'tensorflow.compat.v1' || m.startsWith('tensorflow.contrib') || m === 'tf_slim') {
          tf1++;
          tf1Why.push(`imports ${m}`);
        }
        if (m === 'keras' || m.startsWith('keras.')) standaloneKeras = true;
        if (m === 'tensorflow.keras' || m.startsWith('tensorflow.keras.') || m === 'tf_keras' || m.startsWith('tf_keras.')) tfKeras = true;
        if (/^(keras_hub|keras_cv|keras_nlp)/.test(m)) keras3++;
        if (/^keras\.(engine|layers\.normalization$|applications\.(resnet50|inception_v3|mobilenet|vgg16)$|legacy)/.test(m)) keras2++;
      }
      if (f.module === 'tensorflow' && f.names.some((n) => n.name === 'keras')) tfKeras = true;
      if (f.module === 'keras' && f.names.some((n) => n.name === 'ops')) keras3++;
    } else if (f.kind === 'call') {
      const n = names.canon(f.call.callee) ?? '';
      if (/^tf\.(Session|InteractiveSession|placeholder|placeholder_with_default|variable_scope|get_variable|get_collection|global_variables_initializer|train\.\w*Optimizer|layers\.|contrib\.|disable_v2_behavior|disable_eager_execution)/.test(n) || n.startsWith('slim.')) {
        if (tf1 < 50) tf1Why.push(n);
        tf1++;
      }
      if (n.startsWith('keras.')) tfKeras = tfKeras || (f.call.callee ?? '').startsWith('tf.');
      if (/^keras\.(ops|config|random|saving|tree)\./.test(n)) keras3++;
      if (/(^|\.)fit_generator$/.test(f.call.callee ?? '') || /^keras\.backend\.set_learning_phase$/.test(n)) keras2++;
      if (/^keras\.optimizers\.\w+$/.test(n) && f.call.kwargs.some((k) => k.name === 'lr' || k.name === 'decay')) keras2++;
    }
  }
  if (/os\.environ\[\s*["']KERAS_BACKEND["']\s*\]/.test(src)) keras3++;
  if (tf1 >= 2 || (tf1 >= 1 && !tfKeras && !standaloneKeras)) {
    return { runtime: 'tf1-graph', source: 'imports', why: `TF1 graph code (${[...new Set(tf1Why)].slice(0, 3).join(', ')})`, standaloneKeras2: false };
  }
  if (standaloneKeras && keras3 > 0) return { runtime: 'keras3', source: 'imports', why: 'imports keras with Keras 3 APIs', standaloneKeras2: false };
  if (standaloneKeras && !tfKeras && keras2 > 0) return { runtime: null, source: 'imports', why: 'standalone Keras 2 (Keras-2-only APIs)', standaloneKeras2: true };
  if (tfKeras) return { runtime: 'tf2-keras', source: 'imports', why: 'uses tf.keras (TensorFlow 2.0-2.15; TF >= 2.16 ships Keras 3 as tf.keras)', standaloneKeras2: false };
  if (standaloneKeras) return { runtime: null, source: 'unknown', why: 'imports keras: Keras 2 or Keras 3 depending on the installed version', standaloneKeras2: false };
  return { runtime: null, source: 'unknown', why: 'no TensorFlow/Keras training code recognised', standaloneKeras2: false };
}
