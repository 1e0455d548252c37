/**
 * Which of the two layouts a dataset folder has: explicit `train/` and `validation/` (or `val/`)
 * folders, each with one folder per class, or one folder per class to be split by seed.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

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

const VALIDATION_FOLDER_NAMES = ['validation', 'val'];

export async function detectLayout(root: string): Promise<DatasetLayout> {
  const folders = new Set(
    (await readdir(root, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name),
  );
  const validation = VALIDATION_FOLDER_NAMES.find((name) => folders.has(name));
  if (folders.has('train') && validation !== undefined) {
    return { kind: 'train-validation', root, train: join(root, 'train'), validation: join(root, validation) };
  }
  return { kind: 'class-folders', root };
}
