import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadImageError } from '../../src/data/bad-file.js';
import type { DecodedImage } from '../../src/data/decode-contract.js';
import { decodeImageFile } from '../../src/data/decode-node.js';
import type { Sample } from '../../src/data/dataset.js';
import { listImageFolder } from '../../src/data/image-folder.js';
import { BatchLoader } from '../../src/data/loader.js';
import { IMAGE_TABLE_STRIDE, imageInBatch, packBatch, type ImageBatch } from '../../src/data/pack-batch.js';
import { makeTempDir, removeDir, writePetImages } from './make-images.js';

/** A decoder without files: path "w x h" gives a w x h image whose bytes encode the path's number. */
const fakeSamples = (n: number): Sample[] => Array.from({ length: n }, (_, i) => ({ path: `${i}`, label: i % 3 }));
function fakeImage(path: string): DecodedImage {
  const i = Number(path);
  const width = 1 + (i % 5);
  const height = 1 + (i % 3);
  return { pixels: new Uint8Array(width * height * 3).fill(i % 256), width, height };
}

async function collect(batches: AsyncIterable<ImageBatch>): Promise<ImageBatch[]> {
  const all: ImageBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

describe('packBatch', () => {
  it('starts every image on a 4-byte boundary and describes it in the table', () => {
    const images = [fakeImage('1'), fakeImage('2'), fakeImage('7')].map((image, i) => ({
      ...image,
      label: i,
      path: `p${i}`,
      sampleIndex: 10 + i,
    }));
    const batch = packBatch(images);
    expect(batch.size).toBe(3);
    expect(batch.data.length % 4).toBe(0);
    // 2x2x3 = 12 bytes, 3x3x3 = 27 (padded to 28), 3x2x3 = 18
    expect([...batch.table]).toEqual([0, 2, 2, 0, 12, 3, 3, 1, 40, 3, 2, 2]);
    expect(batch.data.length).toBe(60);
    expect(IMAGE_TABLE_STRIDE).toBe(4);
    images.forEach((image, i) => {
      const unpacked = imageInBatch(batch, i);
      expect(unpacked).toEqual(image);
      expect(unpacked.pixels.buffer).toBe(batch.data.buffer);
    });
  });
});

describe('BatchLoader', () => {
  const decode = async (path: string) => fakeImage(path);

  it('visits every sample once per epoch, in batches of batchSize and a last smaller one', async () => {
    const loader = new BatchLoader(fakeSamples(10), decode, { batchSize: 4, seed: 1 });
    const batches = await collect(loader.epoch(0));
    expect(batches.map((b) => b.size)).toEqual([4, 4, 2]);
    const visited = batches.flatMap((b) => [...b.sampleIndices]);
    expect([...visited].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(visited).toEqual([...loader.order(0)]);
    for (const batch of batches) {
      for (let i = 0; i < batch.size; i++) {
        const image = imageInBatch(batch, i);
        expect(image.label).toBe(image.sampleIndex % 3);
        expect(image.pixels[0]).toBe(image.sampleIndex);
      }
    }
  });

  it('gives the same batches for the same seed and epoch, other orders for other epochs and seeds', async () => {
    const make = (seed: number) => new BatchLoader(fakeSamples(50), decode, { batchSize: 8, seed });
    const order = async (loader: BatchLoader, epoch: number) =>
      (await collect(loader.epoch(epoch))).flatMap((b) => [...b.sampleIndices]);
    const first = await order(make(1), 0);
    expect(await order(make(1), 0)).toEqual(first);
    expect(await order(make(1), 1)).not.toEqual(first);
    expect(await order(make(2), 0)).not.toEqual(first);
    const batches = await collect(make(1).epoch(0));
    expect(await collect(make(1).epoch(0))).toEqual(batches);
  });

  it('keeps listing order without shuffling, and drops the last batch when asked', async () => {
    const loader = new BatchLoader(fakeSamples(10), decode, { batchSize: 4, seed: 1, shuffle: false, dropLast: true });
    const batches = await collect(loader.epoch(3));
    expect(batches.map((b) => [...b.sampleIndices])).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  it('skips bad files, fills the batch from the next files, and logs each bad file once', async () => {
    const bad = new Set(['2', '3', '7']);
    const flaky = async (path: string) => {
      if (bad.has(path)) throw new BadImageError(path, 'truncated', 'cut short');
      return fakeImage(path);
    };
    const loader = new BatchLoader(fakeSamples(10), flaky, { batchSize: 3, seed: 0, shuffle: false });
    const batches = await collect(loader.epoch(0));
    expect(batches.map((b) => [...b.sampleIndices])).toEqual([[0, 1, 4], [5, 6, 8], [9]]);
    await collect(loader.epoch(1));
    expect(loader.badFiles.reports.map((r) => r.path).sort()).toEqual(['2', '3', '7']);
    expect(loader.badFiles.summary()).toMatch(/^bad files: 3 skipped \(truncated 3\)/);
  });

  it('lets errors that are not bad files through', async () => {
    const broken = async () => {
      throw new TypeError('a bug');
    };
    const loader = new BatchLoader(fakeSamples(3), broken, { batchSize: 2, seed: 0 });
    await expect(collect(loader.epoch(0))).rejects.toThrow(TypeError);
  });

  it('decodes the next batch while the current one is consumed', async () => {
    const decodeStarted: number[] = [];
    const tracking = async (path: string) => {
      decodeStarted.push(Number(path));
      return fakeImage(path);
    };
    const loader = new BatchLoader(fakeSamples(12), tracking, { batchSize: 4, seed: 0, shuffle: false, concurrency: 2 });
    const epoch = loader.epoch(0);
    await epoch.next();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the consumer trains on batch 0
    expect(decodeStarted.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await epoch.return(undefined);
  });
});

describe('BatchLoader on real files', () => {
  let root = '';
  beforeAll(async () => {
    root = await writePetImages(join(await makeTempDir(), 'PetImages'));
  });
  afterAll(() => removeDir(join(root, '..')));

  it('loads every usable image of a folder full of odd files and reports the rest', async () => {
    const folder = await listImageFolder(root);
    const loader = new BatchLoader(folder.samples, decodeImageFile, { batchSize: 4, seed: 5 });
    const batches = await collect(loader.epoch(0));
    const loaded = batches.reduce((n, b) => n + b.size, 0);
    expect(batches.slice(0, -1).every((b) => b.size === 4)).toBe(true);
    // 11 JPEGs + gray, CMYK, RGBA, rotated and PNG-named; truncated and huge are skipped.
    expect(loaded).toBe(16);
    expect(loader.badFiles.reports.map((r) => [r.path.slice(root.length + 1), r.reason]).sort()).toEqual([
      ['Cat/huge.jpg', 'too-large'],
      ['Cat/truncated.jpg', 'truncated'],
    ]);
    for (const batch of batches) {
      for (let i = 0; i < batch.size; i++) {
        const { width, height, pixels } = imageInBatch(batch, i);
        expect(pixels.length).toBe(width * height * 3);
        expect(batch.table[i * IMAGE_TABLE_STRIDE]! % 4).toBe(0);
      }
    }
  });
});
