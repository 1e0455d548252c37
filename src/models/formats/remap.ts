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
  const named = new Map<string, Named>();
  for (const [stored, entry] of file.entries) {
    const { name, shape } = remap.get(stored) ?? { name: stored, shape: entry.shape };
    if (numelOf(shape) !== entry.numel) {
      throw new TensorLayoutError(file.name, stored, `cannot reshape [${entry.shape}] to [${shape}] for "${name}"`);
    }
    if (named.has(name)) throw new TensorLayoutError(file.name, stored, `renaming to "${name}" collides with "${named.get(name)!.stored}"`);
    named.set(name, { stored, entry: { dtype: entry.dtype, shape, numel: entry.numel } });
  }
  return view(file, named);
}

/**
 * The tensors whose names start with `prefix`, named without it; the others are left out: the
 * state dict inside a checkpoint that also holds an optimizer's (`model.…`, `optimizer.…`).
 */
export function weightsUnder(file: WeightFile, prefix: string): WeightFile {
  const named = new Map<string, Named>();
  for (const [stored, entry] of file.entries) if (stored.startsWith(prefix)) named.set(stored.slice(prefix.length), { stored, entry });
  return view(file, named);
}

/** A tensor of a view: the name it has in the file, and its entry under the view's name. */
interface Named {
  stored: string;
  entry: WeightEntry;
}

function view(file: WeightFile, named: ReadonlyMap<string, Named>): WeightFile {
  // The old names are gone: asking for one is as wrong as asking for any unknown name.
  const stored = (name: string): string => {
    const found = named.get(name)?.stored;
    if (found === undefined) throw new MissingTensorError(file.name, name);
    return found;
  };
  return {
    format: file.format,
    name: file.name,
    metadata: file.metadata,
    entries: new Map([...named].map(([name, { entry }]) => [name, entry])),
    read: async (name) => file.read(stored(name)),
    readRaw: async (name) => file.readRaw(stored(name)),
    close: () => file.close(),
  };
}
