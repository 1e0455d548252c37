/**
 * How fast the CPU side of the data pipeline turns JPEG files into packed batches.
 * Run: npx tsx bench/decode.ts [count=200]
 *
 * Makes `count` photo-like 500x375 JPEGs (the typical size in the Cats and Dogs archive), then
 * times each stage alone (one image at a time) to show where the time goes, and the whole path
 * (file -> RGB at the working size) at several concurrencies, and the batch loader end to end.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { mapConcurrently } from '../src/data/concurrency.js';
import { decodeImageBytes, decodeImageFile } from '../src/data/decode-node.js';
import { BatchLoader } from '../src/data/loader.js';
import { packBatch, type LabeledImage } from '../src/data/pack-batch.js';
import { makeTempDir, photoLikeJpeg, removeDir } from '../test/data/make-images.js';
import { median } from './util/timing.js';

const COUNT = Number(process.argv[2] ?? 200);
const WIDTH = 500;
const HEIGHT = 375;
const BATCH = 32;

const now = (): number => performance.now();
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

interface PerItem {
  wall: number;
  cpu: number;
}

/**
 * Milliseconds per item of running `stage` on each item in turn, median pass of `passes`: wall
 * time, and CPU time of this process (all threads, libvips' included), which other load on the
 * machine disturbs less.
 */
async function msPerItem<T>(items: readonly T[], stage: (item: T) => Promise<unknown>, passes = 3): Promise<PerItem> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const [wallStart, cpuStart] = [now(), cpuMs()];
    for (const item of items) await stage(item);
    wall.push((now() - wallStart) / items.length);
    cpu.push((cpuMs() - cpuStart) / items.length);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const ms = (value: number): string => value.toFixed(2).padStart(6);

async function main(): Promise<void> {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} cores; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`);
  const dir = await makeTempDir('webgpu-transfer-bench-');
  try {
    const paths = await mapConcurrently(
      Array.from({ length: COUNT }, (_, i) => i),
      4,
      async (i) => {
        const path = join(dir, `${i}.jpg`);
        await writeFile(path, await photoLikeJpeg(WIDTH, HEIGHT, i));
        return path;
      },
    );
    const files = await Promise.all(paths.map((path) => readFile(path)));
    const kilobytes = files.reduce((sum, bytes) => sum + bytes.length, 0) / files.length / 1024;
    console.log(`${COUNT} JPEGs ${WIDTH}x${HEIGHT}, quality 85, ${kilobytes.toFixed(1)} KB on average\n`);

    // Warm-up: load libvips' code paths and fill the page cache.
    await mapConcurrently(paths, 2, (path) => decodeImageFile(path));

    const decoded = await Promise.all(files.map((bytes, i) => decodeImageBytes(bytes, paths[i]!)));
    const labeled: LabeledImage[] = decoded.map((image, i) => ({ ...image, label: i % 2, path: paths[i]!, sampleIndex: i }));
    const batches = Array.from({ length: Math.floor(COUNT / BATCH) }, (_, b) => labeled.slice(b * BATCH, (b + 1) * BATCH));

    const stages: [string, PerItem][] = [
      ['read the file', await msPerItem(paths, (path) => readFile(path))],
      ['read the header (sharp metadata)', await msPerItem(files, (bytes) => sharp(bytes).metadata())],
      ['decode to RGB, 500x375 kept (decodeImageBytes)', await msPerItem(files, (bytes) => decodeImageBytes(bytes, 'b.jpg'))],
      ['pack into a batch of 32', await msPerItem(batches, async (batch) => packBatch(batch))],
    ];
    stages[3]![1] = { wall: stages[3]![1].wall / BATCH, cpu: stages[3]![1].cpu / BATCH };
    // decodeImageBytes reads the header itself: count it once.
    stages[2]![1] = { wall: stages[2]![1].wall - stages[1]![1].wall, cpu: stages[2]![1].cpu - stages[1]![1].cpu };
    stages[2]![0] = 'decode to RGB at 500x375 (less the header)';
    const total = stages.reduce((sum, [, t]) => ({ wall: sum.wall + t.wall, cpu: sum.cpu + t.cpu }), { wall: 0, cpu: 0 });
    console.log(`one image at a time, per image:              wall ms  share   CPU ms  share`);
    for (const [name, t] of stages) {
      const share = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(1).padStart(5)}%`;
      console.log(`  ${name.padEnd(44)} ${ms(t.wall)} ${share(t.wall, total.wall)}  ${ms(t.cpu)} ${share(t.cpu, total.cpu)}`);
    }
    console.log(`  ${'total'.padEnd(44)} ${ms(total.wall)}         ${ms(total.cpu)}   -> ${(1000 / total.cpu).toFixed(0)} images/s per core`);

    const pipeline = (bytes: Buffer) => sharp(bytes, { failOn: 'truncated', autoOrient: true }).toColourspace('srgb');
    const sharpOnly = await msPerItem(files, (bytes) => pipeline(bytes).raw({ depth: 'uchar' }).toBuffer());
    const reduced = await msPerItem(files, (bytes) =>
      pipeline(bytes).resize(341, 256, { fit: 'fill', kernel: 'linear' }).raw({ depth: 'uchar' }).toBuffer(),
    );
    console.log(`  the same pipeline in sharp alone: ${ms(sharpOnly.wall).trim()} ms wall, ${ms(sharpOnly.cpu).trim()} ms CPU;`);
    console.log(`  reducing it to 341x256 (not done: under 2 x 256): ${ms(reduced.wall).trim()} ms wall, ${ms(reduced.cpu).trim()} ms CPU\n`);

    console.log('file -> RGB at working size (decodeImageFile), all images:');
    for (const concurrency of [1, 2, 4, 8]) {
      const started = now();
      await mapConcurrently(paths, concurrency, (path) => decodeImageFile(path));
      const seconds = (now() - started) / 1000;
      console.log(`  concurrency ${concurrency}: ${(COUNT / seconds).toFixed(0).padStart(5)} images/s`);
    }

    console.log(`\nbatch loader, batch ${BATCH}, shuffled, one epoch:`);
    const samples = paths.map((path, i) => ({ path, label: i % 2 }));
    for (const concurrency of [2, 4]) {
      const loader = new BatchLoader(samples, (path) => decodeImageFile(path), { batchSize: BATCH, seed: 1, concurrency });
      const started = now();
      let images = 0;
      for await (const batch of loader.epoch(0)) images += batch.size;
      const seconds = (now() - started) / 1000;
      console.log(`  concurrency ${concurrency}: ${(images / seconds).toFixed(0).padStart(5)} images/s`);
    }
  } finally {
    await removeDir(dir);
  }
}

await main();
