// Files from the user's disk (File API). A weight file is opened lazily and listed; when it fits
// the demo's network it becomes the pretrained base of the next runs, when it does not the panel
// says why, and when it cannot be loaded at all (unreadable) the panel says so. Images are picked
// class by class, decoded as training decodes them (upright, RGB, at the working size), and split
// into training and held-out images for the same recipe; a file that is not a usable image is
// skipped, and the page says which and why.
import { BadImageError } from '../../src/data/bad-file.js';
import type { DecodedImage } from '../../src/data/decode-contract.js';
import { decodeImageBlob } from '../../src/data/decode-browser.js';
import type { TaskSplit } from '../../src/demo/tasks.js';
import { blobSource, describeWeights, openWeights, WeightFormatError, type WeightFile } from '../../src/models/formats/index.js';
import { StateDictError } from '../../src/nn/state-dict.js';
import { formatBytes } from '../../src/index.js';
import { el, formatCount, rgbCanvas, table } from './dom.js';

/**
 * Lists the file's tensors, then offers it to `useAsBase`, which either takes it (and from then
 * on owns it) and says what it loaded, or throws why it does not fit; the file is then closed.
 * A file that is not weights, or does not fit, is refused and the panel says why. Any other
 * failure is no verdict on the file: its bytes could not be read (it was changed or deleted on
 * disk since it was picked) or loading it failed. The panel then says it could not be loaded,
 * and so does the error this throws.
 */
export async function showWeightFile(panel: HTMLElement, file: File, useAsBase: (weights: WeightFile) => Promise<string>): Promise<void> {
  panel.replaceChildren(el('p', `Opening ${file.name}…`));
  try {
    await listAndOffer(panel, file, useAsBase);
  } catch (error) {
    const cause = rootCause(error);
    const failure = new Error(`${file.name} could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause: error });
    panel.replaceChildren(el('p', failure.message, 'error'));
    throw failure;
  }
}

async function listAndOffer(panel: HTMLElement, file: File, useAsBase: (weights: WeightFile) => Promise<string>): Promise<void> {
  let weights: WeightFile;
  try {
    weights = await openWeights(blobSource(file));
  } catch (error) {
    if (!isRefusal(error)) throw error;
    panel.replaceChildren(el('p', `${file.name}: ${(error as Error).message}`, 'error'));
    return;
  }
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
    verdict = el('p', await useAsBase(weights), 'ok');
  } catch (error) {
    await weights.close();
    if (!isRefusal(error)) throw error;
    verdict = el('p', `Not used: ${(error as Error).message}`, 'note');
  }
  const scroller = el('div', '', 'scroll');
  scroller.append(listing);
  panel.replaceChildren(el('p', summary, 'weights-summary'), verdict, scroller);
}

/** What went wrong underneath: loadWeights wraps a failed read in the tensor it was reading. */
const rootCause = (error: unknown): unknown => (error instanceof Error && error.cause !== undefined ? rootCause(error.cause) : error);

/** A verdict on the file's content: not a weight file the readers accept, or not the demo network's. */
const isRefusal = (error: unknown) => [WeightFormatError, StateDictError].some((refusal) => rootCause(error) instanceof refusal);

interface PickedClass {
  name: HTMLInputElement;
  images: { file: string; image: DecodedImage }[];
  /** BadImageError messages: the file and why it is skipped. */
  skipped: string[];
  /** Settles when the last selection is decoded. */
  decoding: Promise<void>;
  /** Counts the selections: a decode that a newer one overtook stops adding to the lists. */
  selection: number;
}

const THUMBNAIL = 48;

/** Rows of "class name, its images"; `task()` turns them into the recipe's training and held-out images. */
export class ImageClasses {
  private readonly classes: PickedClass[] = [];

  constructor(
    private readonly host: HTMLElement,
    private readonly onChange: () => void,
  ) {
    this.add('class A');
    this.add('class B');
  }

  add(name = `class ${String.fromCharCode(65 + this.classes.length)}`): void {
    const index = this.classes.length;
    const row = el('div', '', 'image-class');
    row.dataset.class = String(index);
    const nameInput = el('input');
    nameInput.type = 'text';
    nameInput.value = name;
    nameInput.className = 'class-name';
    nameInput.title = 'class name';
    nameInput.addEventListener('input', () => this.onChange());
    const files = el('input');
    files.type = 'file';
    files.multiple = true;
    files.accept = 'image/*';
    files.id = `class-files-${index}`;
    const thumbnails = el('div', '', 'thumbnails');
    const picked: PickedClass = { name: nameInput, images: [], skipped: [], decoding: Promise.resolve(), selection: 0 };
    files.addEventListener('change', () => {
      picked.decoding = decodeInto(picked, Array.from(files.files ?? []), thumbnails, this.onChange).then(this.onChange);
    });
    row.append(nameInput, files, thumbnails);
    this.host.append(row);
    this.classes.push(picked);
  }

  /** Waits for every selection to be decoded. */
  async settled(): Promise<void> {
    await Promise.all(this.classes.map((c) => c.decoding));
  }

  counts(): { images: number; skipped: number; skippedFiles: string[] } {
    const skippedFiles = this.classes.flatMap((c) => c.skipped);
    return { images: this.classes.reduce((n, c) => n + c.images.length, 0), skipped: skippedFiles.length, skippedFiles };
  }

  /**
   * The classes with images as a task: the last quarter of each class's images (at least one)
   * held out, scoring the run and choosing its best epoch (too few images for a third part: the
   * score is of the epoch chosen on them, so it flatters). Throws when a class has fewer than two.
   */
  task(): TaskSplit {
    const used = this.classes.filter((c) => c.images.length > 0);
    if (used.length < 2) throw new Error('Pick images for at least two classes.');
    const names = used.map((c, i) => c.name.value.trim() || `class ${i + 1}`);
    if (new Set(names).size !== names.length) throw new Error(`Give each class its own name (${names.join(', ')}).`);
    const task: TaskSplit = { classes: names, train: [], validation: [], test: [] };
    used.forEach((c, label) => {
      if (c.images.length < 2) throw new Error(`'${names[label]}' needs at least two images: one to train on, one to score.`);
      const heldOut = Math.max(1, Math.floor(c.images.length / 4));
      c.images.forEach(({ image }, i) => (i < c.images.length - heldOut ? task.train : task.validation).push({ ...image, label }));
    });
    task.test = task.validation;
    return task;
  }
}

/**
 * Decodes a class's new selection in place of the old one; `started` runs once the old one is
 * cleared (the page then counts no images for the class until the new ones are in). A selection
 * made while this one decodes takes over: this one stops.
 */
async function decodeInto(picked: PickedClass, files: readonly File[], thumbnails: HTMLElement, started: () => void): Promise<void> {
  const selection = ++picked.selection;
  picked.images = [];
  picked.skipped = [];
  thumbnails.replaceChildren();
  started();
  for (const file of files) {
    let outcome: { image: DecodedImage } | { skipped: string };
    try {
      outcome = { image: await decodeImageBlob(file, file.name) };
    } catch (error) {
      // A file that went away or cannot be read is skipped as a bad image is: the others still count.
      outcome = { skipped: error instanceof BadImageError ? error.message : `${file.name}: unreadable: ${(error as Error).message}` };
    }
    if (picked.selection !== selection) return;
    if ('image' in outcome) {
      picked.images.push({ file: file.name, image: outcome.image });
      const thumbnail = scaledCanvas(outcome.image);
      thumbnail.title = `${file.name}: ${outcome.image.width}×${outcome.image.height}`;
      thumbnails.append(thumbnail);
    } else {
      picked.skipped.push(outcome.skipped);
      thumbnails.append(el('span', `skipped ${outcome.skipped}`, 'error skipped'));
    }
  }
}

/** The image no larger than THUMBNAIL on its longer side. */
function scaledCanvas({ pixels, width, height }: DecodedImage): HTMLCanvasElement {
  const full = rgbCanvas(pixels, width, height);
  const scale = Math.min(1, THUMBNAIL / Math.max(width, height));
  const canvas = el('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  canvas.getContext('2d')!.drawImage(full, 0, 0, canvas.width, canvas.height);
  return canvas;
}
