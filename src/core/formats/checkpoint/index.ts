// Public surface of the TensorFlow checkpoint (tensor bundle) reader.
export {
  CheckpointReader,
  dataFileName,
  OBJECT_GRAPH_KEY,
  OPTIMIZER_SLOT_MARKER,
  type CheckpointEntry,
  type CheckpointHeader,
  type CheckpointOpenOptions,
} from './checkpoint';
export { SsTable, hasTableMagic, type BlockHandle, type TableEntry } from './table';
export { crc32c, crc32cExtend, maskCrc, unmaskCrc } from './crc32c';
export { snappyDecompress } from './snappy';
