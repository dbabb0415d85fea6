// TF1 `.meta` file (a MetaGraphDef, binary or text) + the checkpoint with the same prefix
// (`model.ckpt.meta` -> `model.ckpt.index` / `model.ckpt.data-*`) -> ModelHandle. Reads the index only.
import type { FileSource } from '../../io/file-source';
import { LIMITS, ModelReadError } from '../../io/errors';
import type { ModelHandle, ModelWarning } from '../../model/ir';
import type { MetaGraphDef } from '../proto/gen';
import { decodeMetaGraphDef } from '../proto/gen';
import { decodeMessage } from '../proto/wire';
import { parseTextFormat } from '../proto/text-format';
import { buildTf1Model } from '../tf1/build';
import { summarizeMetaGraph } from './summary';
import { openCheckpointIfPresent, tensorReader } from './checkpoint-index';

/** `metaFile` is relative to `src` ('model.ckpt.meta'); `display` is what the user opened. */
export async function openMetaGraph(src: FileSource, metaFile: string, display: string): Promise<ModelHandle> {
  const st = await src.stat(metaFile);
  if (!st || st.isDirectory) throw new ModelReadError(metaFile, 'missing-file', 'does not exist');
  if (st.size > LIMITS.maxStructureFileBytes) {
    throw new ModelReadError(metaFile, 'too-large', `is ${st.size} bytes, more than the ${LIMITS.maxStructureFileBytes} bytes a structure file may have`);
  }
  const bytes = await src.read(metaFile);
  const mg = looksLikeText(bytes)
    ? parseTextFormat<MetaGraphDef>(bytes, 'tensorflow.MetaGraphDef', metaFile)
    : decodeMessage(bytes, metaFile, decodeMetaGraphDef);
  if (!mg.graphDef || mg.graphDef.node.length === 0) throw new ModelReadError(metaFile, 'empty', 'holds no graph (is it really a TF1 .meta file?)');
  const warnings: ModelWarning[] = [];
  const prefix = metaFile.replace(/\.meta$/, '');
  const checkpoint = await openCheckpointIfPresent(src, prefix, warnings);
  const model = buildTf1Model({
    format: 'tf1-meta-checkpoint',
    path: display,
    file: metaFile,
    metaGraphs: [summarizeMetaGraph(mg)],
    metaGraph: mg,
    checkpoint,
    warnings,
  });
  return { model, readTensor: tensorReader(checkpoint, display, prefix), close: async () => {} };
}

/** Text-format MetaGraphDefs start with a field name or a comment; binary ones with a field tag byte. */
function looksLikeText(b: Uint8Array): boolean {
  let i = 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  if (i >= b.length) return false;
  const c = b[i];
  return c === 0x23 /* # */ || (c >= 0x61 && c <= 0x7a);
}
