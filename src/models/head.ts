import type { Module } from '../nn/module.js';
import { InputError } from '../runtime/errors.js';

/**
 * A model that knows which module is its classification head: what transfer learning replaces
 * (a new head for N classes), trains first, and skips when loading a 1000-class checkpoint.
 */
export interface HasHead {
  /** Module path of the last layer, e.g. `classifier.6` (VGG) or `fc` (ResNet). */
  readonly headPath: string;
}

export function headPathOf(model: Module): string {
  const path = (model as Partial<HasHead>).headPath;
  if (typeof path !== 'string') {
    throw new InputError(`${model.constructor.name} does not name its head: give it a headPath, the module path of its last layer (as VGG's 'classifier.6'), e.g. Object.assign(model, { headPath: '2' }) for a Sequential`);
  }
  return path;
}

/** Whether a state-dict key or parameter name belongs to the module at `path`. */
export function isUnder(name: string, path: string): boolean {
  return path === '' || name === path || name.startsWith(`${path}.`);
}
