// Locating and decoding saved_model.pb / saved_model.pbtxt, and choosing the meta graph to analyse.
import type { FileSource } from '../../io/file-source';
import { LIMITS, ModelReadError } from '../../io/errors';
import type { ModelWarning } from '../../model/ir';
import type { MetaGraphDef, SavedModel } from '../proto/gen';
import { decodeSavedModel } from '../proto/gen';
import { decodeMessage } from '../proto/wire';
import { parseTextFormat } from '../proto/text-format';

export type SavedModelFile = 'saved_model.pb' | 'saved_model.pbtxt';

export interface DecodedSavedModel {
  readonly file: SavedModelFile;
  readonly savedModel: SavedModel;
}

/** Reads `saved_model.pb` (else `saved_model.pbtxt`) at the root of `src`. Throws ModelReadError. */
export async function readSavedModelProto(src: FileSource): Promise<DecodedSavedModel> {
  let file: SavedModelFile | null = null;
  let size = 0;
  for (const f of ['saved_model.pb', 'saved_model.pbtxt'] as const) {
    const st = await src.stat(f);
    if (st && !st.isDirectory) {
      file = f;
      size = st.size;
      break;
    }
  }
  if (!file) {
    throw new ModelReadError(src.displayRoot, 'not-a-saved-model', 'is not a SavedModel folder: it has no saved_model.pb or saved_model.pbtxt');
  }
  if (size > LIMITS.maxStructureFileBytes) {
    throw new ModelReadError(file, 'too-large', `is ${size} bytes, more than the ${LIMITS.maxStructureFileBytes} bytes a structure file may have`);
  }
  const bytes = await src.read(file);
  const savedModel =
    file === 'saved_model.pb'
      ? decodeMessage(bytes, file, decodeSavedModel)
      : parseTextFormat<SavedModel>(bytes, 'tensorflow.SavedModel', file);
  if (savedModel.metaGraphs.length === 0) {
    throw new ModelReadError(file, 'empty', 'holds no meta graph (is it really a SavedModel?)');
  }
  for (const [i, mg] of savedModel.metaGraphs.entries()) {
    if (!mg.graphDef && !mg.objectGraphDef) throw new ModelReadError(file, 'empty', `meta graph ${i} has neither a graph nor an object graph`);
  }
  return { file, savedModel };
}

/**
 * The meta graph to analyse. TF1 graphs: the one tagged 'train' (it holds the update ops), else 'serve',
 * else the first. TF2: the one with an object graph ('serve' first). A warning names the choice when there
 * are several.
 */
export function chooseMetaGraph(sm: SavedModel, file: string, warnings: ModelWarning[]): MetaGraphDef {
  const mgs = sm.metaGraphs;
  const tags = (m: MetaGraphDef): string[] => m.metaInfoDef?.tags ?? [];
  const withObjects = mgs.filter((m) => (m.objectGraphDef?.nodes.length ?? 0) > 0);
  const pool = withObjects.length > 0 ? withObjects : mgs;
  const chosen =
    (withObjects.length === 0 ? pool.find((m) => tags(m).includes('train')) : undefined) ??
    pool.find((m) => tags(m).includes('serve')) ??
    pool[0];
  if (mgs.length > 1) {
    warnings.push({
      code: 'multiple-meta-graphs',
      message: `${mgs.length} meta graphs (${mgs.map((m) => `[${tags(m).join(', ')}]`).join(', ')}); analysing [${tags(chosen).join(', ')}]`,
      file,
    });
  }
  return chosen;
}
