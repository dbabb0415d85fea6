// The training flag a Keras layer ends up called with: the nearest enclosing call that sets it wins
// (a config trainingOverrides entry, else a `training=` recorded in the saved functional graph), else the
// flag the whole model is called with (config "training": fit() passes True).
import { ancestorsOrSelf, type ModelIndex } from '../model-index';
import type { FreezeConfig } from '../types';
import type { TrainingSource } from './rules';

export interface KerasTraining {
  readonly training: boolean;
  readonly source: TrainingSource;
  /** The layer whose call sets the flag (null when it is the model-level flag). */
  readonly setOn: string | null;
  /** That call sits inside a functional graph (Functional/Sequential parent), where Keras 3 <= 3.15.1 overrides it. */
  readonly inFunctional: boolean;
}

const FUNCTIONAL_CLASSES = new Set(['Functional', 'Sequential']);

export function kerasTraining(index: ModelIndex, layerPath: string, config: FreezeConfig): KerasTraining {
  for (const a of ancestorsOrSelf(index, layerPath)) {
    if (a.parent === null) break;
    const override = config.trainingOverrides[a.path];
    const parent = index.layerByPath.get(a.parent);
    const inFunctional = parent !== undefined && FUNCTIONAL_CLASSES.has(parent.className);
    if (override !== undefined) return { training: override, source: { kind: 'override', key: a.path }, setOn: a.path, inFunctional };
    if (a.callTraining !== null) return { training: a.callTraining, source: { kind: 'recorded-call', layer: a.path }, setOn: a.path, inFunctional };
  }
  return { training: config.training, source: config.trainingNotPassed ? { kind: 'config', notPassed: true } : { kind: 'config' }, setOn: null, inFunctional: false };
}
