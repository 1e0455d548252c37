/**
 * `webgpu-transfer scan DIR`: what a dataset folder holds before training on it: the layout, the
 * usable images per class, the bad files with their reasons, the other files ignored.
 */
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { BadImageError, formatBadFiles, type BadFileReport } from './bad-file.js';
import { mapConcurrently } from './concurrency.js';
import { DEFAULT_DECODE_OPTIONS, type DecodeOptions } from './decode-contract.js';
import { checkImageHeader, decodeImageFile } from './decode-node.js';
import { listImageFolder, type ImageFolder, type ListOptions } from './image-folder.js';
import { detectLayout, type DatasetLayout } from './layout.js';
import type { ImageFormat } from './sniff.js';

/** 'decode' decodes every image as training will (finds truncated files); 'header' reads headers only. */
export type ScanCheck = 'decode' | 'header';

export interface ScanOptions extends ListOptions {
  check?: ScanCheck;
  decodeOptions?: DecodeOptions;
  /** Images checked at once. */
  checkConcurrency?: number;
  onProgress?: (checked: number, total: number) => void;
}

export interface ScanPart {
  /** 'all' for one folder per class, else 'train' or 'validation'. */
  name: 'all' | 'train' | 'validation';
  classes: string[];
  /** Usable images per class, in the order of `classes`. */
  imagesPerClass: number[];
}

export interface ScanReport {
  root: string;
  layout: DatasetLayout['kind'];
  parts: ScanPart[];
  /** Files seen under the class folders, of every kind. */
  files: number;
  /** Files that are images by content, by format (bad ones included). */
  formats: Partial<Record<ImageFormat, number>>;
  usableImages: number;
  badFiles: BadFileReport[];
  nonImages: string[];
  check: ScanCheck;
  seconds: number;
}

export async function scanDataset(root: string, options: ScanOptions = {}): Promise<ScanReport> {
  const started = performance.now();
  const check = options.check ?? 'decode';
  const layout = await detectLayout(root);
  const namedFolders: [ScanPart['name'], string][] =
    layout.kind === 'train-validation'
      ? [
          ['train', layout.train],
          ['validation', layout.validation],
        ]
      : [['all', root]];
  const folders = await Promise.all(namedFolders.map(([, dir]) => listImageFolder(dir, options)));

  const samples = folders.flatMap((folder, part) => folder.samples.map((sample) => ({ ...sample, part })));
  const checkOne = check === 'decode' ? decodeImageFile : checkImageHeader;
  const decodeOptions = options.decodeOptions ?? DEFAULT_DECODE_OPTIONS;
  let checked = 0;
  const failures = await mapConcurrently(samples, options.checkConcurrency ?? availableParallelism(), async (sample) => {
    try {
      await checkOne(sample.path, decodeOptions);
      return undefined;
    } catch (error) {
      if (error instanceof BadImageError) return error.report;
      throw error;
    } finally {
      options.onProgress?.(++checked, samples.length);
    }
  });

  const parts = folders.map((folder, part): ScanPart => ({
    name: namedFolders[part]![0],
    classes: folder.classes,
    imagesPerClass: folder.classes.map(() => 0),
  }));
  const formats: Partial<Record<ImageFormat, number>> = {};
  samples.forEach((sample, i) => {
    formats[sample.format] = (formats[sample.format] ?? 0) + 1;
    if (failures[i] === undefined) parts[sample.part]!.imagesPerClass[sample.label]!++;
  });
  const decodeFailures = failures.filter((report): report is BadFileReport => report !== undefined);
  return {
    root,
    layout: layout.kind,
    parts,
    files: folders.reduce((sum, f: ImageFolder) => sum + f.samples.length + f.badFiles.length + f.nonImages.length, 0),
    formats,
    usableImages: samples.length - decodeFailures.length,
    badFiles: [...folders.flatMap((folder) => folder.badFiles), ...decodeFailures],
    nonImages: folders.flatMap((folder) => folder.nonImages),
    check,
    seconds: (performance.now() - started) / 1000,
  };
}

const count = (n: number): string => n.toLocaleString('en-US');

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  // Names left-aligned, numbers right-aligned.
  return rows.map((row) =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  '),
  );
}

export function formatScanReport(report: ScanReport): string {
  const classNames = [...new Set(report.parts.flatMap((part) => part.classes))];
  const imagesOf = (part: ScanPart, name: string): number => {
    const label = part.classes.indexOf(name);
    return label < 0 ? 0 : part.imagesPerClass[label]!;
  };
  const layout = report.layout === 'train-validation' ? 'train/ and validation/ folders' : 'one folder per class';
  const how = report.check === 'decode' ? 'every image decoded' : 'headers read';
  const lines = [`${report.root}: ${layout}, ${classNames.length} classes (${how}, ${report.seconds.toFixed(1)} s)`];

  const columns = report.parts.map((part) => (part.name === 'all' ? 'images' : part.name));
  const perClass = classNames.map((name) => [name, ...report.parts.map((part) => count(imagesOf(part, name)))]);
  const totals = report.parts.map((part) => count(part.imagesPerClass.reduce((a, b) => a + b, 0)));
  lines.push(...table([['class', ...columns], ...perClass, ['total', ...totals]]).map((line) => `  ${line}`));

  const formats = Object.entries(report.formats).map(([format, n]) => `${format} ${count(n)}`);
  lines.push(
    `files: ${count(report.files)} seen, ${count(report.usableImages)} usable images` +
      (formats.length > 0 ? ` (by content: ${formats.join(', ')})` : '') +
      `, ${count(report.badFiles.length)} bad, ${count(report.nonImages.length)} other files ignored`,
  );
  const relativeToRoot = (reports: BadFileReport[]): BadFileReport[] =>
    reports.map((r) => ({ ...r, path: relative(report.root, r.path) }));
  lines.push(formatBadFiles(relativeToRoot(report.badFiles)));

  for (const part of report.parts) {
    part.classes.forEach((name, label) => {
      const where = part.name === 'all' ? '' : ` in ${part.name}`;
      if (part.imagesPerClass[label] === 0) lines.push(`warning: class "${name}" has no usable image${where}`);
    });
  }
  if (classNames.length < 2) lines.push('warning: a classifier needs at least 2 class folders (is DIR one level too high?)');
  if (report.parts.some((part) => part.classes.join('\n') !== report.parts[0]!.classes.join('\n'))) {
    lines.push('warning: train and validation have different classes');
  }
  return lines.join('\n');
}
