// Keras 3 (3.0-3.15.1; tf.keras in TF >= 2.16): as tf2-keras (`training and trainable` decides), plus the
// functional-graph quirk: a `training=False` recorded on a node of a Functional/Sequential model is replaced
// by the outer call's training=True (fixed on Keras master by keras#23364, in no release up to 3.15.1).
// Calls inside a subclassed model's call() keep their explicit flag.
import type { BnRule } from './rules';

export const KERAS3_RULES: readonly BnRule[] = [
  {
    id: 'keras3-frozen-inference',
    rows: 'E2, E3',
    when: { layerTrainable: false },
    normalizesWith: 'moving',
    movingStatsUpdate: false,
    gammaBeta: 'never',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'keras3-functional-training-override',
    rows: 'E5',
    when: { functionalOverride: true },
    normalizesWith: 'batch',
    movingStatsUpdate: true,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'keras3-training-false',
    rows: 'E1 (training=False)',
    when: { training: false },
    normalizesWith: 'moving',
    movingStatsUpdate: false,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'keras3-training',
    rows: 'E1',
    when: {},
    normalizesWith: 'batch',
    movingStatsUpdate: true,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
];

/** Last Keras release with the functional training=False override. */
export const KERAS3_OVERRIDE_LAST_VERSION = [3, 15, 1] as const;

/** Does this Keras version override a functional node's training=False? Unknown versions are assumed affected. */
export function keras3OverridesTrainingFalse(kerasVersion: string | null): boolean {
  if (!kerasVersion) return true;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(kerasVersion);
  if (!m) return true;
  const v = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (v[0] !== 3) return false; // Keras 2 has no such override
  for (let i = 0; i < 3; i++) {
    if (v[i]! !== KERAS3_OVERRIDE_LAST_VERSION[i]) return v[i]! < KERAS3_OVERRIDE_LAST_VERSION[i]!;
  }
  return true;
}
