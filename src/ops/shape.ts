import { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runPermute } from '../kernels/permute.js';
import { axisOf, shapeError } from './checks.js';

/** Same data, new shape: free (a view). Its gradient is the upstream gradient reshaped back. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const y = x.view(shape);
  return record('reshape', y, [x], [], (g) => [g.view(x.shape)]);
}

export function flatten(x: Tensor, startDim = 1): Tensor {
  const start = axisOf('flatten', startDim, x.ndim);
  return reshape(x, [...x.shape.slice(0, start), -1]);
}

/** Reorders dimensions (a copy, made by the permute kernel); backward applies the inverse order. */
export function permute(x: Tensor, order: readonly number[]): Tensor {
  const sorted = [...order].sort((a, b) => a - b);
  if (order.length !== x.ndim || sorted.some((d, i) => d !== i)) throw shapeError('permute', `order [${order.join(', ')}] is not a permutation of the axes`, x);
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => (inverse[d] = i));
  return record('permute', runPermute(x, order), [x], [], (g) => [runPermute(g, inverse)]);
}

/** Swaps two axes (the last two by default). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = axisOf('transpose', dim0, x.ndim);
  const b = axisOf('transpose', dim1, x.ndim);
  const order = x.shape.map((_, i) => i);
  order[a] = b;
  order[b] = a;
  return permute(x, order);
}
