/**
 * Decoding in the browser: createImageBitmap decodes and orients (EXIF), an OffscreenCanvas
 * reduces to the working size over opaque black (alpha flattened on black, as in Node). Nothing
 * here imports Node modules, so the browser bundle stays free of sharp and fs.
 *
 * Browsers decode truncated JPEGs without an error (the missing rows come out grey), so a
 * truncated file is caught only in Node; `webgpu-transfer scan` finds them before training.
 */
import { BadImageError, NOT_AN_IMAGE_MESSAGE } from './bad-file.js';
import {
  checkFileSize,
  checkPixelLimit,
  DEFAULT_DECODE_OPTIONS,
  workingSize,
  type DecodedImage,
  type DecodeOptions,
} from './decode-contract.js';
import { readStoredSize } from './image-header.js';
import { sniffImageFormat } from './sniff.js';

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Fetches and decodes the image at a URL; throws BadImageError for any file that must be skipped. */
export async function decodeImageUrl(url: string, options: DecodeOptions = DEFAULT_DECODE_OPTIONS): Promise<DecodedImage> {
  let blob: Blob;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    blob = await response.blob();
  } catch (error) {
    throw new BadImageError(url, 'unreadable', errorMessage(error));
  }
  return decodeImageBlob(blob, url, options);
}

/** Decodes an image held in a Blob (a fetched file, a File from an <input>); `path` names it in errors. */
export async function decodeImageBlob(
  blob: Blob,
  path: string,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): Promise<DecodedImage> {
  checkFileSize(path, blob.size, options.maxFileBytes);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new BadImageError(path, 'not-an-image', NOT_AN_IMAGE_MESSAGE);
  const stored = readStoredSize(bytes, format);
  if (stored !== undefined) checkPixelLimit(path, stored.width, stored.height, options.maxPixels);

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new BadImageError(path, 'undecodable', errorMessage(error));
  }
  try {
    // Formats whose header is not parsed above (TIFF, AVIF) are checked once decoded.
    checkPixelLimit(path, bitmap.width, bitmap.height, options.maxPixels);
    const { width, height } = workingSize(bitmap.width, bitmap.height, options.minShorterSide);
    const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
    if (context === null) throw new Error('no 2d context on an OffscreenCanvas');
    context.fillStyle = '#000';
    context.fillRect(0, 0, width, height);
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    return { pixels: rgbaToRgb(context.getImageData(0, 0, width, height).data), width, height };
  } finally {
    bitmap.close();
  }
}

/** Drops every fourth byte: the canvas was opaque, so alpha carries nothing. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array): Uint8Array {
  const pixels = rgba.length / 4;
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return rgb;
}
