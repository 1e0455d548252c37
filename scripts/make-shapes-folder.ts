// Writes the demo's target task as an image folder (one sub-folder per class, PNG files), so that
// `scan`, `augment`, `train`, `eval` and `predict` can be tried on real files with nothing to
// download:  npx tsx scripts/make-shapes-folder.ts DIR [--per-class N]
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { drawTask, TARGET_CLASSES } from '../src/demo/shapes.js';
import { DRAWN_SIZE } from '../src/demo/tasks.js';

const { values, positionals } = parseArgs({ options: { 'per-class': { type: 'string', default: '40' } }, allowPositionals: true });
const root = positionals[0];
if (!root) throw new Error('usage: make-shapes-folder.ts DIR [--per-class N]');
const images = drawTask(TARGET_CLASSES, { size: DRAWN_SIZE, perClass: Number(values['per-class']), seed: 2002, stream: 50 });
const counters = new Map<number, number>();
for (const image of images) {
  const name = TARGET_CLASSES[image.label]!.name;
  const index = counters.get(image.label) ?? 0;
  counters.set(image.label, index + 1);
  await mkdir(join(root, name), { recursive: true });
  await sharp(Buffer.from(image.pixels), { raw: { width: DRAWN_SIZE, height: DRAWN_SIZE, channels: 3 } }).png().toFile(join(root, name, `${index}.png`));
}
console.log(`wrote ${images.length} images of ${TARGET_CLASSES.length} classes to ${root}`);
