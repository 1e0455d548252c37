// Files from the user's disk (File API): a weight file is opened lazily and listed, and loaded
// into the demo model when its names and shapes match; images are decoded as training decodes
// them (upright, RGB, at the working size).
import { decodeImageBlob } from '../../src/data/decode-browser.js';
import { blobSource, describeWeights, openWeights } from '../../src/models/formats/index.js';
import { formatBytes, tensor } from '../../src/index.js';
import type { TinyMlp } from '../tiny-mlp.js';
import { el, formatCount, table } from './dom.js';

/** Lists the file's tensors; loads them into `model` if the file has each of its parameters, same shape. */
export async function showWeightFile(panel: HTMLElement, file: File, model: TinyMlp): Promise<boolean> {
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
      const summary = `${file.name}: ${format}, ${totals.tensors} tensors, ${formatCount(totals.numel)} values, ${formatBytes(totals.bytes)}`;
      const wanted = model.namedParameters();
      const fits = wanted.every(([name, p]) => weights.entries.get(name)?.shape.join() === p.shape.join());
      if (fits) for (const [name, p] of wanted) model.set(name, tensor(await weights.read(name), p.shape));
      const verdict = fits
        ? `Loaded into the demo model (${wanted.length} tensors).`
        : `Not loaded: the demo model needs ${wanted.map(([name, p]) => `${name} [${p.shape.join(', ')}]`).join(', ')}.`;
      panel.replaceChildren(el('p', summary, 'weights-summary'), el('p', verdict, fits ? 'ok' : 'note'), listing);
      return fits;
    } finally {
      await weights.close();
    }
  } catch (error) {
    panel.replaceChildren(el('p', `${file.name}: ${(error as Error).message}`, 'error'));
    return false;
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
