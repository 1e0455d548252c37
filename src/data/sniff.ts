/**
 * Image formats recognised by their first bytes ("magic numbers"), never by the file name: the
 * Cats and Dogs archive has PNGs and other non-JPEG files named `.jpg`, and a decoder must be
 * chosen by what a file holds.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif' | 'heif';

/** Enough leading bytes to recognise every format below. */
export const SNIFF_BYTES = 32;

const ascii = (bytes: Uint8Array, offset: number, text: string): boolean => {
  if (bytes.length < offset + text.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
};

const startsWith = (bytes: Uint8Array, prefix: readonly number[]): boolean =>
  bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);

// BMP's "BM" is two printable letters, so the DIB header size (a short list) must agree too.
const BMP_DIB_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);
const isBmp = (bytes: Uint8Array): boolean =>
  ascii(bytes, 0, 'BM') &&
  bytes.length >= 18 &&
  BMP_DIB_HEADER_SIZES.has(new DataView(bytes.buffer, bytes.byteOffset + 14, 4).getUint32(0, true));

// ISO base media files (AVIF, HEIC) start with an `ftyp` box whose major brand names the codec.
const AVIF_BRANDS = ['avif', 'avis'];
const HEIF_BRANDS = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'];
const isoBrand = (bytes: Uint8Array, brands: readonly string[]): boolean =>
  ascii(bytes, 4, 'ftyp') && brands.some((brand) => ascii(bytes, 8, brand));

/** The image format the bytes start with, or undefined when they are not an image we know. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return 'gif';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (isBmp(bytes)) return 'bmp';
  if (isoBrand(bytes, AVIF_BRANDS)) return 'avif';
  if (isoBrand(bytes, HEIF_BRANDS)) return 'heif';
  return undefined;
}

// torchvision's IMG_EXTENSIONS and the names above; only used to tell a broken image from a
// stray non-image file (a `.jpg` that holds text is a bad file, a `Thumbs.db` is not).
const IMAGE_EXTENSIONS = new Set([
  'jpg', 'jpeg', 'jpe', 'jfif', 'png', 'gif', 'webp', 'bmp', 'dib', 'tif', 'tiff', 'avif', 'heic', 'heif',
  'ppm', 'pgm', 'pbm', 'pnm',
]);

/** Whether the file name claims to be an image. */
export function hasImageExtension(fileName: string): boolean {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.has(fileName.slice(dot + 1).toLowerCase());
}
