/**
 * What every decoder (Node's sharp, the browser's createImageBitmap) promises: 8-bit RGB, rows of
 * pixels top to bottom (HWC), upright (EXIF orientation applied), alpha flattened on black, at a
 * "working size" reduced only where that pays, never below what the GPU augmentation needs, and
 * nothing decoded whose header announces absurd dimensions.
 */
import { BadImageError, EMPTY_FILE_MESSAGE } from './bad-file.js';

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
   * The least shorter side a reduced image keeps: 256 lets RandomResizedCrop(224) and the
   * validation's Resize(256) + CenterCrop(224) work from at least as many pixels as they output.
   */
  minShorterSide: number;
}

export const DEFAULT_DECODE_OPTIONS: Readonly<DecodeOptions> = {
  maxPixels: 40_000_000,
  maxFileBytes: 128 * 1024 * 1024,
  minShorterSide: 256,
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
  if (bytes === 0) throw new BadImageError(path, 'empty', EMPTY_FILE_MESSAGE);
  if (bytes > maxFileBytes) {
    throw new BadImageError(path, 'too-large', `${bytes} bytes, over the ${maxFileBytes}-byte limit`);
  }
}

/** Images are reduced on the CPU only when their shorter side is at least this many times the minimum. */
export const REDUCE_FROM = 2;

/**
 * The size to decode to. An image whose shorter side is under REDUCE_FROM x minShorterSide is kept
 * as it is: for the archive's typical 500x375 JPEG, resampling to 341x256 costs about as much CPU
 * as decoding (bench/decode.ts), and the GPU resamples anyway. A larger one is reduced so that its
 * shorter side is minShorterSide (JPEG's DCT scaling does most of it while decoding), the longer
 * side scaled with it and truncated as torchvision's Resize(int) truncates. Never enlarged.
 */
export function workingSize(width: number, height: number, minShorterSide: number): { width: number; height: number } {
  const short = Math.min(width, height);
  if (short < REDUCE_FROM * minShorterSide) return { width, height };
  const long = Math.floor((minShorterSide * Math.max(width, height)) / short);
  return width <= height ? { width: minShorterSide, height: long } : { width: long, height: minShorterSide };
}
