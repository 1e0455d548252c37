/**
 * A split written to JSON so that a run can be repeated on the same files without listing or
 * splitting again. Paths are relative to the dataset folder, with `/`, so the folder can move.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { BadFileReport } from './bad-file.js';
import type { DatasetSplit, Sample } from './dataset.js';

const FORMAT = 'webgpu-transfer/split';
const VERSION = 1;

export interface SplitManifest extends DatasetSplit {
  seed: number;
  validationFraction: number;
  /** Files found bad while listing, before the split. */
  badFiles: BadFileReport[];
}

interface ManifestJson {
  format: typeof FORMAT;
  version: typeof VERSION;
  seed: number;
  validationFraction: number;
  classes: string[];
  train: [string, number][];
  validation: [string, number][];
  badFiles: BadFileReport[];
}

const toPortable = (root: string, path: string): string => relative(root, path).split(sep).join('/');
const fromPortable = (root: string, path: string): string => (isAbsolute(path) ? path : join(root, ...path.split('/')));

export async function writeSplitManifest(file: string, root: string, manifest: SplitManifest): Promise<void> {
  const samples = (list: Sample[]): [string, number][] => list.map((s) => [toPortable(root, s.path), s.label]);
  const json: ManifestJson = {
    format: FORMAT,
    version: VERSION,
    seed: manifest.seed,
    validationFraction: manifest.validationFraction,
    classes: manifest.classes,
    train: samples(manifest.train),
    validation: samples(manifest.validation),
    badFiles: manifest.badFiles.map((report) => ({ ...report, path: toPortable(root, report.path) })),
  };
  await writeFile(file, JSON.stringify(json) + '\n');
}

export async function readSplitManifest(file: string, root: string): Promise<SplitManifest> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Partial<ManifestJson>;
  if (json.format !== FORMAT || json.version !== VERSION) {
    throw new Error(`${file} is not a ${FORMAT} manifest, version ${VERSION}`);
  }
  const samples = (list: [string, number][] = []): Sample[] =>
    list.map(([path, label]) => ({ path: fromPortable(root, path), label }));
  return {
    seed: json.seed ?? 0,
    validationFraction: json.validationFraction ?? 0,
    classes: json.classes ?? [],
    train: samples(json.train),
    validation: samples(json.validation),
    badFiles: (json.badFiles ?? []).map((report) => ({ ...report, path: fromPortable(root, report.path) })),
  };
}
