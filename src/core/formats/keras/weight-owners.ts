// Which layer owns each weight a Keras 2 h5 file lists under a top-level layer. A leaf layer owns all of its
// group's weights; a nested model's group lists every weight of its sublayers, named by variable name
// ('conv1/kernel:0', or with scopes 'outer/block/conv1/kernel:0'). Names recorded in the file win: the
// owner is the innermost name component that names a unique layer inside the nested model. Only names that
// identify no layer fall back to the order Keras writes weights in (sublayers in order, each layer's
// inferred weight list), and only when that order is consistent with the names.
import { inferLayerWeights, type FlatKerasLayer, type KerasFlavor } from './keras-config';

/**
 * Owner path for each weight name of `top`'s group (same order), or null where neither the name nor the
 * storage order identifies one. `all` is the flattened tree (any order).
 */
export function assignWeightOwners(top: FlatKerasLayer, all: readonly FlatKerasLayer[], weightNames: readonly string[], flavor: KerasFlavor): (string | null)[] {
  if (!top.spec.isModel) return weightNames.map(() => top.path);
  const prefix = `${top.path}/`;
  const leaves = all.filter((l) => l.path.startsWith(prefix) && !l.spec.isModel);
  const owners = weightNames.map((w) => ownerByName(w, leaves, prefix));
  if (owners.every((o) => o !== null)) return owners;
  const ordered = ownersByOrder(leaves, weightNames, flavor);
  return owners.map((o, i) => o ?? ordered?.[i] ?? null);
}

function components(weightName: string): string[] {
  return weightName.replace(/:\d+$/, '').split('/');
}

function ownerByName(weightName: string, leaves: readonly FlatKerasLayer[], prefix: string): string | null {
  const comps = components(weightName);
  for (let j = comps.length - 2; j >= 0; j--) {
    const candidates = leaves.filter((l) => l.spec.name === comps[j]);
    if (candidates.length === 0) continue;
    if (candidates.length === 1) return candidates[0]!.path;
    // Same name at several depths: keep the one whose path (inside the nested model) the name's scopes end with.
    const scoped = candidates.filter((l) => endsWithPath(comps.slice(0, j + 1), l.path.slice(prefix.length).split('/')));
    return scoped.length === 1 ? scoped[0]!.path : null;
  }
  return null;
}

function endsWithPath(scopes: readonly string[], relPath: readonly string[]): boolean {
  if (relPath.length > scopes.length) return false;
  const offset = scopes.length - relPath.length;
  return relPath.every((c, i) => scopes[offset + i] === c);
}

/** Owners from storage order, or null when the inferred weight lists do not match the names one to one. */
function ownersByOrder(leaves: readonly FlatKerasLayer[], weightNames: readonly string[], flavor: KerasFlavor): string[] | null {
  const expected: { path: string; weight: string }[] = [];
  for (const leaf of leaves) {
    const weights = inferLayerWeights(leaf.spec, flavor);
    if (weights === null) return null;
    for (const w of weights) expected.push({ path: leaf.path, weight: w.name });
  }
  if (expected.length !== weightNames.length) return null;
  const out: string[] = [];
  for (let i = 0; i < weightNames.length; i++) {
    const last = components(weightNames[i]!).pop();
    if (last !== expected[i]!.weight) return null;
    out.push(expected[i]!.path);
  }
  return out;
}
