// GPU augmentation throughput: a batch of 500x375 images (synthesised) to 224x224 float32 NCHW.
//   npx tsx bench/augment.ts [--batch N] [--quick]
// "upload + augment": Augmenter.apply (CPU parameter draws, one upload of the packed bytes and
// the table, the kernels) then a GPU sync, per batch. Its parts are timed alone too: the CPU
// draws (Augmenter.params), the upload (writeBuffer of the packed bytes + sync), and the kernels
// as the rest (total - upload - draws; the runtime's timestamp profiler cannot be used yet: it
// asks for 8,192 queries where WebGPU allows 4,096). Kernel bandwidth is effective: (packed uint8
// bytes + float32 output bytes) / kernel time, the bytes a perfect kernel would move once each.
import { initNode, adapterLabel, Tensor } from '../src/node.js';
import { packBatch } from '../src/data/pack-batch.js';
import { Augmenter, type AugmentKey } from '../src/data/augment/augmenter.js';
import type { AugmenterOptions } from '../src/data/augment/options.js';
import { gbps, timeIt } from './util/timing.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const batchSize = Number(args[args.indexOf('--batch') + 1] ?? 0) || (quick ? 16 : 64);
const [WIDTH, HEIGHT, OUT] = [500, 375, 224];

const ctx = await initNode();
console.log(`adapter: ${adapterLabel(ctx.adapter)}`);

/** Smooth colour gradients with noise, different per image (a JPEG-like signal, not constant bytes). */
function syntheticBatch(n: number) {
  let state = 12345;
  const noise = (): number => ((state = (state * 1103515245 + 12345) >>> 0) >>> 24) & 31;
  return packBatch(
    Array.from({ length: n }, (_, i) => {
      const pixels = new Uint8Array(WIDTH * HEIGHT * 3);
      for (let y = 0; y < HEIGHT; y++)
        for (let x = 0; x < WIDTH; x++) {
          const p = (y * WIDTH + x) * 3;
          pixels[p] = ((x * 255) / WIDTH + i * 17 + noise()) & 0xff;
          pixels[p + 1] = ((y * 255) / HEIGHT + noise()) & 0xff;
          pixels[p + 2] = ((x + y + i * 5) / 4 + noise()) & 0xff;
        }
      return { pixels, width: WIDTH, height: HEIGHT, label: i % 2, path: `synthetic/${i}`, sampleIndex: i };
    }),
  );
}

const batch = syntheticBatch(batchSize);
const transforms: { name: string; options: AugmenterOptions }[] = [
  { name: 'validation: Resize(256) + CenterCrop(224)', options: { outputSize: OUT } },
  { name: "notebook train: RandomResizedCrop(224) + hflip", options: { outputSize: OUT, train: { horizontalFlip: 0.5 } } },
  { name: 'train + rotation 30 (bilinear twice: 16 source taps per pixel)', options: { outputSize: OUT, train: { horizontalFlip: 0.5, rotation: 30 } } },
  {
    name: 'train + ColorJitter(0.4, 0.4, 0.4, 0.1) (contrast: grayscale pre-pass)',
    options: { outputSize: OUT, train: { horizontalFlip: 0.5, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 } } },
  },
  {
    name: 'full train: + vflip, rotation 30, ColorJitter(0.4, 0.4, 0.4, 0.1)',
    options: { outputSize: OUT, train: { horizontalFlip: 0.5, verticalFlip: 0.5, rotation: 30, colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 } } },
  },
];

const inputBytes = batch.data.byteLength;
const outputBytes = batchSize * 3 * OUT * OUT * 4;
console.log(`batch: ${batchSize} images ${WIDTH}x${HEIGHT} (${(inputBytes / 2 ** 20).toFixed(1)} MiB packed) -> [${batchSize}, 3, ${OUT}, ${OUT}] float32 (${(outputBytes / 2 ** 20).toFixed(1)} MiB)\n`);
const reps = quick ? 3 : 7;
const sync = (): Promise<void> => ctx.recorder.sync();
const staging = Tensor.empty(ctx, [inputBytes / 4], 'uint32');
const upload = await timeIt(() => ctx.recorder.write(staging.buffer, 0, batch.data), { sync, warmup: 2, reps });
staging.dispose();
console.log(`upload of the packed batch: ${upload.medianMs.toFixed(1)} ms (${gbps(inputBytes, upload.medianMs).toFixed(2)} GB/s)`);

const rows: string[] = [];
for (const { name, options } of transforms) {
  const augmenter = new Augmenter(ctx, options);
  let epoch = 0;
  const key = (): AugmentKey => ({ seed: 1, epoch: epoch++ });
  const draws = await timeIt(() => augmenter.params(batch, key()), { sync: () => undefined, warmup: 2, reps });
  const total = await timeIt(() => augmenter.apply(batch, key()).images.dispose(), { sync, warmup: 2, reps, budgetMs: 60_000 });
  augmenter.dispose();
  const kernelMs = total.medianMs - upload.medianMs - draws.medianMs;
  const perSecond = (ms: number): string => ((batchSize / ms) * 1000).toFixed(0);
  rows.push(
    `| ${name} | ${total.medianMs.toFixed(1)} | ${perSecond(total.medianMs)} | ${draws.medianMs.toFixed(2)} | ` +
      `${kernelMs.toFixed(1)} | ${perSecond(kernelMs)} | ${gbps(inputBytes + outputBytes, kernelMs).toFixed(2)} |`,
  );
  console.log(rows[rows.length - 1]);
}

console.log(`\n## GPU augmentation, batch ${batchSize} of ${WIDTH}x${HEIGHT} -> ${OUT}x${OUT}, on ${adapterLabel(ctx.adapter)}\n`);
console.log(`upload alone: ${upload.medianMs.toFixed(1)} ms per batch (${gbps(inputBytes, upload.medianMs).toFixed(2)} GB/s)\n`);
console.log('| transform | upload + augment, ms/batch | images/s | CPU draws ms | kernels ms (rest) | kernel images/s | kernel GB/s (in + out) |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
