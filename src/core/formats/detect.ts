// Sniff, then decode: decide what a path is from names and a few magic bytes, without parsing it.
// open.ts dispatches on the tag; lookalikes are rejected here with a message, not half-parsed.
// Sync fs calls on purpose: a handful of tiny metadata reads, where each async call would be a thread-pool
// round trip (and idle main-thread time before the first byte of the model is parsed).
import fs from 'node:fs';
import path from 'node:path';
import { ModelReadError } from '../io/errors';

export type FormatTag =
  | { kind: 'saved-model'; dir: string; protoFile: 'saved_model.pb' | 'saved_model.pbtxt' }
  | { kind: 'tf1-meta'; dir: string; metaFile: string }
  | { kind: 'keras-h5'; dir: string; file: string }
  | { kind: 'keras-v3'; dir: string; file: string };

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

function readAt(file: string, n: number, at: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = new Uint8Array(n);
    const bytesRead = fs.readSync(fd, buf, 0, n, at);
    return buf.subarray(0, bytesRead);
  } finally {
    fs.closeSync(fd);
  }
}

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

function hdf5SignatureAt(file: string, size: number): boolean {
  // The HDF5 superblock may sit at 0, 512, 1024, 2048, ... (a user block precedes it).
  for (let at = 0; at < Math.min(size, 1 << 20); at = at === 0 ? 512 : at * 2) {
    if (startsWith(readAt(file, 8, at), HDF5_MAGIC)) return true;
  }
  return false;
}

/** Decides which reader handles `input` (a file or a folder). Throws ModelReadError when none does. */
export async function detectFormat(input: string): Promise<FormatTag> {
  let stat;
  try {
    stat = fs.statSync(input);
  } catch {
    throw new ModelReadError(input, 'missing-file', 'no such file or folder');
  }
  if (stat.isDirectory()) {
    const names = new Set(fs.readdirSync(input));
    if (names.has('saved_model.pb')) return { kind: 'saved-model', dir: input, protoFile: 'saved_model.pb' };
    if (names.has('saved_model.pbtxt')) return { kind: 'saved-model', dir: input, protoFile: 'saved_model.pbtxt' };
    const metas = [...names].filter((n) => n.endsWith('.meta'));
    if (metas.length === 1) return { kind: 'tf1-meta', dir: input, metaFile: metas[0]! };
    const kerasFiles = [...names].filter((n) => n.endsWith('.keras') || n.endsWith('.h5') || n.endsWith('.hdf5'));
    if (kerasFiles.length === 1) return detectFormat(path.join(input, kerasFiles[0]!));
    const hint = metas.length > 1 ? ` (it holds ${metas.length} .meta files: open one of them)` : '';
    throw new ModelReadError(input, 'not-a-model', `folder is not a model: no saved_model.pb, saved_model.pbtxt, .meta, .h5 or .keras file${hint}`);
  }
  const base = path.basename(input);
  const dir = path.dirname(input);
  if (base === 'saved_model.pb' || base === 'saved_model.pbtxt') {
    return { kind: 'saved-model', dir, protoFile: base };
  }
  if (stat.size === 0) throw new ModelReadError(input, 'empty-file', 'file is empty');
  const bytes = readAt(input, 8, 0);
  if (base.endsWith('.meta')) return { kind: 'tf1-meta', dir, metaFile: base };
  if (startsWith(bytes, ZIP_MAGIC)) {
    if (base.endsWith('.keras') || base.endsWith('.zip')) return { kind: 'keras-v3', dir, file: base };
    throw new ModelReadError(input, 'unknown-format', 'file is a zip archive but not a .keras model');
  }
  if (hdf5SignatureAt(input, stat.size)) return { kind: 'keras-h5', dir, file: base };
  if (base.endsWith('.keras')) throw new ModelReadError(input, 'bad-magic', 'a .keras file must be a zip archive (it does not start with PK\\x03\\x04)');
  if (base.endsWith('.h5') || base.endsWith('.hdf5')) throw new ModelReadError(input, 'bad-magic', 'not an HDF5 file (no HDF5 signature)');
  if (base.endsWith('.index') || /\.data-\d{5}-of-\d{5}$/.test(base)) {
    throw new ModelReadError(input, 'unknown-format', 'this is a checkpoint shard; open the SavedModel folder or the matching .meta file instead');
  }
  throw new ModelReadError(input, 'unknown-format', 'not a TensorFlow or Keras model (expected a SavedModel folder, saved_model.pb(txt), .meta, .h5 or .keras)');
}
