/**
 * An image folder as torchvision's ImageFolder reads it: one sub-folder per class, classes in
 * code-point order of their names, each class's files found recursively in sorted order. A file
 * is an image by its first bytes, whatever its name; only those bytes are read here.
 */
import { open, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_FILE_MESSAGE, NOT_AN_IMAGE_MESSAGE, type BadFileReport } from './bad-file.js';
import { mapConcurrently } from './concurrency.js';
import type { Sample } from './dataset.js';
import { DatasetLayoutError } from './layout.js';
import { isDirectoryFollowingLinks, isHidden, subfolderNames } from './folders.js';
import { hasImageExtension, SNIFF_BYTES, sniffImageFormat, type ImageFormat } from './sniff.js';

export interface ImageFile extends Sample {
  /** The format its content starts with (a `.jpg` may hold a PNG). */
  format: ImageFormat;
}

export interface ImageFolder {
  root: string;
  /** Class names in code-point order; label i is classes[i]. */
  classes: string[];
  /** Images by content, by class then path as torchvision orders them. */
  samples: ImageFile[];
  /** Files named as images that are empty, unreadable or hold something else. */
  badFiles: BadFileReport[];
  /** Other files (Thumbs.db, notes...), ignored. */
  nonImages: string[];
}

export interface ListOptions {
  /** File reads in flight at once. */
  concurrency?: number;
}

/**
 * Python's sort of str compares code points; JavaScript's default compares UTF-16 units, which
 * orders characters above U+FFFF before U+E000-U+FFFF. Labels must match torchvision's.
 */
export function compareCodePoints(a: string, b: string): number {
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const difference = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
}

async function listClassFolders(root: string): Promise<string[]> {
  return (await subfolderNames(root)).sort(compareCodePoints);
}

/** Every file under a class folder, ordered as sorted(os.walk(dir)) then sorted(files). */
async function listFilesRecursively(dir: string): Promise<string[]> {
  const folders: { path: string; files: string[] }[] = [];
  const visited = new Set<string>();
  const walk = async (path: string): Promise<void> => {
    const real = await realpath(path);
    if (visited.has(real)) return; // a symbolic link back up the tree
    visited.add(real);
    const files: string[] = [];
    const subfolders: string[] = [];
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      const isFolder = entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectoryFollowingLinks(child)));
      if (isFolder) {
        if (!isHidden(entry.name)) subfolders.push(child);
      } else {
        files.push(entry.name);
      }
    }
    folders.push({ path, files: files.sort(compareCodePoints) });
    for (const subfolder of subfolders) await walk(subfolder);
  };
  await walk(dir);
  folders.sort((a, b) => compareCodePoints(a.path, b.path));
  return folders.flatMap((folder) => folder.files.map((file) => join(folder.path, file)));
}

type Sniffed = { kind: 'image'; format: ImageFormat } | { kind: 'bad'; report: BadFileReport } | { kind: 'other' };

async function readFirstBytes(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(SNIFF_BYTES);
    const { bytesRead } = await file.read(head, 0, SNIFF_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function sniffFile(path: string): Promise<Sniffed> {
  const claimsImage = hasImageExtension(path);
  let head: Uint8Array;
  try {
    head = await readFirstBytes(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return claimsImage ? { kind: 'bad', report: { path, reason: 'unreadable', message } } : { kind: 'other' };
  }
  const format = sniffImageFormat(head);
  if (format !== undefined) return { kind: 'image', format };
  if (!claimsImage) return { kind: 'other' };
  return head.length === 0
    ? { kind: 'bad', report: { path, reason: 'empty', message: EMPTY_FILE_MESSAGE } }
    : { kind: 'bad', report: { path, reason: 'not-an-image', message: NOT_AN_IMAGE_MESSAGE } };
}

export async function listImageFolder(root: string, { concurrency = 32 }: ListOptions = {}): Promise<ImageFolder> {
  const classes = await listClassFolders(root);
  if (classes.length === 0) throw new DatasetLayoutError(`${root} has no class folders (one folder per class expected)`);
  const folder: ImageFolder = { root, classes, samples: [], badFiles: [], nonImages: [] };
  const filesPerClass = await Promise.all(classes.map((name) => listFilesRecursively(join(root, name))));
  for (const [label, files] of filesPerClass.entries()) {
    const sniffed = await mapConcurrently(files, concurrency, sniffFile);
    sniffed.forEach((result, i) => {
      const path = files[i]!;
      if (result.kind === 'image') folder.samples.push({ path, label, format: result.format });
      else if (result.kind === 'bad') folder.badFiles.push(result.report);
      else folder.nonImages.push(path);
    });
  }
  return folder;
}
