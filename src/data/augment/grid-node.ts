/**
 * Node only (sharp): writes augmented images as a labelled PNG grid, and the whole
 * `webgpu-transfer augment --data DIR --out grid.png` job: a few images of a folder, each shown
 * with the validation transform and then several training draws.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import type { GpuContext } from '../../runtime/context.js';
import { InputError } from '../../runtime/errors.js';
import { BadImageError } from '../bad-file.js';
import { decodeImageFile } from '../decode-node.js';
import { listImageFolder, type ImageFolder } from '../image-folder.js';
import { packBatch, type LabeledImage } from '../pack-batch.js';
import { Augmenter, type AugmentResult } from './augmenter.js';
import type { AugmenterOptions, TrainTransformOptions } from './options.js';
import { describeParams, toRgbImages } from './grid.js';
import { escapeXml } from '../../svg.js';

export interface GridTile {
  /** HWC RGB bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
  /** Caption lines under the tile. */
  label: string[];
}

const PAD = 6;
const FONT_SIZE = 11;
const LINE_HEIGHT = 14;

/** Writes tiles (all of one size) row by row, `columns` per row, each with its caption. */
export async function writeGrid(path: string, tiles: readonly GridTile[], columns: number): Promise<void> {
  if (tiles.length === 0) throw new Error('writeGrid: no tiles');
  const { width, height } = tiles[0]!;
  const lines = Math.max(...tiles.map((t) => t.label.length));
  const cellWidth = width + PAD;
  const cellHeight = height + lines * LINE_HEIGHT + PAD * 2;
  const rows = Math.ceil(tiles.length / columns);
  const canvas = { width: PAD + columns * cellWidth, height: PAD + rows * cellHeight };
  const text: string[] = [];
  const images = tiles.map((tile, i) => {
    if (tile.width !== width || tile.height !== height) throw new Error('writeGrid: tiles differ in size');
    const left = PAD + (i % columns) * cellWidth;
    const top = PAD + Math.floor(i / columns) * cellHeight;
    tile.label.forEach((line, k) => {
      const y = top + height + PAD / 2 + (k + 1) * LINE_HEIGHT - 3;
      text.push(`<text x="${left}" y="${y}">${escapeXml(line)}</text>`);
    });
    return { input: Buffer.from(tile.rgb.buffer, tile.rgb.byteOffset, tile.rgb.byteLength), raw: { width, height, channels: 3 as const }, left, top };
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${canvas.width}" height="${canvas.height}">` +
    `<g font-family="DejaVu Sans, sans-serif" font-size="${FONT_SIZE}" fill="#e8e8e8">${text.join('')}</g></svg>`;
  await mkdir(dirname(path) || '.', { recursive: true });
  await sharp({ create: { ...canvas, channels: 3, background: '#202020' } })
    .composite([...images, { input: Buffer.from(svg), left: 0, top: 0 }])
    .png()
    .toFile(path);
}

/** Reads an augmented batch back and writes it as a grid, each tile labelled with its parameters. */
export async function writeAugmentGrid(
  path: string,
  result: AugmentResult,
  augmenter: Augmenter,
  options: { columns?: number; titles?: readonly string[] } = {},
): Promise<void> {
  const [, , height, width] = result.images.shape as [number, number, number, number];
  const rgb = toRgbImages((await result.images.read()) as Float32Array, result.images.shape, augmenter.options.mean, augmenter.options.std);
  const tiles = rgb.map((pixels, i) => ({
    rgb: pixels,
    width,
    height,
    label: [...(options.titles?.[i] ? [options.titles[i]!] : []), ...describeParams(result.params[i]!)],
  }));
  await writeGrid(path, tiles, options.columns ?? Math.ceil(Math.sqrt(tiles.length)));
}

export interface AugmentGridOptions {
  /** An image folder (one sub-folder per class). */
  data: string;
  out: string;
  /** Images shown, spread evenly over the folder (default 4). */
  images?: number;
  /** Training draws per image (columns after the validation one; default 5). */
  variants?: number;
  seed?: number;
  outputSize?: AugmenterOptions['outputSize'];
  train?: TrainTransformOptions;
  normalize?: AugmenterOptions['normalize'];
}

/**
 * Up to `count` images spread evenly over the folder; a file that does not decode is passed over
 * for the next one that does.
 */
async function decodeSpread(folder: ImageFolder, count: number): Promise<LabeledImage[]> {
  const n = folder.samples.length;
  const spread = Array.from({ length: Math.min(count, n) }, (_, k) => Math.floor((k * n) / Math.min(count, n)));
  const order = [...spread, ...Array.from({ length: n }, (_, i) => i).filter((i) => !spread.includes(i))];
  const decoded: LabeledImage[] = [];
  for (const sampleIndex of order) {
    if (decoded.length === count) break;
    const sample = folder.samples[sampleIndex]!;
    try {
      decoded.push({ ...(await decodeImageFile(sample.path)), label: sample.label, path: sample.path, sampleIndex });
    } catch (error) {
      if (!(error instanceof BadImageError)) throw error;
    }
  }
  return decoded;
}

/**
 * `webgpu-transfer augment`: one row per image, the validation transform first, then `variants`
 * training draws (epochs 0, 1, ...), so that crops, flips, rotations and colour changes can be
 * compared with the plain image.
 */
export async function writeFolderAugmentGrid(ctx: GpuContext, options: AugmentGridOptions): Promise<void> {
  const folder = await listImageFolder(options.data);
  const wanted = options.images ?? 4;
  const decoded = await decodeSpread(folder, wanted);
  if (decoded.length === 0) throw new InputError(`no readable images in ${options.data} (${folder.samples.length} listed, ${folder.badFiles.length} bad)`);
  const batch = packBatch(decoded);
  const variants = options.variants ?? 5;
  const common = { outputSize: options.outputSize ?? 224, normalize: options.normalize };
  const validation = new Augmenter(ctx, common);
  const train = new Augmenter(ctx, { ...common, train: options.train ?? { horizontalFlip: 0.5 } });
  const columns = [validation.apply(batch)];
  for (let epoch = 0; epoch < variants; epoch++) columns.push(train.apply(batch, { seed: options.seed ?? 0, epoch }));
  const tiles: GridTile[] = [];
  const rgbColumns = await Promise.all(columns.map(async (c) => toRgbImages((await c.images.read()) as Float32Array, c.images.shape, validation.options.mean, validation.options.std)));
  const [height, width] = columns[0]!.images.shape.slice(2) as [number, number];
  decoded.forEach((image, row) => {
    columns.forEach((column, k) => {
      const title = k === 0 ? `${folder.classes[image.label]}: validation` : `train, epoch ${k - 1}`;
      tiles.push({ rgb: rgbColumns[k]![row]!, width, height, label: [title, ...describeParams(column.params[row]!)] });
    });
  });
  for (const c of columns) c.images.dispose();
  validation.dispose();
  train.dispose();
  await writeGrid(options.out, tiles, variants + 1);
}
