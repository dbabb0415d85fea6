// Opening the checkpoint that goes with a graph: index only (never the data shards), degrading to a
// warning when the index or a data shard is missing.
import type { FileSource } from '../../io/file-source';
import type { ModelWarning, TensorData } from '../../model/ir';
import { ModelReadError } from '../../io/errors';
import { CheckpointReader } from '../checkpoint/checkpoint';

/**
 * Opens `<prefix>.index` when it exists. Missing index -> null plus a 'missing-checkpoint' warning;
 * missing data shards -> the reader plus a 'missing-data-shard' warning (structure still opens). A
 * corrupted index throws ModelReadError naming it.
 */
export async function openCheckpointIfPresent(src: FileSource, prefix: string, warnings: ModelWarning[]): Promise<CheckpointReader | null> {
  const index = `${prefix}.index`;
  const st = await src.stat(index);
  if (!st || st.isDirectory) {
    warnings.push({
      code: 'missing-checkpoint',
      message: `no checkpoint index ${index}: structure only, variable values cannot be read`,
      file: index,
    });
    return null;
  }
  const reader = await CheckpointReader.open(src, prefix);
  const missing = reader.missingShards();
  if (missing.length > 0) {
    warnings.push({
      code: 'missing-data-shard',
      message: `missing checkpoint data shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: variable values cannot be read`,
      file: missing[0],
    });
  }
  return reader;
}

/** readTensor for a handle: through the checkpoint, or a ModelReadError when there is none. */
export function tensorReader(reader: CheckpointReader | null, display: string, prefix: string): (key: string) => Promise<TensorData> {
  return async (key: string) => {
    if (!reader) throw new ModelReadError(`${prefix}.index`, 'missing-file', `no checkpoint next to ${display}: cannot read "${key}"`);
    return reader.readTensor(key);
  };
}
