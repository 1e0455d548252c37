// Renames and reshapes tensors on the fly, without touching the file or copying data: a reshape
// of row-major data keeps its bytes, so only the entry's name and shape change.

import { MissingTensorError, TensorLayoutError } from './errors.js';
import { numelOf } from './tensor-view.js';
import type { WeightEntry, WeightFile } from './weight-file.js';

export interface Rename {
  readonly name: string;
  /** Same number of elements as the stored tensor. */
  readonly shape: readonly number[];
}

/** Keys are stored names; tensors not listed keep their name and shape. */
export type WeightRemap = ReadonlyMap<string, Rename>;

export function remapWeights(file: WeightFile, remap: WeightRemap): WeightFile {
  const entries = new Map<string, WeightEntry>();
  const storedName = new Map<string, string>();
  for (const [stored, entry] of file.entries) {
    const { name, shape } = remap.get(stored) ?? { name: stored, shape: entry.shape };
    if (numelOf(shape) !== entry.numel) {
      throw new TensorLayoutError(file.name, stored, `cannot reshape [${entry.shape}] to [${shape}] for "${name}"`);
    }
    if (storedName.has(name)) throw new TensorLayoutError(file.name, stored, `renaming to "${name}" collides with "${storedName.get(name)}"`);
    entries.set(name, { dtype: entry.dtype, shape, numel: entry.numel });
    storedName.set(name, stored);
  }
  // The old names are gone: asking for one is as wrong as asking for any unknown name.
  const stored = (name: string): string => {
    const found = storedName.get(name);
    if (found === undefined) throw new MissingTensorError(file.name, name);
    return found;
  };
  return {
    format: file.format,
    name: file.name,
    metadata: file.metadata,
    entries,
    read: async (name) => file.read(stored(name)),
    readRaw: async (name) => file.readRaw(stored(name)),
    close: () => file.close(),
  };
}
