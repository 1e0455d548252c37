/**
 * Which of the two layouts a dataset folder has: explicit `train/` and `validation/` (or `val/`)
 * folders, each with one folder per class, or one folder per class to be split by seed.
 */
import { join } from 'node:path';
import { subfolderNames } from './folders.js';

export type DatasetLayout =
  | { kind: 'class-folders'; root: string }
  | { kind: 'train-validation'; root: string; train: string; validation: string };

/** A dataset folder whose layout cannot be used (no class folders, classes that differ...). */
export class DatasetLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetLayoutError';
  }
}

const TRAIN_FOLDER = 'train';
const VALIDATION_FOLDER_NAMES = ['validation', 'val'];
/** Folder names that say "a split", not "a class", whatever their case. */
const SPLIT_LIKE = /^(train|training|val|valid|validation)$/i;

/**
 * The layout of `root`. Folders named like splits but not exactly `train/` and `validation/` (or
 * `val/`) together are refused: trained as class folders, `Train/` and `Test/` would become two
 * classes named Train and Test, and a lone `train/` a one-class classifier.
 */
export async function detectLayout(root: string): Promise<DatasetLayout> {
  const folders = await subfolderNames(root);
  const validation = VALIDATION_FOLDER_NAMES.find((name) => folders.includes(name));
  if (folders.includes(TRAIN_FOLDER) && validation !== undefined) {
    return { kind: 'train-validation', root, train: join(root, TRAIN_FOLDER), validation: join(root, validation) };
  }
  const splitLike = folders.filter((name) => SPLIT_LIKE.test(name));
  if (splitLike.length > 0) {
    throw new DatasetLayoutError(
      `${root} has folders named like splits (${splitLike.sort().join(', ')}; all its folders: ${folders.sort().join(', ')}): ` +
        `give it train/ and validation/ (lowercase), each with one folder per class, or only class folders, to be split by --seed`,
    );
  }
  return { kind: 'class-folders', root };
}
