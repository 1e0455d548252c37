import { BatchLoader } from '../data/loader.js';
import type { Sample } from '../data/dataset.js';

/** A labelled image already decoded: RGB bytes, row-major, height x width x 3. */
export interface MemoryImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  label: number;
}

/**
 * Images already in memory behind the same batch loader as files on disk (seeded shuffling,
 * packing for one upload): each sample's "path" names its index, and "decoding" hands back the
 * pixels. The demo and the tests train through exactly the code that real folders use, and so
 * does the demo page with the images a user picked (decoded once, up front).
 */
export function memoryBatches(images: readonly MemoryImage[], options: { batchSize: number; seed: number; shuffle: boolean }): BatchLoader {
  const samples: Sample[] = images.map((image, i) => ({ path: `memory:${i}`, label: image.label }));
  const decode = async (path: string) => {
    const { pixels, width, height } = images[Number(path.slice('memory:'.length))]!;
    return { pixels, width, height };
  };
  return new BatchLoader(samples, decode, { ...options, concurrency: 1, prefetchBatches: 0 });
}
