// BMP decoder: uncompressed (BI_RGB, and BI_BITFIELDS read as plain BGRA) 24-bit, 32-bit and 8-bit files,
// bottom-up or top-down (negative height), rows padded to 4 bytes. The output is what tf.io.decode_image
// returns, and TensorFlow's BMP decoder is simple:
//   - pixel data starts at the file header's offset (bytes 10-13); width, height and bits per pixel are read
//     from the BITMAPINFOHEADER positions (18, 22, 28);
//   - 24/32-bit: BGR(A) -> RGB(A); 24-bit with C=4 gets alpha 255;
//   - 8-bit: the palette is NOT applied: the index byte is the gray value (C=3: repeated in R, G, B);
//   - C=1 is refused ("`channels` must be 0, 3 or 4 for BMP"), as are 1/4/16-bit files.
// Compressed files (RLE4/RLE8/JPEG/PNG inside BMP) and OS/2 core headers are refused: TensorFlow would read
// their bytes as raw pixels.
import { checkDimensions, imageFail, type DecodedImage } from './common';

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export function decodeBmp(bytes: Uint8Array, file: string, channels: number): DecodedImage {
  const fail = (detail: string): never => imageFail(file, `BMP: ${detail}`);
  if (!isBmp(bytes)) fail('bad signature (not "BM")');
  if (bytes.length < 54) fail(`truncated: ${bytes.length} bytes, the headers alone take 54`);
  if (channels !== 3 && channels !== 4) fail(`TensorFlow decodes BMP with 3 or 4 channels, the model wants ${channels}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getInt32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (headerSize < 40) fail(`info header of ${headerSize} bytes (OS/2 BMP) is not supported`);
  if (compression !== 0 && !(compression === 3 && bits === 32)) fail(`compression ${compression} (${['BI_RGB', 'BI_RLE8', 'BI_RLE4', 'BI_BITFIELDS', 'BI_JPEG', 'BI_PNG'][compression] ?? 'unknown'}) is not supported: only uncompressed files`);
  if (bits !== 8 && bits !== 24 && bits !== 32) fail(`${bits} bits per pixel is not supported (8, 24 or 32)`);
  if (dataOffset < 0) fail(`negative pixel data offset ${dataOffset}`);
  const height = Math.abs(rawHeight);
  checkDimensions(file, 'BMP', width, height);
  const src = bits / 8;
  const rowSize = Math.floor((src * width + 3) / 4) * 4;
  const end = dataOffset + (height - 1) * rowSize + width * src;
  if (end > bytes.length) fail(`truncated: the pixels need ${end} bytes, the file has ${bytes.length}`);
  const topDown = rawHeight < 0;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowSize;
    for (let x = 0; x < width; x++) {
      const s = row + x * src;
      const d = (y * width + x) * channels;
      if (src === 1) {
        out[d] = out[d + 1] = out[d + 2] = bytes[s]!;
        if (channels === 4) out[d + 3] = 255;
      } else {
        out[d] = bytes[s + 2]!;
        out[d + 1] = bytes[s + 1]!;
        out[d + 2] = bytes[s]!;
        if (channels === 4) out[d + 3] = src === 4 ? bytes[s + 3]! : 255;
      }
    }
  }
  return { width, height, channels, data: out };
}
