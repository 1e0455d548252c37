import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readStoredSize } from '../../src/data/image-header.js';
import { hasImageExtension, sniffImageFormat, type ImageFormat } from '../../src/data/sniff.js';
import { bmp, oddFileBytes, photoLikePixels, THUMBS_DB, withClaimedJpegSize } from './make-images.js';

const WIDTH = 37;
const HEIGHT = 23;
const image = () => sharp(photoLikePixels(WIDTH, HEIGHT, 1), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } });

const encoded: [ImageFormat, () => Promise<Buffer>][] = [
  ['jpeg', () => image().jpeg().toBuffer()],
  ['jpeg', () => image().jpeg({ progressive: true }).toBuffer()],
  ['png', () => image().png().toBuffer()],
  ['gif', () => image().gif().toBuffer()],
  ['webp', () => image().webp({ quality: 80 }).toBuffer()],
  ['webp', () => image().webp({ lossless: true }).toBuffer()],
  ['webp', () => image().ensureAlpha(0.5).webp().toBuffer()],
  ['tiff', () => image().tiff().toBuffer()],
  ['avif', () => image().avif().toBuffer()],
  ['bmp', async () => bmp(WIDTH, HEIGHT, photoLikePixels(WIDTH, HEIGHT, 1))],
];

describe('sniffImageFormat', () => {
  it.each(encoded.map(([format, make], i) => [`${format} #${i}`, format, make] as const))(
    'recognises %s by its first bytes',
    async (_, format, make) => {
      expect(sniffImageFormat((await make()).subarray(0, 32))).toBe(format);
    },
  );

  it('recognises an Exif-only JPEG (no JFIF marker), which a "JFIF in the first bytes" test drops', async () => {
    const exifJpeg = await image().jpeg().withMetadata({ orientation: 1 }).toBuffer();
    expect(exifJpeg.subarray(0, 32).includes(Buffer.from('JFIF'))).toBe(false);
    expect(sniffImageFormat(exifJpeg)).toBe('jpeg');
  });

  it('knows no format in text, Thumbs.db, empty or too-short bytes, or "BM" text', async () => {
    expect(sniffImageFormat(await oddFileBytes('text.jpg'))).toBeUndefined();
    expect(sniffImageFormat(THUMBS_DB)).toBeUndefined();
    expect(sniffImageFormat(new Uint8Array(0))).toBeUndefined();
    expect(sniffImageFormat(Uint8Array.of(0xff, 0xd8))).toBeUndefined();
    expect(sniffImageFormat(Buffer.from('BMW owners manual, chapter one'))).toBeUndefined();
  });
});

describe('hasImageExtension', () => {
  it('goes by the last extension, in any case', () => {
    expect(hasImageExtension('Cat/1.JPG')).toBe(true);
    expect(hasImageExtension('a.tar.png')).toBe(true);
    expect(hasImageExtension('Thumbs.db')).toBe(false);
    expect(hasImageExtension('README')).toBe(false);
  });
});

describe('readStoredSize', () => {
  it.each(encoded.filter(([format]) => format !== 'tiff' && format !== 'avif').map(([f, make], i) => [`${f} #${i}`, f, make] as const))(
    'reads the size of %s from its header',
    async (_, format, make) => {
      expect(readStoredSize(await make(), format)).toEqual({ width: WIDTH, height: HEIGHT });
    },
  );

  it('reads a JPEG size behind a large Exif segment', async () => {
    const withExif = await image()
      .jpeg()
      .withExif({ IFD0: { ImageDescription: 'x'.repeat(20_000) } })
      .toBuffer();
    expect(readStoredSize(withExif, 'jpeg')).toEqual({ width: WIDTH, height: HEIGHT });
  });

  it('reads absurd claimed dimensions without decoding', async () => {
    const huge = withClaimedJpegSize(await image().jpeg().toBuffer(), 60000, 50000);
    expect(readStoredSize(huge, 'jpeg')).toEqual({ width: 60000, height: 50000 });
  });

  it('gives undefined for a header cut short, or a format it does not parse', async () => {
    const jpeg = await image().jpeg().toBuffer();
    expect(readStoredSize(jpeg.subarray(0, 20), 'jpeg')).toBeUndefined();
    expect(readStoredSize((await image().png().toBuffer()).subarray(0, 20), 'png')).toBeUndefined();
    expect(readStoredSize(await image().tiff().toBuffer(), 'tiff')).toBeUndefined();
  });
});
