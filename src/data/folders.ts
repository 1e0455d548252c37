// Folders as dataset listings see them: symbolic links followed, hidden folders left out.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

// Hidden folders (`.ipynb_checkpoints`, `.git`) are never classes nor hold samples; torchvision
// would make a class of them and then fail on it.
export const isHidden = (name: string): boolean => name.startsWith('.');

export async function isDirectoryFollowingLinks(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** The names of `dir`'s sub-folders (links to folders included, hidden ones not), unsorted. */
export async function subfolderNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (isHidden(entry.name)) continue;
    if (entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectoryFollowingLinks(join(dir, entry.name))))) names.push(entry.name);
  }
  return names;
}
