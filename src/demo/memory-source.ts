import { BatchLoader } from '../data/loader.js';
import type { Sample } from '../data/dataset.js';
import type { ShapeImage } from './shapes.js';

/**
 * Images already in memory behind the same batch loader as files on disk (seeded shuffling,
 * packing for one upload): each sample's "path" names its index, and "decoding" hands back the
 * pixels. The demo and the tests train through exactly the code that real folders use.
 */
export function memoryBatches(images: readonly ShapeImage[], size: number, options: { batchSize: number; seed: number; shuffle: boolean }): BatchLoader {
  const samples: Sample[] = images.map((image, i) => ({ path: `memory:${i}`, label: image.label }));
  const decode = async (path: string) => {
    const image = images[Number(path.slice('memory:'.length))]!;
    return { pixels: image.pixels, width: size, height: size };
  };
  return new BatchLoader(samples, decode, { ...options, concurrency: 1, prefetchBatches: 0 });
}
