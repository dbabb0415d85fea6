// Layers of scope-named models (TF1 graphs, tf.Module SavedModels, Keras 3 exports): one layer per variable
// scope and per ancestor scope ('A', 'A/batch_normalization'), parents by '/'. There is no root layer: a
// variable without a scope has layer null.
import type { Layer, Variable } from '../../model/ir';

/**
 * A scope is trainable when some non-optimizer variable in it or below it is trainable, or when it holds
 * no variables at all (nothing to freeze).
 */
export function scopeLayers(variables: readonly Variable[], classOf: (scope: string) => string): Layer[] {
  const own = new Map<string, string[]>();
  const subtreeVars = new Map<string, number>();
  const subtreeTrainable = new Map<string, number>();
  const add = (scope: string, v: Variable, direct: boolean): void => {
    if (direct) {
      let list = own.get(scope);
      if (!list) own.set(scope, (list = []));
      list.push(v.key);
    }
    subtreeVars.set(scope, (subtreeVars.get(scope) ?? 0) + 1);
    if (v.trainable) subtreeTrainable.set(scope, (subtreeTrainable.get(scope) ?? 0) + 1);
  };
  for (const v of variables) {
    if (v.layer === null || v.optimizerSlot) continue;
    const parts = v.layer.split('/');
    for (let i = 1; i <= parts.length; i++) add(parts.slice(0, i).join('/'), v, i === parts.length);
  }
  const layers: Layer[] = [];
  for (const path of [...subtreeVars.keys()].sort()) {
    const slash = path.lastIndexOf('/');
    const trainable = (subtreeTrainable.get(path) ?? 0) > 0 || (subtreeVars.get(path) ?? 0) === 0;
    layers.push({
      path,
      name: path.slice(slash + 1),
      className: classOf(path),
      configTrainable: trainable,
      trainable,
      parent: slash < 0 ? null : path.slice(0, slash),
      isModel: false,
      variables: own.get(path) ?? [],
      callTraining: null,
    });
  }
  return layers;
}
