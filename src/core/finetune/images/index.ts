// Image folders as verification data for the TensorFlow.js engine, with the meaning of the Python engine's
// load_images (python/engine/runner.py): every .png/.jpg/.jpeg/.bmp/.gif file under the folder (recursively,
// sorted by full path), decoded as tf.io.decode_image(..., channels=C, expand_animations=False) decodes it,
// resized as tf.image.resize(float32 image, (H, W)) resizes it (values 0-255, float32); labels one-hot from
// the sorted sub-folder names when their number equals the model's output size, else none (synthetic targets).
// The format is recognised by its first bytes (as decode_image), not by the file extension.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { FinetuneError } from '../../io/errors';
import { imageFail, type DecodedImage } from './common';
import { decodeBmp, isBmp } from './bmp';
import { decodeGif, isGif } from './gif';
import { decodeJpeg, isJpeg } from './jpeg';
import { decodePng, isPng } from './png';
import { resizeBilinear } from './resize';

export { MAX_IMAGE_PIXELS, type DecodedImage } from './common';
export { resizeBilinear } from './resize';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.gif'] as const;
/** Largest image file read. */
const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

/** Decodes one image file's bytes to `channels` 8-bit channels; every failure is a FinetuneError naming `file`. */
export function decodeImage(bytes: Uint8Array, file: string, channels: number): DecodedImage {
  if (channels !== 1 && channels !== 3 && channels !== 4) imageFail(file, `images decode to 1, 3 or 4 channels (as tf.io.decode_image); the model's input has ${channels}`);
  if (bytes.length === 0) imageFail(file, 'empty file');
  try {
    if (isJpeg(bytes)) return decodeJpeg(bytes, file, channels);
    if (isPng(bytes)) return decodePng(bytes, file, channels);
    if (isGif(bytes)) return decodeGif(bytes, file, channels);
    if (isBmp(bytes)) return decodeBmp(bytes, file, channels);
  } catch (e) {
    if (e instanceof FinetuneError) throw e;
    // a decoder bug must still name the file, never crash the run
    return imageFail(file, `cannot be decoded: ${(e as Error).message}`);
  }
  return imageFail(file, 'unknown image format: the first bytes are not those of a JPEG, PNG, GIF or BMP file');
}

/** Python's str ordering (code points) = UTF-8 byte order. */
function pyCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** os.walk(folder) (no symlinked directories followed), files with an image extension, sorted by full path. */
export async function listImages(folder: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (dir === folder) imageFail(folder, `cannot be read: ${(e as Error).message}`);
      return; // os.walk skips unreadable sub-folders
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      const dirLike = e.isDirectory() || (e.isSymbolicLink() && (await isDir(p)));
      if (dirLike) {
        if (!e.isSymbolicLink()) subdirs.push(p);
      } else if (IMAGE_EXTENSIONS.some((x) => e.name.toLowerCase().endsWith(x))) {
        files.push(p);
      }
    }
    for (const d of subdirs) await walk(d);
  };
  await walk(folder);
  return files.sort(pyCompare);
}

export interface ImageFolderData {
  /** (N, H, W, C) float32, 0-255. */
  readonly x: { readonly shape: readonly number[]; readonly data: Float32Array };
  /** (N, K) one-hot, or null when the sub-folders do not give K classes. */
  readonly y: { readonly shape: readonly number[]; readonly data: Float32Array } | null;
  readonly files: readonly string[];
  readonly classes: readonly string[];
}

export async function loadImageFolder(folder: string, inputShape: readonly number[], outputShape: readonly number[]): Promise<ImageFolderData> {
  if (inputShape.length !== 3) imageFail(folder, `an image folder needs a model input of shape (H, W, C), not (${inputShape.join(', ')})`);
  const [h, w, c] = inputShape as [number, number, number];
  if (!(await isDir(folder))) imageFail(folder, 'not a folder');
  const names = await fsp.readdir(folder);
  const classes: string[] = [];
  for (const n of names) if (await isDir(path.join(folder, n))) classes.push(n);
  classes.sort(pyCompare);
  const files = await listImages(folder);
  if (files.length === 0) imageFail(folder, `no images (${IMAGE_EXTENSIONS.join(', ')})`);
  const size = h * w * c;
  const x = new Float32Array(files.length * size);
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    let bytes: Uint8Array;
    try {
      const st = await fsp.stat(f);
      if (st.size > MAX_IMAGE_FILE_BYTES) imageFail(f, `${st.size} bytes is more than the ${MAX_IMAGE_FILE_BYTES}-byte limit for one image`);
      bytes = new Uint8Array(await fsp.readFile(f));
    } catch (e) {
      if (e instanceof FinetuneError) throw e;
      return imageFail(f, `cannot be read: ${(e as Error).message}`);
    }
    const img = decodeImage(bytes, f, c);
    x.set(resizeBilinear(img.data, img.height, img.width, c, h, w), i * size);
  }
  const outSize = outputShape.reduce((a, b) => a * b, 1);
  let y: ImageFolderData['y'] = null;
  if (classes.length > 0 && classes.length === outSize) {
    const data = new Float32Array(files.length * outSize);
    files.forEach((f, i) => {
      const top = path.relative(folder, f).split(path.sep)[0]!;
      const k = classes.indexOf(top);
      if (k >= 0) data[i * outSize + k] = 1;
    });
    y = { shape: [files.length, outSize], data };
  }
  return { x: { shape: [files.length, h, w, c], data: x }, y, files, classes };
}
