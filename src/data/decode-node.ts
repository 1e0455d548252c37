/**
 * Decoding in Node with sharp (libvips): the file's header is read first and absurd dimensions are
 * refused; then one pipeline orients (EXIF), reduces to the working size, flattens alpha on black,
 * converts grayscale and CMYK to sRGB and returns 8-bit RGB.
 */
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { BadImageError, NOT_AN_IMAGE_MESSAGE, type BadFileReason } from './bad-file.js';
import { SharedExclusiveLock } from './concurrency.js';
import {
  checkFileSize,
  checkPixelLimit,
  DEFAULT_DECODE_OPTIONS,
  workingSize,
  type DecodedImage,
  type DecodeOptions,
} from './decode-contract.js';
import { sniffImageFormat, type ImageFormat } from './sniff.js';

// libvips reads these; BMP and the rest need ImageMagick, which sharp's prebuilt binaries lack.
const SHARP_FORMATS: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'gif', 'webp', 'tiff', 'avif', 'heif']);

// Like PIL: refuse images whose data stops early, accept the warnings libjpeg prints for the
// archive's files with extraneous bytes before a marker.
const FAIL_ON = 'truncated';

// Alpha is composited on black: a transparent pixel carries no signal, and PIL's convert('RGB'),
// which drops alpha, gives black too for the usual zeroed transparent pixels.
const FLATTEN_BACKGROUND = { r: 0, g: 0, b: 0 };

/** Reads and decodes one image file; throws BadImageError for any file that must be skipped. */
export async function decodeImageFile(
  path: string,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): Promise<DecodedImage> {
  return decodeImageBytes(await readImageFile(path, options.maxFileBytes), path, options);
}

/** Decodes image bytes already in memory; `path` only names the file in errors. */
export async function decodeImageBytes(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): Promise<DecodedImage> {
  const header = await readHeader(bytes, path, options);
  const size = workingSize(header.width, header.height, options.minShorterSide);
  let pipeline = sharp(bytes, { failOn: FAIL_ON, limitInputPixels: options.maxPixels, autoOrient: true });
  if (size.width !== header.width || size.height !== header.height) {
    // 'linear' reduces with a triangle filter as wide as the scale, like PIL's antialiased bilinear.
    pipeline = pipeline.resize(size.width, size.height, { fit: 'fill', kernel: 'linear' });
  }
  if (header.hasAlpha) pipeline = pipeline.flatten({ background: FLATTEN_BACKGROUND });
  const { data, info } = await sharpCall(path, () =>
    pipeline.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 3) throw new BadImageError(path, 'undecodable', `decoded to ${info.channels} channels, not 3`);
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

export interface ImageHeader {
  format: ImageFormat;
  /** Upright dimensions (after EXIF orientation). */
  width: number;
  height: number;
  hasAlpha: boolean;
}

/** Reads a file's header only and applies the same checks as decoding, short of the pixels. */
export async function checkImageHeader(
  path: string,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): Promise<ImageHeader> {
  return readHeader(await readImageFile(path, options.maxFileBytes), path, options);
}

async function readHeader(bytes: Uint8Array, path: string, options: DecodeOptions): Promise<ImageHeader> {
  checkFileSize(path, bytes.length, options.maxFileBytes);
  const format = sniffImageFormat(bytes);
  if (format === undefined) throw new BadImageError(path, 'not-an-image', NOT_AN_IMAGE_MESSAGE);
  if (!SHARP_FORMATS.has(format)) {
    throw new BadImageError(path, 'unsupported-format', `${format.toUpperCase()} cannot be decoded in Node (sharp)`);
  }
  // libvips decodes no pixel for metadata; the limit is checked here to name the dimensions.
  const metadata = await sharpCall(path, () => sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata());
  checkPixelLimit(path, metadata.width, metadata.height, options.maxPixels);
  return { format, width: metadata.autoOrient.width, height: metadata.autoOrient.height, hasAlpha: metadata.hasAlpha };
}

async function readImageFile(path: string, maxFileBytes: number): Promise<Uint8Array> {
  try {
    const file = await open(path, 'r');
    try {
      checkFileSize(path, (await file.stat()).size, maxFileBytes);
      return await file.readFile();
    } finally {
      await file.close();
    }
  } catch (error) {
    if (error instanceof BadImageError) throw error;
    throw new BadImageError(path, 'unreadable', errorMessage(error));
  }
}

// libvips keeps one error buffer for all threads: with several decodes in flight, a failure can
// come back with another image's message, several messages, or "Unknown error". A failed call is
// therefore made again with no other decode in flight, so the reason recorded is its own.
const libvips = new SharedExclusiveLock();

/** Runs a sharp call, turning its failure into a BadImageError with a trustworthy message. */
async function sharpCall<T>(path: string, call: () => Promise<T>): Promise<T> {
  try {
    return await libvips.shared(call);
  } catch {
    return libvips.exclusive(async () => {
      try {
        return await call();
      } catch (error) {
        const message = errorMessage(error);
        throw new BadImageError(path, classifySharpError(message), message);
      }
    });
  }
}

function classifySharpError(message: string): BadFileReason {
  if (/premature end|truncated|unexpected end|not enough data|out of data/i.test(message)) return 'truncated';
  if (/pixel limit/i.test(message)) return 'too-large';
  if (/unsupported image format/i.test(message)) return 'not-an-image';
  return 'undecodable';
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
