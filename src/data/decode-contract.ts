/**
 * What every decoder (Node's sharp, the browser's createImageBitmap) promises: 8-bit RGB, rows of
 * pixels top to bottom (HWC), upright (EXIF orientation applied), alpha flattened on black, at a
 * "working size" reduced only as far as the GPU augmentation allows, and nothing decoded whose
 * header announces absurd dimensions.
 */
import { BadImageError } from './bad-file.js';

export interface DecodedImage {
  /** width * height * 3 bytes, RGB interleaved, row-major from the top-left pixel. */
  pixels: Uint8Array;
  width: number;
  height: number;
}

export interface DecodeOptions {
  /** Images with more pixels than this are refused from their header, before any pixel is decoded. */
  maxPixels: number;
  /** Files larger than this are refused before being read. */
  maxFileBytes: number;
  /**
   * The shorter side of the working size. Larger images are reduced so their shorter side is this
   * (the validation transform's Resize(256) then has nothing left to do, and RandomResizedCrop(224)
   * still sees more pixels than it outputs); smaller ones are kept as they are, never enlarged.
   */
  shorterSide: number;
}

export const DEFAULT_DECODE_OPTIONS: Readonly<DecodeOptions> = {
  maxPixels: 40_000_000,
  maxFileBytes: 128 * 1024 * 1024,
  shorterSide: 256,
};

/** Decodes the image at a path (a file in Node, a URL in the browser); throws BadImageError. */
export type ImageDecoder = (path: string) => Promise<DecodedImage>;

export function checkPixelLimit(path: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    const megapixels = (n: number): string => `${(n / 1e6).toFixed(1)} megapixels`;
    throw new BadImageError(
      path,
      'too-large',
      `${width}x${height} is ${megapixels(width * height)}, over the ${megapixels(maxPixels)} limit`,
    );
  }
}

export function checkFileSize(path: string, bytes: number, maxFileBytes: number): void {
  if (bytes === 0) throw new BadImageError(path, 'empty', 'the file has 0 bytes');
  if (bytes > maxFileBytes) {
    throw new BadImageError(path, 'too-large', `${bytes} bytes, over the ${maxFileBytes}-byte limit`);
  }
}

/**
 * The size to decode to: the shorter side brought down to `shorterSide`, the longer one scaled
 * with it and truncated as torchvision's Resize(int) truncates; never enlarged.
 */
export function workingSize(width: number, height: number, shorterSide: number): { width: number; height: number } {
  const short = Math.min(width, height);
  if (short <= shorterSide) return { width, height };
  const long = Math.floor((shorterSide * Math.max(width, height)) / short);
  return width <= height ? { width: shorterSide, height: long } : { width: long, height: shorterSide };
}
