// Chapter 6: augmentation on the GPU. Sample grids of the target task's shapes (each row an
// image: the validation transform, then training draws of five epochs, each tile captioned with
// the parameters it was drawn with), and the GPU time of augmenting one batch.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { packBatch, type ImageBatch } from '../../src/data/pack-batch.js';
import { Augmenter } from '../../src/data/augment/augmenter.js';
import type { TrainTransformOptions } from '../../src/data/augment/options.js';
import { describeParams, toRgbImages } from '../../src/data/augment/grid.js';
import { writeGrid, type GridTile } from '../../src/data/augment/grid-node.js';
import { drawTask, TARGET_CLASSES } from '../../src/demo/shapes.js';
import { DRAWN_SIZE, INPUT_SIZE } from '../../src/demo/tasks.js';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { profileStep } from './measure.js';
import { median, sig, table, type GuideOutput } from './output.js';

/** The demo's training transform (src/demo/tasks.ts `taskData`). */
const DEMO_TRAIN: TrainTransformOptions = { scale: [0.5, 1], horizontalFlip: 0.5 };
/** The other changes the study notes name: vertical flips, a random rotation, brightness. */
const NOTES_TRAIN: TrainTransformOptions = { scale: [0.5, 1], horizontalFlip: 0.5, verticalFlip: 0.5, rotation: 25, colorJitter: { brightness: 0.4 } };

function drawnBatch(size: number, perClass: number, stream: number): ImageBatch {
  const drawn = drawTask(TARGET_CLASSES, { size, perClass, seed: 7, stream });
  return packBatch(drawn.map((d, i) => ({ pixels: d.pixels, width: size, height: size, label: d.label, path: `drawn:${i}`, sampleIndex: i })));
}

/** Writes the grid as JPEG (the drawn images' noise makes a PNG of it megabytes). */
async function grid(ctx: GpuContext, path: string, train: TrainTransformOptions, drawnSize: number, outputSize: number): Promise<void> {
  const batch = drawnBatch(drawnSize, 1, 200);
  const validation = new Augmenter(ctx, { outputSize, resize: drawnSize });
  const augment = new Augmenter(ctx, { outputSize, train });
  const columns = [validation.apply(batch), ...[0, 1, 2, 3, 4].map((epoch) => augment.apply(batch, { seed: 1, epoch }))];
  const rgb = await Promise.all(columns.map(async (c) => toRgbImages((await c.images.read()) as Float32Array, c.images.shape, validation.options.mean, validation.options.std)));
  const tiles: GridTile[] = [];
  for (let row = 0; row < batch.size; row++) {
    columns.forEach((column, k) => {
      const title = k === 0 ? `${TARGET_CLASSES[batch.table[row * 4 + 3]!]!.name}: validation` : `train, epoch ${k - 1}`;
      tiles.push({ rgb: rgb[k]![row]!, width: outputSize, height: outputSize, label: [title, ...describeParams(column.params[row]!)] });
    });
  }
  for (const c of columns) c.images.dispose();
  validation.dispose();
  augment.dispose();
  const png = `${path}.tmp.png`;
  await writeGrid(png, tiles, columns.length);
  await sharp(png).jpeg({ quality: 80, mozjpeg: true }).toFile(path);
  await unlink(png);
}

export async function chapter6(ctx: GpuContext, out: GuideOutput, o: { repeats: number }): Promise<void> {
  // At the notebook's sizes (Resize 256, crop 224) rather than the demo's 36 -> 32, so that a
  // reader can see the crops; the parameters are drawn the same way at any size.
  const drawn = 256;
  const size = 224;
  await grid(ctx, join(out.figuresDir, 'ch6-grid-demo.jpg'), DEMO_TRAIN, drawn, size);
  await grid(ctx, join(out.figuresDir, 'ch6-grid-notes.jpg'), NOTES_TRAIN, drawn, size);
  out.written.push('figures/ch6-grid-demo.jpg', 'figures/ch6-grid-notes.jpg');

  // GPU time of one batch: the demo's (64 images, 36 -> 32) and the notebook's size (8, 256 -> 224).
  const rows: string[][] = [];
  for (const [what, n, from, to, train] of [
    ['demo batch, demo transform', 64, DRAWN_SIZE, INPUT_SIZE, DEMO_TRAIN],
    ['demo batch, notes transform', 64, DRAWN_SIZE, INPUT_SIZE, NOTES_TRAIN],
    ['notebook size, notes transform', 8, 256, 224, NOTES_TRAIN],
  ] as const) {
    const batch = drawnBatch(from, n / TARGET_CLASSES.length, 300);
    const augment = new Augmenter(ctx, { outputSize: to, train });
    augment.apply(batch, { seed: 1, epoch: 0 }).images.dispose(); // compile
    const ms: number[] = [];
    let dispatches = 0;
    for (let r = 0; r < o.repeats; r++) {
      const parts = await profileStep(ctx, (mark) => {
        augment.apply(batch, { seed: 1, epoch: r + 1 }).images.dispose();
        mark('augment');
      });
      if (parts) {
        ms.push(parts[0]!.gpuMs);
        dispatches = parts[0]!.timings.length;
      }
    }
    augment.dispose();
    rows.push([what, `${n} × ${from}² → ${to}²`, String(dispatches), ms.length ? sig(median(ms)) : 'no timestamp-query', ms.length ? sig((median(ms) * 1000) / n) : '–']);
  }
  await out.fragment(
    'ch6-augment',
    [
      '![the demo transform: RandomResizedCrop(scale 0.5-1) and horizontal flips](figures/ch6-grid-demo.jpg)',
      '',
      '![the notes’ other changes: vertical flips, rotation up to 25°, brightness ±40%](figures/ch6-grid-notes.jpg)',
      '',
      `(Target-task shapes drawn at ${drawn}×${drawn} and cropped to ${size}×${size} so that the crops can be seen; the demo draws them at ${DRAWN_SIZE}×${DRAWN_SIZE} and crops to ${INPUT_SIZE}×${INPUT_SIZE}. Each row: the validation transform, then the training draws of epochs 0-4 for seed 1.)`,
      '',
      table(['batch', 'images', 'dispatches', 'GPU ms (median)', 'GPU µs per image'], rows),
      '',
      `(${adapterLabel(ctx.adapter)}; median of ${o.repeats} batch${o.repeats > 1 ? 'es' : ''}.)`,
    ].join('\n'),
  );
}
