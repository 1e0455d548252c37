import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { drawTask, TARGET_CLASSES } from '../../src/demo/shapes.js';

/** The small training folder the run tests share: two of the demo's target shapes, 10 PNG files each at 36x36. */
export async function writeShapesFolder(root: string): Promise<void> {
  const images = drawTask(TARGET_CLASSES.slice(0, 2), { size: 36, perClass: 10, seed: 5, stream: 3 });
  for (const [label, name] of ['star', 'hexagon'].entries()) {
    await mkdir(join(root, name), { recursive: true });
    let i = 0;
    for (const image of images.filter((im) => im.label === label)) {
      await sharp(Buffer.from(image.pixels), { raw: { width: 36, height: 36, channels: 3 } }).png().toFile(join(root, name, `${i++}.png`));
    }
  }
}
