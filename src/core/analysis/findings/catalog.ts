// One line per finding code: what it means and what to do (SARIF rules, the docs, hovers).
import type { FindingCode, Severity } from '../types';

export const FINDING_CATALOG: Readonly<Record<FindingCode, { readonly severity: Severity; readonly title: string; readonly help: string }>> = {
  'frozen-bn-stats-drift': {
    severity: 'error',
    title: 'Frozen BatchNorm whose moving statistics still change',
    help: 'gamma/beta are excluded from training but the layer runs in training mode and its moving-average update ops run. Call the frozen part with training=False, restrict the update ops to the trained scopes, or unfreeze gamma/beta.',
  },
  'bn-update-ops-not-run': {
    severity: 'error',
    title: 'BatchNorm in training mode whose update ops never run',
    help: 'The layer normalizes with batch statistics but moving_mean/moving_variance are never updated (they stay 0/1 when fresh): make the train op depend on UPDATE_OPS.',
  },
  'keras3-training-false-overridden': {
    severity: 'warning',
    title: 'Keras 3 ignores a functional training=False',
    help: 'Keras 3.0-3.15.1 replaces training=False recorded on a functional node with the outer training=True. Freeze (trainable=False) the BatchNorm layers that must stay in inference mode.',
  },
  'bn-half-frozen': {
    severity: 'warning',
    title: 'BatchNorm half frozen',
    help: 'A pattern freezes gamma but not beta (or the reverse). Freeze or train the layer as a whole.',
  },
  'frozen-bn-batch-stats': {
    severity: 'warning',
    title: 'Frozen BatchNorm normalizing with batch statistics',
    help: 'The frozen layer sees batch statistics in training and moving statistics in inference. Call it with training=False.',
  },
  'pattern-matches-nothing': {
    severity: 'warning',
    title: 'Pattern matches nothing',
    help: 'The freeze/train pattern selects no variable (TF1) or layer (Keras). Check the naming the runtime matches against.',
  },
  'nothing-trains': {
    severity: 'warning',
    title: 'Nothing trains',
    help: 'Every trainable variable is frozen or outside the allow-list.',
  },
  'trainable-bn-in-inference-call': {
    severity: 'info',
    title: 'Trainable BatchNorm inside a training=False call',
    help: 'gamma/beta train on fixed moving statistics (the usual Keras fine-tuning recipe). Freeze the layers if they should stay fixed.',
  },
  'keras3-recompile-after-freeze': {
    severity: 'info',
    title: 'Keras 3: freeze before compile()',
    help: 'Changing trainable after a fit() only takes effect after compile() is called again.',
  },
  'training-flag-fixed-in-graph': {
    severity: 'info',
    title: 'is_training is a constant in the graph',
    help: 'The saved graph fixes the BatchNorm mode; neither the config training flag nor a trainingOverrides entry can change it without rebuilding the graph.',
  },
};
