import type { Module } from '../nn/module.js';

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
  if (typeof path !== 'string') throw new Error(`${model.constructor.name} does not name its head (no headPath): say which module to use instead`);
  return path;
}

/** Whether a state-dict key or parameter name belongs to the module at `path`. */
export function isUnder(name: string, path: string): boolean {
  return path === '' || name === path || name.startsWith(`${path}.`);
}
