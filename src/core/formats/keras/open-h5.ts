// Keras HDF5 models (`model.save('x.h5')`): root attributes `model_config` (JSON), `keras_version`,
// `backend`, `training_config`; group /model_weights with attribute `layer_names`; one group per top-level
// layer with attribute `weight_names`, each weight a dataset at `<layer>/<weight name>`; optimizer weights
// under /optimizer_weights (attribute `weight_names`). Reads structure only: dataset headers, never values,
// until readTensor is called.
//
// Variable keys: the absolute HDF5 dataset path, as h5py lists it ('/model_weights/conv1/conv1/kernel:0',
// '/optimizer_weights/SGD/m/conv1/kernel:0'). Throws only ModelReadError.
import type { FileSource } from '../../io/file-source';
import { ModelReadError } from '../../io/errors';
import type { ModelHandle, ModelWarning } from '../../model/ir';
import { Dataset, Group, Hdf5File, type Hdf5Value } from '../hdf5/file';
import {
  flattenKerasLayers,
  isCreatedTrainable,
  isJsonObject,
  parseKerasModelConfig,
  parsePythonJson,
  type FlatKerasLayer,
  type KerasFlavor,
} from './keras-config';
import { hdf5DatasetHandle, assembleKerasModel, listSome, type KerasVariableDraft } from './keras-model';
import { assignWeightOwners } from './weight-owners';

const MODEL_PREFIX = '/model_weights/';
const OPTIMIZER_PREFIX = '/optimizer_weights/';

/** Opens a Keras HDF5 model. `rel` is the file within `src`; `display` names it in errors and in Model.path. */
export async function openKerasH5(src: FileSource, rel: string, display: string): Promise<ModelHandle> {
  const h5 = await Hdf5File.open(src, rel, { displayName: display });
  const rootAttrs = await h5.root.attrs();
  const configText = attrString(rootAttrs['model_config']);
  if (configText === null) {
    if (rootAttrs['layer_names'] !== undefined) {
      throw new ModelReadError(display, 'weights-only', 'holds only weights (model.save_weights): without a model_config the layer classes and trainable flags are unknown; open the file written by model.save()');
    }
    throw new ModelReadError(display, 'not-keras', 'is an HDF5 file but not a Keras model: it has no model_config attribute');
  }
  const rawConfig = parsePythonJson(configText, display, 'model_config');
  const root = parseKerasModelConfig(rawConfig, display, 'model_config');
  const { layers, duplicates } = flattenKerasLayers(root);
  const warnings: ModelWarning[] = [];
  if (duplicates.length > 0) warnings.push({ code: 'other', message: `model_config repeats the layer path(s) ${listSome(duplicates)}; only the first is shown`, file: display });

  const weightsGroup = await h5.get('model_weights');
  if (!(weightsGroup instanceof Group)) throw new ModelReadError(display, 'not-keras', 'has a model_config but no model_weights group');
  const weightsAttrs = await weightsGroup.attrs();
  const kerasVersion = attrString(rootAttrs['keras_version']) ?? attrString(weightsAttrs['keras_version']);
  const flavor: KerasFlavor = kerasVersion !== null && /^3\./.test(kerasVersion) ? 'keras3' : 'keras2';

  const datasets = new Map<string, Dataset>();
  const drafts: KerasVariableDraft[] = [];
  const unmapped: string[] = [];
  const unknownGroups: string[] = [];
  const layerNames = attrStrings(weightsAttrs['layer_names']) ?? [...(await weightsGroup.children()).keys()];
  const topByName = new Map<string, FlatKerasLayer>();
  for (const l of layers) if (l.parent === '') topByName.set(l.spec.name, l);
  const layerByPath = new Map(layers.map((l) => [l.path, l]));

  for (const layerName of layerNames) {
    const group = await weightsGroup.get(layerName);
    if (!(group instanceof Group)) {
      throw new ModelReadError(display, 'missing-group', `model_weights lists layer "${layerName}" but has no group for it`);
    }
    const names = await weightNamesOf(group);
    if (names.length === 0) continue;
    const top = topByName.get(layerName);
    if (!top) unknownGroups.push(layerName);
    const owners = top ? assignWeightOwners(top, layers, names, flavor) : names.map(() => null);
    for (let i = 0; i < names.length; i++) {
      const weightName = names[i]!;
      const ds = await group.get(weightName);
      if (!(ds instanceof Dataset)) {
        throw new ModelReadError(display, 'missing-dataset', `model_weights/${layerName} lists weight "${weightName}" but has no dataset for it`);
      }
      const key = `${MODEL_PREFIX}${layerName}/${weightName}`;
      const name = weightName.replace(/:\d+$/, '');
      const owner = owners[i] ?? null;
      if (top && owner === null) unmapped.push(name);
      const ownerLayer = layerByPath.get(owner ?? top?.path ?? '');
      datasets.set(key, ds);
      drafts.push({
        key,
        name,
        shape: ds.shape,
        dtype: ds.dtype,
        savedTrainable: null,
        createdTrainable: isCreatedTrainable(ownerLayer?.spec.className ?? '', weightName),
        layer: owner ?? top?.path ?? null,
        optimizerSlot: false,
      });
    }
  }

  const optimizerGroup = await h5.get('optimizer_weights');
  if (optimizerGroup instanceof Group) {
    for (const weightName of await weightNamesOf(optimizerGroup)) {
      const ds = await optimizerGroup.get(weightName);
      if (!(ds instanceof Dataset)) {
        throw new ModelReadError(display, 'missing-dataset', `optimizer_weights lists weight "${weightName}" but has no dataset for it`);
      }
      const key = `${OPTIMIZER_PREFIX}${weightName}`;
      datasets.set(key, ds);
      drafts.push({ key, name: weightName.replace(/:\d+$/, ''), shape: ds.shape, dtype: ds.dtype, savedTrainable: null, createdTrainable: false, layer: null, optimizerSlot: true });
    }
  }

  if (unknownGroups.length > 0) {
    warnings.push({ code: 'unknown-layer', message: `model_weights has weights for ${listSome(unknownGroups)}, which model_config does not describe`, file: display });
  }
  if (unmapped.length > 0) {
    warnings.push({ code: 'unmapped-variable', message: `could not tell which layer of its nested model owns ${listSome(unmapped)}; attributed to the nested model`, file: display });
  }

  const model = assembleKerasModel(
    {
      format: 'keras-h5',
      path: display,
      tensorflowVersion: null,
      kerasVersion,
      kerasMetadataSource: 'h5-model_config',
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

/** The group's `weight_names` attribute, or (files written without it) the paths of the datasets below it. */
async function weightNamesOf(group: Group): Promise<string[]> {
  const listed = attrStrings((await group.attrs())['weight_names']);
  if (listed !== null) return listed;
  const found: string[] = [];
  const base = group.path === '/' ? '/' : `${group.path}/`;
  await group.walk((obj) => {
    if (obj instanceof Dataset) found.push(obj.path.slice(base.length));
  });
  return found;
}

const utf8 = new TextDecoder('utf-8');

function attrString(v: Hdf5Value | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (Array.isArray(v) && v.length === 1) return attrString(v[0]);
  return null;
}

function attrStrings(v: Hdf5Value | undefined): string[] | null {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const item of v) {
      const s = attrString(item);
      if (s === null) return null;
      out.push(s);
    }
    return out;
  }
  const single = attrString(v);
  return single === null ? null : [single];
}
