// Keras 3 `.keras` archives (also the tf_keras 2.13+ `.keras` format): a zip of metadata.json
// (keras_version), config.json (the model config) and model.weights.h5. In the weights file every saved
// object (model, layer, optimizer) is a group holding `vars/0`, `vars/1`, ... (attribute `name` on `vars`
// is the object's name in Keras >= 3.x); a Functional/Sequential model's layers sit under `layers/<key>`
// where key is the snake_case class name, uniquified per model (conv2d, conv2d_1, ...); other tracked
// sublayers sit under their attribute name; the optimizer under `optimizer`.
//
// Variable key: the dataset path inside model.weights.h5 ('layers/functional/layers/conv2d/vars/0');
// name: Keras 3's `Variable.path` for a model as loaded ('<layer name>/<weight name>'). The file records no
// weight names, so they follow each class's weight order (keras-config.ts); for classes not known there,
// '<layer name>/<index>' with a warning. Throws only ModelReadError.
import type { FileSource } from '../../io/file-source';
import { LIMITS, ModelReadError } from '../../io/errors';
import type { ModelHandle, ModelWarning } from '../../model/ir';
import { Dataset, Group, Hdf5File } from '../hdf5/file';
import { ZipArchive } from '../zip/zip';
import {
  baseClassName,
  flattenKerasLayers,
  inferLayerWeights,
  isJsonObject,
  keras3LayerKeys,
  parseKerasModelConfig,
  parsePythonJson,
  preorderComparator,
  type FlatKerasLayer,
  type KerasFlavor,
  type KerasLayerSpec,
} from './keras-config';
import { hdf5DatasetHandle, assembleKerasModel, listSome, type KerasVariableDraft } from './keras-model';

const WEIGHTS_ENTRY = 'model.weights.h5';

/** Opens a `.keras` archive. `rel` is the archive within `src`; `display` names it in errors and in Model.path. */
export async function openKerasV3(src: FileSource, rel: string, display: string): Promise<ModelHandle> {
  const zip = await ZipArchive.open(src, rel, { displayName: display });
  const text = async (name: string): Promise<string | null> => (zip.entry(name) ? new TextDecoder('utf-8').decode(await zip.read(name)) : null);

  const configText = await text('config.json');
  if (configText === null) throw new ModelReadError(display, 'not-keras', 'is a zip archive without config.json, so not a Keras model');
  const rawConfig = parsePythonJson(configText, display, 'config.json');
  const root = parseKerasModelConfig(rawConfig, display, 'config.json');
  const metadataText = await text('metadata.json');
  const metadata = metadataText === null ? null : parsePythonJson(metadataText, display, 'metadata.json');
  const version = isJsonObject(metadata) ? metadata['keras_version'] : undefined;
  const kerasVersion = typeof version === 'string' ? version : null;
  const flavor: KerasFlavor = kerasVersion !== null && /^[012]\./.test(kerasVersion) ? 'keras2' : 'keras3';

  const { layers: configLayers, duplicates } = flattenKerasLayers(root);
  const warnings: ModelWarning[] = [];
  if (duplicates.length > 0) warnings.push({ code: 'other', message: `config.json repeats the layer path(s) ${listSome(duplicates)}; only the first is shown`, file: display });

  const datasets = new Map<string, Dataset>();
  let layers: FlatKerasLayer[] = configLayers;
  let drafts: KerasVariableDraft[] = [];
  if (!zip.entry(WEIGHTS_ENTRY)) {
    const other = zip.entries().find((e) => /\.weights\.(npz|json)$/.test(e.name));
    warnings.push({
      code: 'missing-checkpoint',
      message: other ? `the weights are stored as ${other.name}, which is not supported; only the structure is shown` : `the archive has no ${WEIGHTS_ENTRY}; only the structure is shown`,
      file: display,
    });
  } else {
    const weightsFile = `${display}!${WEIGHTS_ENTRY}`;
    const h5 = await Hdf5File.open(zip.fileSource(), WEIGHTS_ENTRY, { displayName: weightsFile });
    const saved = await readSaveable(h5.root, '', weightsFile, 0);
    const mapped = mapWeights(saved, configLayers, flavor, weightsFile);
    layers = mapped.layers;
    drafts = mapped.drafts;
    for (const [key, ds] of mapped.datasets) datasets.set(key, ds);
    warnings.push(...mapped.warnings);
  }

  const model = assembleKerasModel(
    {
      format: 'keras-v3',
      path: display,
      tensorflowVersion: null,
      kerasVersion,
      kerasMetadataSource: 'config.json',
      metaGraphs: [],
      layers,
      variables: drafts,
      kerasConfig: isJsonObject(rawConfig) ? rawConfig : null,
      warnings,
    },
    display,
  );
  return hdf5DatasetHandle(model, datasets, display);
}

/** One saved object of model.weights.h5: its own variables and the saved objects below it. */
interface Saveable {
  /** Group path relative to the file root, '' for the root ('layers/functional/layers/conv2d'). */
  readonly path: string;
  /** Last component of the path: the snake_case class key or the attribute name. */
  readonly key: string;
  /** `vars` attribute `name` (the object's name), when recorded. */
  readonly name: string | null;
  /** vars/0, vars/1, ... in index order. */
  readonly vars: readonly { readonly key: string; readonly ds: Dataset }[];
  /** Saved objects below, with the container they sit in ('layers', or '' when directly under this object). */
  readonly children: readonly { readonly container: string; readonly saveable: Saveable }[];
}

async function readSaveable(group: Group, path: string, file: string, depth: number): Promise<Saveable> {
  if (depth > LIMITS.maxDepth) throw new ModelReadError(file, 'too-deep', `"${path}" is nested deeper than ${LIMITS.maxDepth} levels`);
  const children = await group.children();
  const varsGroup = children.get('vars');
  const vars: { key: string; ds: Dataset; index: number }[] = [];
  let name: string | null = null;
  if (varsGroup instanceof Group) {
    const n = (await varsGroup.attrs())['name'];
    name = typeof n === 'string' ? n : null;
    for (const [k, obj] of await varsGroup.children()) {
      if (!(obj instanceof Dataset)) continue;
      if (!/^\d+$/.test(k)) throw new ModelReadError(file, 'bad-keras-weights', `"${join(path, 'vars')}" holds "${k}", not a numbered variable`);
      vars.push({ key: join(path, 'vars', k), ds: obj, index: Number(k) });
    }
    vars.sort((a, b) => a.index - b.index);
    vars.forEach((v, i) => {
      if (v.index !== i) throw new ModelReadError(file, 'bad-keras-weights', `"${join(path, 'vars')}" skips variable ${i} (next is ${v.index})`);
    });
  }
  const out: { container: string; saveable: Saveable }[] = [];
  for (const [k, obj] of children) {
    if (k === 'vars' || !(obj instanceof Group)) continue;
    const sub = await obj.children();
    if (sub.has('vars')) {
      out.push({ container: '', saveable: await readSaveable(obj, join(path, k), file, depth + 1) });
    } else {
      // A container (a model's `layers`, a list attribute): each subgroup is a saved object.
      for (const [k2, obj2] of sub) {
        if (obj2 instanceof Group) out.push({ container: k, saveable: await readSaveable(obj2, join(path, k, k2), file, depth + 1) });
      }
    }
  }
  return { path, key: path.split('/').pop() ?? '', name, vars, children: out };
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

interface Mapped {
  layers: FlatKerasLayer[];
  drafts: KerasVariableDraft[];
  datasets: Map<string, Dataset>;
  warnings: ModelWarning[];
}

/** Pairs saved objects with config layers and names their variables. */
function mapWeights(rootSaved: Saveable, configLayers: FlatKerasLayer[], flavor: KerasFlavor, file: string): Mapped {
  const layers = [...configLayers];
  const byPath = new Map(layers.map((l) => [l.path, l]));
  const drafts: KerasVariableDraft[] = [];
  const datasets = new Map<string, Dataset>();
  const unknownClasses: string[] = [];
  const unknownObjects: string[] = [];
  const extraLayers: string[] = [];

  const addVars = (layer: FlatKerasLayer, s: Saveable): void => {
    if (s.vars.length === 0) return;
    const inferred = inferLayerWeights(layer.spec, flavor);
    const known = inferred !== null && inferred.length === s.vars.length;
    if (!known) unknownClasses.push(layer.path === '' ? layer.spec.name : layer.path);
    s.vars.forEach((v, i) => {
      datasets.set(v.key, v.ds);
      const w = known ? inferred[i]! : null;
      drafts.push({
        key: v.key,
        name: `${layer.spec.name}/${w ? w.name : String(i)}`,
        shape: v.ds.shape,
        dtype: v.ds.dtype,
        savedTrainable: null,
        createdTrainable: w ? w.trainable : true,
        layer: layer.path,
        optimizerSlot: false,
      });
    });
  };

  const visit = (layer: FlatKerasLayer, s: Saveable): void => {
    addVars(layer, s);
    const spec = layer.spec;
    const sequential = baseClassName(spec.className) === 'Sequential';
    const keys = keras3LayerKeys(spec.layers, sequential);
    const keyed = spec.layers.filter((c) => !(sequential && c.isInput));
    for (const { container, saveable: c } of s.children) {
      if (layer.path === '' && container === '' && c.key === 'optimizer') continue;
      let childSpec: KerasLayerSpec | undefined;
      if (c.name !== null) childSpec = spec.layers.find((x) => x.name === c.name);
      if (!childSpec && container === 'layers') {
        const i = keys.indexOf(c.key);
        if (i >= 0) childSpec = keyed[i];
      }
      if (childSpec?.isInput) continue;
      if (childSpec) {
        const child = byPath.get(layer.path === '' ? childSpec.name : `${layer.path}/${childSpec.name}`);
        if (child) {
          visit(child, c);
          continue;
        }
      }
      // A sublayer the config does not describe (subclassed models, custom layers): shown with an unknown class.
      if (c.vars.length === 0 && c.children.length === 0) continue;
      const name = c.name ?? c.key;
      const path = layer.path === '' ? name : `${layer.path}/${name}`;
      if (byPath.has(path)) {
        unknownObjects.push(c.path);
        continue;
      }
      const spec2: KerasLayerSpec = {
        name,
        className: 'Unknown',
        module: null,
        registeredName: null,
        config: {},
        configTrainable: true,
        isInput: false,
        isModel: c.children.length > 0,
        layers: [],
        callTraining: null,
        callTrainingConflict: false,
      };
      const extra: FlatKerasLayer = { spec: spec2, path, parent: layer.path, trainable: layer.trainable };
      layers.push(extra);
      byPath.set(path, extra);
      extraLayers.push(path);
      visit(extra, c);
    }
  };
  visit(byPath.get('')!, rootSaved);

  const optimizer = rootSaved.children.find((c) => c.container === '' && c.saveable.key === 'optimizer')?.saveable;
  if (optimizer) {
    const collect = (s: Saveable): void => {
      for (const v of s.vars) {
        datasets.set(v.key, v.ds);
        drafts.push({ key: v.key, name: v.key, shape: v.ds.shape, dtype: v.ds.dtype, savedTrainable: null, createdTrainable: false, layer: null, optimizerSlot: true });
      }
      for (const c of s.children) collect(c.saveable);
    };
    collect(optimizer);
  }

  const warnings: ModelWarning[] = [];
  if (extraLayers.length > 0) {
    warnings.push({ code: 'unknown-layer', message: `config.json does not describe ${listSome(extraLayers)} (a subclassed model or custom layer): their classes, and so any BatchNormalization among them, are unknown`, file });
  }
  if (unknownClasses.length > 0) {
    warnings.push({ code: 'unknown-layer', message: `the weight names of ${listSome(unknownClasses)} are not known for their class; variables are numbered instead`, file });
  }
  if (unknownObjects.length > 0) {
    warnings.push({ code: 'unmapped-variable', message: `could not match ${listSome(unknownObjects)} in the weights file to a layer`, file });
  }
  // model.weights order: layers in pre-order, each layer's variables in index order; then the optimizer.
  const order = preorderComparator(layers);
  layers.sort(order);
  const rank = new Map(layers.map((l, i) => [l.path, i]));
  const position = new Map(drafts.map((d, i) => [d.key, i]));
  const varIndex = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1));
  drafts.sort((a, b) => {
    if (a.optimizerSlot !== b.optimizerSlot) return a.optimizerSlot ? 1 : -1;
    if (a.optimizerSlot) return varIndex(a.key) - varIndex(b.key);
    return rank.get(a.layer!)! - rank.get(b.layer!)! || position.get(a.key)! - position.get(b.key)!;
  });
  return { layers, drafts, datasets, warnings };
}
