import type { Tensor } from '../autograd/tensor.js';
import { runBackward } from '../autograd/backward.js';
import { runBinary } from '../kernels/elementwise.js';
import { full } from './creation.js';
import { InputError, ShapeError } from '../runtime/errors.js';

/**
 * Backpropagates from `root` (a scalar loss, or any tensor with an explicit `gradient` of the
 * same shape) into the `.grad` of every leaf that requires one.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  // As PyTorch: ones for a non-scalar would silently backpropagate the sum of its elements.
  if (!gradient && root.size !== 1) {
    throw new InputError(`backward(): '${root.name}' is [${root.shape.join(', ')}], not a scalar: reduce it to one value (e.g. a mean loss), or pass the gradient of each element`);
  }
  if (gradient && gradient.shape.join() !== root.shape.join()) {
    throw new ShapeError(`backward(): gradient '${gradient.name}' is [${gradient.shape.join(', ')}], '${root.name}' is [${root.shape.join(', ')}]: they must match`);
  }
  const seed = gradient ? gradient.share() : full(root.shape, 1, { ctx: root.ctx });
  runBackward(root, seed, accumulate);
}

/** a + b into a new tensor; both inputs are released (gradient accumulation). */
function accumulate(a: Tensor, b: Tensor): Tensor {
  const sum = runBinary('add', a, b, a.shape);
  a.dispose();
  b.dispose();
  return sum;
}

/** Clears the gradients of `params` (releasing their memory), as `optimizer.zero_grad()` does. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
