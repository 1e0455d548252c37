/**
 * The study notebook's split without moving a file: each class's images shuffled by seed, the
 * first 20% to validation, the rest to train; or the split a dataset already has in `train/` and
 * `validation/` folders. An optional JSON manifest fixes a seeded split for later runs.
 */
import { access } from 'node:fs/promises';
import type { BadFileReport } from './bad-file.js';
import type { DatasetSplit, Sample } from './dataset.js';
import { listImageFolder, type ImageFolder, type ListOptions } from './image-folder.js';
import { DatasetLayoutError, detectLayout, type DatasetLayout } from './layout.js';
import { seededPermutation } from './permutation.js';
import { randomStream } from './random.js';
import { readSplitManifest, writeSplitManifest } from './split-manifest.js';
import { OptionRangeError } from '../runtime/errors.js';

export const DEFAULT_VALIDATION_FRACTION = 0.2;

/**
 * Class by class, sample perm[k] of the class (in listing order) goes to validation for
 * k < round(n * validationFraction), where perm = seededPermutation(n, seed, stream('split', label)).
 * Both parts keep listing order; the loader shuffles.
 */
export function splitByClass(folder: ImageFolder, seed: number, validationFraction = DEFAULT_VALIDATION_FRACTION): DatasetSplit {
  if (!(validationFraction >= 0 && validationFraction <= 1)) {
    throw new OptionRangeError(`validationFraction must be in [0, 1], got ${validationFraction}`);
  }
  const train: Sample[] = [];
  const validation: Sample[] = [];
  folder.classes.forEach((_, label) => {
    const members = folder.samples.filter((sample) => sample.label === label);
    const order = seededPermutation(members.length, seed, randomStream('split', label));
    const inValidation = new Uint8Array(members.length);
    const validationCount = Math.round(members.length * validationFraction);
    for (let k = 0; k < validationCount; k++) inValidation[order[k]!] = 1;
    members.forEach((sample, i) => (inValidation[i] ? validation : train).push({ path: sample.path, label }));
  });
  return { classes: folder.classes, train, validation };
}

export interface LoadDatasetOptions extends ListOptions {
  seed: number;
  validationFraction?: number;
  /** A seeded split is read from this file when it exists, written to it when it does not. */
  manifestPath?: string;
}

export interface LoadedDataset extends DatasetSplit {
  layout: DatasetLayout;
  /** Files found bad while listing; more may turn up when decoding. */
  badFiles: BadFileReport[];
  /** Where the split came from. */
  splitBy: 'folders' | 'seed' | 'manifest';
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** The train and validation samples of a dataset folder in either layout. */
export async function loadDataset(root: string, options: LoadDatasetOptions): Promise<LoadedDataset> {
  const layout = await detectLayout(root);
  if (layout.kind === 'train-validation') return loadFolderSplit(layout, options);

  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const { manifestPath } = options;
  if (manifestPath !== undefined && (await exists(manifestPath))) {
    const manifest = await readSplitManifest(manifestPath, root);
    if (manifest.seed !== options.seed || manifest.validationFraction !== validationFraction) {
      throw new DatasetLayoutError(
        `${manifestPath} holds the split for seed ${manifest.seed}, validation ${manifest.validationFraction}; ` +
          `asked for seed ${options.seed}, validation ${validationFraction} (delete it to split again)`,
      );
    }
    return { ...manifest, layout, splitBy: 'manifest' };
  }

  const folder = await listImageFolder(root, options);
  expectEveryClass(folder);
  const split = splitByClass(folder, options.seed, validationFraction);
  if (manifestPath !== undefined) {
    await writeSplitManifest(manifestPath, root, { ...split, seed: options.seed, validationFraction, badFiles: folder.badFiles });
  }
  return { ...split, layout, badFiles: folder.badFiles, splitBy: 'seed' };
}

/**
 * Refuses a class folder without one usable image, as torchvision's ImageFolder does: its class
 * would get a label and an output no image ever trains.
 */
function expectEveryClass(folder: ImageFolder): void {
  const counts = new Uint32Array(folder.classes.length);
  for (const sample of folder.samples) counts[sample.label]!++;
  const empty = folder.classes.filter((_, label) => counts[label] === 0);
  if (empty.length > 0) {
    const bad = folder.badFiles.length > 0 ? ` (${folder.badFiles.length} bad files in it; \`webgpu-transfer scan\` lists them)` : '';
    throw new DatasetLayoutError(`${folder.root}: no usable image in class folder${empty.length > 1 ? 's' : ''} ${empty.map((c) => `"${c}"`).join(', ')}${bad}: add images or remove the folder`);
  }
}

async function loadFolderSplit(
  layout: Extract<DatasetLayout, { kind: 'train-validation' }>,
  options: ListOptions,
): Promise<LoadedDataset> {
  const [train, validation] = await Promise.all([
    listImageFolder(layout.train, options),
    listImageFolder(layout.validation, options),
  ]);
  expectEveryClass(train);
  expectEveryClass(validation);
  if (train.classes.join('\n') !== validation.classes.join('\n')) {
    throw new DatasetLayoutError(
      `${layout.train} and ${layout.validation} have different classes: ` +
        `[${train.classes.join(', ')}] and [${validation.classes.join(', ')}]`,
    );
  }
  const strip = (samples: readonly Sample[]): Sample[] => samples.map(({ path, label }) => ({ path, label }));
  return {
    classes: train.classes,
    train: strip(train.samples),
    validation: strip(validation.samples),
    layout,
    badFiles: [...train.badFiles, ...validation.badFiles],
    splitBy: 'folders',
  };
}
