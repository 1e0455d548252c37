import type { Tensor } from '../autograd/tensor.js';
import { DTypeError, ShapeError } from '../runtime/errors.js';

export function expectFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'float32') throw new DTypeError(`${op}: '${t.name}' is ${t.dtype}, expected float32`);
  }
}

export function describeShapes(...tensors: Tensor[]): string {
  return tensors.map((t) => `[${t.shape.join(', ')}]`).join(' and ');
}

export function shapeError(op: string, detail: string, ...tensors: Tensor[]): ShapeError {
  return new ShapeError(`${op}: ${detail} (shapes ${describeShapes(...tensors)})`);
}

/** Normalises a possibly negative axis. */
export function axisOf(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(ndim, 1)) throw new ShapeError(`${op}: axis ${axis} is out of range for ${ndim} dimensions`);
  return a;
}
