// Shared by the image decoders: the decoded image type, limits, and the one way they fail.
import { FinetuneError } from '../../io/errors';

/** 8-bit samples, row-major, `channels` interleaved (what tf.io.decode_image returns as uint8). */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Uint8Array;
}

/**
 * Most pixels a single image may declare. Checked on the header, before any pixel buffer is allocated:
 * a 40-megapixel photo decodes; a forged header claiming 65535 x 65535 is refused without allocating.
 */
export const MAX_IMAGE_PIXELS = 40_000_000;

export function imageFail(file: string, detail: string): never {
  throw new FinetuneError(file, 'data', detail);
}

export function checkDimensions(file: string, format: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) imageFail(file, `${format}: bad image size ${width} x ${height}`);
  if (width * height > MAX_IMAGE_PIXELS) imageFail(file, `${format}: ${width} x ${height} pixels is more than the ${MAX_IMAGE_PIXELS}-pixel limit for one image`);
}
