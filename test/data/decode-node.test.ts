import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadImageError } from '../../src/data/bad-file.js';
import { DEFAULT_DECODE_OPTIONS, workingSize, type DecodedImage } from '../../src/data/decode-contract.js';
import { checkImageHeader, decodeImageBytes, decodeImageFile } from '../../src/data/decode-node.js';
import { mapConcurrently } from '../../src/data/concurrency.js';
import { bmp, makeTempDir, oddFileBytes, photoLikeJpeg, photoLikePixels, photoLikePng, removeDir, truncated } from './make-images.js';

const pixel = (image: DecodedImage, x: number, y: number): number[] => {
  const at = (y * image.width + x) * 3;
  return [...image.pixels.subarray(at, at + 3)];
};

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BadImageError) return error.reason;
    throw error;
  }
  return 'decoded';
}

describe('workingSize', () => {
  it('reduces an image twice the minimum or more to the minimum shorter side, truncating as torchvision does', () => {
    expect(workingSize(1000, 750, 256)).toEqual({ width: 341, height: 256 });
    expect(workingSize(750, 1000, 256)).toEqual({ width: 256, height: 341 });
    expect(workingSize(4000, 3000, 256)).toEqual({ width: 341, height: 256 });
    expect(workingSize(512, 512, 256)).toEqual({ width: 256, height: 256 });
  });

  it('keeps an image under twice the minimum as it is, where reducing costs more than it saves', () => {
    expect(workingSize(500, 375, 256)).toEqual({ width: 500, height: 375 });
    expect(workingSize(2000, 511, 256)).toEqual({ width: 2000, height: 511 });
  });

  it('never enlarges', () => {
    expect(workingSize(200, 150, 256)).toEqual({ width: 200, height: 150 });
  });
});

describe('decodeImageBytes', () => {
  it('decodes a JPEG to RGB at the working size', async () => {
    const image = await decodeImageBytes(await photoLikeJpeg(1000, 750, 1), 'photo.jpg');
    expect([image.width, image.height]).toEqual([341, 256]);
    expect(image.pixels.length).toBe(341 * 256 * 3);
  });

  it('reduces like an antialiased bilinear resize: a reduced image keeps the mean colour', async () => {
    const jpeg = await photoLikeJpeg(1000, 750, 7);
    const full = await decodeImageBytes(jpeg, 'photo.jpg', { ...DEFAULT_DECODE_OPTIONS, minShorterSide: 750 });
    const reduced = await decodeImageBytes(jpeg, 'photo.jpg');
    const mean = (image: DecodedImage) => image.pixels.reduce((sum, value) => sum + value, 0) / image.pixels.length;
    expect([full.width, full.height]).toEqual([1000, 750]);
    expect(Math.abs(mean(full) - mean(reduced))).toBeLessThan(1);
  });

  it('keeps a small image at its size, with the colours it had', async () => {
    const image = await decodeImageBytes(await photoLikePng(40, 30, 2), 'small.png');
    expect([image.width, image.height]).toEqual([40, 30]);
    expect(Buffer.from(image.pixels).equals(photoLikePixels(40, 30, 2))).toBe(true);
  });

  it('follows the configured working size', async () => {
    const image = await decodeImageBytes(await photoLikeJpeg(500, 375, 1), 'photo.jpg', { ...DEFAULT_DECODE_OPTIONS, minShorterSide: 100 });
    expect([image.width, image.height]).toEqual([133, 100]);
  });

  it('turns a grayscale JPEG into three equal channels', async () => {
    const bytes = await oddFileBytes('gray.jpg');
    expect((await sharp(bytes).metadata()).channels).toBe(1);
    const image = await decodeImageBytes(bytes, 'gray.jpg');
    expect(image.pixels.length).toBe(80 * 60 * 3);
    for (let i = 0; i < image.pixels.length; i += 3) {
      expect(image.pixels[i + 1]).toBe(image.pixels[i]);
      expect(image.pixels[i + 2]).toBe(image.pixels[i]);
    }
  });

  it('turns a CMYK JPEG into RGB close to the original', async () => {
    const bytes = await oddFileBytes('cmyk.jpg');
    expect((await sharp(bytes).metadata()).space).toBe('cmyk');
    const image = await decodeImageBytes(bytes, 'cmyk.jpg');
    expect(image.pixels.length).toBe(80 * 60 * 3);
    const original = photoLikePixels(80, 60, 2);
    let error = 0;
    for (let i = 0; i < original.length; i++) error += Math.abs(original[i]! - image.pixels[i]!);
    expect(error / original.length).toBeLessThan(25);
  });

  it('flattens alpha on black', async () => {
    const bytes = await oddFileBytes('rgba.png');
    expect((await sharp(bytes).metadata()).channels).toBe(4);
    const image = await decodeImageBytes(bytes, 'rgba.png');
    expect(pixel(image, 0, 0)).toEqual([255, 255, 255]);
    expect(pixel(image, 39, 29)).toEqual([0, 0, 0]);
  });

  it('brings a 16-bit PNG and a gray-with-alpha PNG to 8-bit RGB', async () => {
    const rgb16 = await sharp(photoLikePixels(20, 10, 4), { raw: { width: 20, height: 10, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    expect((await sharp(rgb16).metadata()).depth).toBe('ushort');
    const deep = await decodeImageBytes(rgb16, 'deep.png');
    expect(deep.pixels.length).toBe(20 * 10 * 3);
    expect(Math.abs(deep.pixels[0]! - photoLikePixels(20, 10, 4)[0]!)).toBeLessThanOrEqual(1);

    const grayAlpha = await sharp(Buffer.from([200, 255, 200, 0]), { raw: { width: 2, height: 1, channels: 2 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(grayAlpha).metadata()).channels).toBe(2);
    const flattened = await decodeImageBytes(grayAlpha, 'gray-alpha.png');
    expect([...flattened.pixels]).toEqual([200, 200, 200, 0, 0, 0]);
  });

  it('applies the EXIF orientation: a sideways 60x40 JPEG comes out upright 40x60', async () => {
    const image = await decodeImageBytes(await oddFileBytes('rotated.jpg'), 'rotated.jpg');
    expect([image.width, image.height]).toEqual([40, 60]);
    // Orientation 6 turns the stored top-left corner (red) to the top-right.
    const [r, , b] = pixel(image, 35, 5);
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
    expect(pixel(image, 5, 5)[2]).toBeGreaterThan(200);
  });

  it('decodes a PNG named .jpg by its content', async () => {
    const image = await decodeImageBytes(await oddFileBytes('png-named.jpg'), 'png-named.jpg');
    expect([image.width, image.height]).toEqual([50, 40]);
  });

  it.each([
    ['empty.jpg', 'empty'],
    ['text.jpg', 'not-an-image'],
    ['truncated.jpg', 'truncated'],
    ['huge.jpg', 'too-large'],
  ] as const)('refuses %s as %s', async (name, reason) => {
    expect(await reasonOf(decodeImageBytes(await oddFileBytes(name), name))).toBe(reason);
  });

  it('words a JPEG cut inside its header on one line (libvips repeats itself line by line)', async () => {
    const cut = (await photoLikeJpeg(300, 200, 2)).subarray(0, 300);
    const error = await decodeImageBytes(cut, 'cut.jpg').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadImageError);
    const { message } = (error as BadImageError).report;
    expect(message).toMatch(/VipsJpeg/);
    expect(message).not.toContain('\n');
  });

  it('names the claimed dimensions of a file refused as too large', async () => {
    await expect(decodeImageBytes(await oddFileBytes('huge.jpg'), 'huge.jpg')).rejects.toThrow(/60000x60000 is 3600.0 megapixels/);
  });

  it('follows the configured pixel limit', async () => {
    const jpeg = await photoLikeJpeg(500, 375, 1);
    const options = { ...DEFAULT_DECODE_OPTIONS, maxPixels: 100_000 };
    expect(await reasonOf(decodeImageBytes(jpeg, 'photo.jpg', options))).toBe('too-large');
  });

  it('accepts a JPEG with extraneous bytes before its end marker, as PIL does', async () => {
    const jpeg = await photoLikeJpeg(64, 48, 3);
    const padded = Buffer.concat([jpeg.subarray(0, -2), Buffer.from([0, 0, 0, 0]), jpeg.subarray(-2)]);
    expect(await reasonOf(decodeImageBytes(padded, 'padded.jpg'))).toBe('decoded');
  });

  it('gives each bad file its own reason while many decodes run at once (libvips shares one error buffer)', async () => {
    const good = await photoLikeJpeg(300, 200, 1);
    const cut = truncated(await photoLikeJpeg(300, 200, 2));
    const inputs = Array.from({ length: 120 }, (_, i) => (i % 4 === 0 ? cut : good));
    const outcomes = await mapConcurrently(inputs, 8, async (bytes) => {
      try {
        await decodeImageBytes(bytes, 'x.jpg');
        return 'decoded';
      } catch (error) {
        return error instanceof BadImageError ? `${error.reason}: ${error.detail}` : String(error);
      }
    });
    expect(new Set(outcomes)).toEqual(new Set(['decoded', 'truncated: VipsJpeg: premature end of JPEG image']));
    expect(outcomes.filter((o) => o !== 'decoded')).toHaveLength(30);
  });

  it('reports BMP as a format sharp cannot decode', async () => {
    const bitmap = bmp(8, 8, photoLikePixels(8, 8, 1));
    expect(await reasonOf(decodeImageBytes(bitmap, 'b.bmp'))).toBe('unsupported-format');
  });
});

describe('decodeImageFile and checkImageHeader', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => removeDir(dir));

  it('decodes a file, and reports a missing one as unreadable', async () => {
    const path = join(dir, 'photo.jpg');
    await writeFile(path, await photoLikeJpeg(300, 200, 1));
    expect((await decodeImageFile(path)).height).toBe(200);
    expect(await reasonOf(decodeImageFile(join(dir, 'missing.jpg')))).toBe('unreadable');
    expect(await reasonOf(decodeImageFile(dir))).toBe('unreadable');
  });

  it('refuses a file over the byte limit before reading it', async () => {
    const path = join(dir, 'big.jpg');
    await writeFile(path, await photoLikeJpeg(300, 200, 1));
    expect(await reasonOf(decodeImageFile(path, { ...DEFAULT_DECODE_OPTIONS, maxFileBytes: 100 }))).toBe('too-large');
  });

  it('reads the upright size from the header, and cannot see truncation there', async () => {
    const rotated = join(dir, 'rotated.jpg');
    const cut = join(dir, 'truncated.jpg');
    await writeFile(rotated, await oddFileBytes('rotated.jpg'));
    await writeFile(cut, await oddFileBytes('truncated.jpg'));
    expect(await checkImageHeader(rotated)).toMatchObject({ format: 'jpeg', width: 40, height: 60 });
    expect(await reasonOf(checkImageHeader(cut))).toBe('decoded');
    expect(await reasonOf(decodeImageFile(cut))).toBe('truncated');
  });
});
