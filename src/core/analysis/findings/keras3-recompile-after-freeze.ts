// Keras 3 compiles the trainable set into its train step: flipping `trainable` after a fit() without
// compile() again is ignored (the frozen layers keep training). Worth saying wherever Keras 3 freezes.
import type { FindingRule } from './rule';

export const keras3RecompileAfterFreeze: FindingRule = (p) => {
  if (p.runtime !== 'keras3' || p.config.freeze.length === 0) return [];
  return [
    {
      code: 'keras3-recompile-after-freeze',
      severity: 'info',
      message: 'Keras 3: set trainable=False before compile(). Changing trainable after a fit() has no effect until the model is compiled again (the compiled train step keeps the old trainable set).',
      target: { kind: 'config', name: 'freeze' },
      fixes: [],
      configPath: ['freeze'],
    },
  ];
};
