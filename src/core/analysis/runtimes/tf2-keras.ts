// tf.keras 2.0-2.15 / tf_keras (the V2 BatchNormalization): `trainable=False` on the layer or any parent
// means inference mode (moving statistics used, not updated) whatever `training` says; a trainable BN called
// with training=False uses and keeps its moving statistics while gamma/beta still get gradients.
import type { BnRule } from './rules';

export const TF2_KERAS_RULES: readonly BnRule[] = [
  {
    id: 'keras-frozen-inference',
    rows: 'D2, D3, D4',
    when: { layerTrainable: false },
    normalizesWith: 'moving',
    movingStatsUpdate: false,
    gammaBeta: 'never',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'keras-training-false',
    rows: 'C3, D5, D6',
    when: { training: false },
    normalizesWith: 'moving',
    movingStatsUpdate: false,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
  {
    id: 'keras-training',
    rows: 'D1',
    when: {},
    normalizesWith: 'batch',
    movingStatsUpdate: true,
    gammaBeta: 'selected',
    statsStillReason: 'inference-mode',
  },
];
