// The one entry point for reading a model: sniff the format, then hand it to that format's reader.
import path from 'node:path';
import { NodeFileSource } from './io/file-source';
import { ModelReadError, isFreezeInspectorError } from './io/errors';
import type { ModelHandle } from './model/ir';
import { detectFormat, type FormatTag } from './formats/detect';
import { openSavedModel } from './formats/saved-model/open';
import { openMetaGraph } from './formats/meta-graph/open';
import { openKerasH5 } from './formats/keras/open-h5';
import { openKerasV3 } from './formats/keras/open-keras-v3';

export { detectFormat, type FormatTag };

/**
 * Opens a model (a SavedModel folder or its saved_model.pb(txt), a `.meta` file, an `.h5` or a `.keras` file).
 * Reads structure only (never variable values). Throws only ModelReadError.
 */
export async function openModel(input: string): Promise<ModelHandle> {
  let tag: FormatTag;
  try {
    tag = await detectFormat(input);
  } catch (e) {
    if (isFreezeInspectorError(e)) throw e;
    // e.g. a folder that cannot be listed (EACCES): still a typed error naming the path.
    throw new ModelReadError(input, 'missing-file', `cannot be read (${(e as NodeJS.ErrnoException)?.code ?? String(e)})`, { cause: e });
  }
  const src = new NodeFileSource(tag.dir);
  try {
    const handle = await openTagged(tag, src, input);
    return {
      model: handle.model,
      readTensor: (key) =>
        handle.readTensor(key).catch((e: unknown) => {
          throw withModelDir(e, tag.dir);
        }),
      close: async () => {
        try {
          await handle.close();
        } finally {
          src.dispose();
        }
      },
    };
  } catch (e) {
    src.dispose();
    // Readers name files relative to the model folder; the user needs to know which model it was.
    if (isFreezeInspectorError(e)) throw withModelDir(e, tag.dir);
    // A reader bug must still reach the user as a typed error naming the file, never as a crash.
    throw new ModelReadError(input, 'internal', `could not be read: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/** Readers name files relative to the model folder; the user needs to know which model it was. */
function withModelDir(e: unknown, dir: string): unknown {
  if (e instanceof ModelReadError && e.file && !path.isAbsolute(e.file)) return new ModelReadError(path.join(dir, e.file), e.reason, e.detail, { cause: e });
  return e;
}

function openTagged(tag: FormatTag, src: NodeFileSource, input: string): Promise<ModelHandle> {
  switch (tag.kind) {
    case 'saved-model':
      return openSavedModel(src, input);
    case 'tf1-meta':
      return openMetaGraph(src, tag.metaFile, path.join(tag.dir, tag.metaFile));
    case 'keras-h5':
      return openKerasH5(src, tag.file, path.join(tag.dir, tag.file));
    case 'keras-v3':
      return openKerasV3(src, tag.file, path.join(tag.dir, tag.file));
  }
}
