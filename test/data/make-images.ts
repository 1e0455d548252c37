/**
 * Real image files made with sharp in a temporary folder: photo-like JPEGs (gradients and noise,
 * so they compress as photos do) and every odd file the Cats and Dogs archive is known to hold.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export async function makeTempDir(prefix = 'webgpu-transfer-data-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** RGB bytes with smooth gradients, two soft waves and pixel noise, different for each seed. */
export function photoLikePixels(width: number, height: number, seed: number): Buffer {
  let state = (seed * 0x9e3779b9 + 0x6d2b79f5) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: cheap noise; these pixels need no statistical quality
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  const channels = [0, 1, 2].map(() => ({
    base: 40 + next() * 120,
    slopeX: (next() - 0.5) * 120,
    slopeY: (next() - 0.5) * 120,
    wave: 20 + next() * 30,
    period: 20 + next() * 60,
  }));
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      channels.forEach((c, k) => {
        const smooth = c.base + (c.slopeX * x) / width + (c.slopeY * y) / height;
        const wave = c.wave * Math.sin(x / c.period + k) * Math.cos(y / (c.period * 0.7));
        const noise = (next() - 0.5) * 24;
        pixels[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(smooth + wave + noise)));
      });
    }
  }
  return pixels;
}

const rawRgb = (pixels: Buffer, width: number, height: number) =>
  sharp(pixels, { raw: { width, height, channels: 3 } });

export async function photoLikeJpeg(width: number, height: number, seed: number, quality = 85): Promise<Buffer> {
  return rawRgb(photoLikePixels(width, height, seed), width, height).jpeg({ quality }).toBuffer();
}

/** A width x height RGB image, red in the top-left quadrant and blue elsewhere: shows orientation. */
export function quadrantPixels(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const topLeft = x < width / 2 && y < height / 2;
      pixels.set(topLeft ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
    }
  }
  return pixels;
}

/** A JPEG stored sideways with EXIF orientation 6: shown upright it is height x width. */
export async function rotatedJpeg(width: number, height: number): Promise<Buffer> {
  return rawRgb(quadrantPixels(width, height), width, height).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
}

export async function grayscaleJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return rawRgb(photoLikePixels(width, height, seed), width, height).toColourspace('b-w').jpeg().toBuffer();
}

export async function cmykJpeg(width: number, height: number, seed: number): Promise<Buffer> {
  return rawRgb(photoLikePixels(width, height, seed), width, height).toColourspace('cmyk').jpeg().toBuffer();
}

/** An RGBA PNG: left half opaque white, right half white at alpha 0. */
export async function halfTransparentPng(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < height; y++) {
    for (let x = Math.ceil(width / 2); x < width; x++) pixels[(y * width + x) * 4 + 3] = 0;
  }
  return sharp(pixels, { raw: { width, height, channels: 4 } }).png().toBuffer();
}

export async function photoLikePng(width: number, height: number, seed: number): Promise<Buffer> {
  return rawRgb(photoLikePixels(width, height, seed), width, height).png().toBuffer();
}

/** The first part of a JPEG only, as a download cut short leaves it. */
export function truncated(bytes: Buffer, keep = 0.6): Buffer {
  return bytes.subarray(0, Math.floor(bytes.length * keep));
}

/** A valid small JPEG whose frame header claims width x height (no pixel data to match). */
export function withClaimedJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
  const patched = Buffer.from(jpeg);
  for (let at = 2; at + 9 < patched.length; at++) {
    if (patched[at] === 0xff && patched[at + 1] === 0xc0) {
      patched.writeUInt16BE(height, at + 5);
      patched.writeUInt16BE(width, at + 7);
      return patched;
    }
  }
  throw new Error('no baseline frame header (FFC0) in this JPEG');
}

/** A bottom-up 24-bit BMP (sharp writes none; browsers read them). */
export function bmp(width: number, height: number, rgb: Buffer): Buffer {
  const rowBytes = (width * 3 + 3) & ~3;
  const file = Buffer.alloc(54 + rowBytes * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14); // BITMAPINFOHEADER
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = 54 + (height - 1 - y) * rowBytes + x * 3;
      file.set([rgb[from + 2]!, rgb[from + 1]!, rgb[from]!], to); // BGR
    }
  }
  return file;
}

/** Windows' thumbnail cache: an OLE compound file, as found beside the archive's images. */
export const THUMBS_DB = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);

/** Every kind of file in one class folder, by name, with what the pipeline should make of it. */
export const ODD_FILES = {
  'gray.jpg': 'usable',
  'cmyk.jpg': 'usable',
  'rgba.png': 'usable',
  'rotated.jpg': 'usable',
  'png-named.jpg': 'usable',
  'empty.jpg': 'empty',
  'text.jpg': 'not-an-image',
  'truncated.jpg': 'truncated',
  'huge.jpg': 'too-large',
  'Thumbs.db': 'ignored',
} as const;

export async function oddFileBytes(name: keyof typeof ODD_FILES): Promise<Buffer> {
  switch (name) {
    case 'gray.jpg':
      return grayscaleJpeg(80, 60, 1);
    case 'cmyk.jpg':
      return cmykJpeg(80, 60, 2);
    case 'rgba.png':
      return halfTransparentPng(40, 30);
    case 'rotated.jpg':
      return rotatedJpeg(60, 40);
    case 'png-named.jpg':
      return photoLikePng(50, 40, 3);
    case 'empty.jpg':
      return Buffer.alloc(0);
    case 'text.jpg':
      return Buffer.from('this is a text file with an image name\n');
    case 'truncated.jpg':
      return truncated(await photoLikeJpeg(120, 90, 4));
    case 'huge.jpg':
      return withClaimedJpegSize(await photoLikeJpeg(16, 16, 5), 60000, 60000);
    case 'Thumbs.db':
      return THUMBS_DB;
  }
}

export async function writeFiles(dir: string, files: Record<string, Buffer>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(files).map(([name, bytes]) => writeFile(join(dir, name), bytes)));
}

/**
 * A PetImages-like folder: `Cat` with `cats` photo-like JPEGs plus every odd file, `Dog` with
 * `dogs` JPEGs. Returns the folder.
 */
export async function writePetImages(root: string, { cats = 6, dogs = 5 } = {}): Promise<string> {
  const jpegs = async (count: number, seedBase: number): Promise<Record<string, Buffer>> =>
    Object.fromEntries(
      await Promise.all(
        Array.from({ length: count }, async (_, i) => [`${i}.jpg`, await photoLikeJpeg(64, 48, seedBase + i)] as const),
      ),
    );
  const odd = Object.fromEntries(
    await Promise.all(
      (Object.keys(ODD_FILES) as (keyof typeof ODD_FILES)[]).map(async (name) => [name, await oddFileBytes(name)] as const),
    ),
  );
  await writeFiles(join(root, 'Cat'), { ...(await jpegs(cats, 100)), ...odd });
  await writeFiles(join(root, 'Dog'), await jpegs(dogs, 200));
  return root;
}
