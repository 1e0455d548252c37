// Files from the user's disk (File API): a weight file is opened lazily and listed, then loaded
// into the model when its keys and shapes fit (checked from the header before any data is read);
// images are decoded as training decodes them (upright, RGB, at the working size).
import { decodeImageBlob } from '../../src/data/decode-browser.js';
import { blobSource, describeWeights, openWeights } from '../../src/models/formats/index.js';
import { loadWeights } from '../../src/models/load-weights.js';
import type { Module } from '../../src/nn/module.js';
import { formatBytes } from '../../src/index.js';
import { el, formatCount, table } from './dom.js';

/** Lists the file's tensors and loads them into `model` (strictly: every key, every shape). */
export async function showWeightFile(panel: HTMLElement, file: File, model: Module): Promise<void> {
  panel.replaceChildren(el('p', `Opening ${file.name}…`));
  try {
    const weights = await openWeights(blobSource(file));
    try {
      const { format, rows, totals } = describeWeights(weights);
      const listing = table(
        ['tensor', 'dtype', 'shape', 'values'],
        rows.map((r) => [r.name, r.dtype, `[${r.shape.join(', ')}]`, formatCount(r.numel)]),
        [3],
      );
      listing.id = 'weight-tensors';
      const summary = `${file.name}: ${format}, ${totals.tensors} tensor${totals.tensors === 1 ? '' : 's'}, ${formatCount(totals.numel)} values, ${formatBytes(totals.bytes)}`;
      let verdict: HTMLElement;
      try {
        const report = await loadWeights(model, weights);
        verdict = el('p', `Loaded into the demo model (${report.loadedKeys.length} tensors).`, 'ok');
      } catch (error) {
        verdict = el('p', `Not loaded into the demo model: ${(error as Error).message}`, 'note');
      }
      panel.replaceChildren(el('p', summary, 'weights-summary'), verdict, listing);
    } finally {
      await weights.close();
    }
  } catch (error) {
    panel.replaceChildren(el('p', `${file.name}: ${(error as Error).message}`, 'error'));
  }
}

const THUMBNAIL = 96;

/** Decodes each image and shows it with its working size, or why it would be skipped. */
export async function showImages(panel: HTMLElement, files: readonly File[]): Promise<void> {
  panel.replaceChildren();
  for (const file of files) {
    const figure = el('figure');
    panel.append(figure);
    try {
      const image = await decodeImageBlob(file, file.name);
      figure.append(thumbnail(image.pixels, image.width, image.height), el('figcaption', `${file.name}: ${image.width}×${image.height}`));
    } catch (error) {
      // BadImageError's message names the file and the reason it would be skipped.
      figure.append(el('figcaption', (error as Error).message, 'error'));
    }
  }
}

/** RGB pixels drawn on a canvas no larger than THUMBNAIL on its longer side. */
function thumbnail(rgb: Uint8Array, width: number, height: number): HTMLCanvasElement {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, 255], 4 * i);
  const full = new OffscreenCanvas(width, height);
  full.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
  const scale = Math.min(1, THUMBNAIL / Math.max(width, height));
  const canvas = el('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext('2d')!.drawImage(full, 0, 0, canvas.width, canvas.height);
  return canvas;
}
