import { Tensor } from '../autograd/tensor.js';
import { record } from '../autograd/graph.js';
import { runAccuracy, runCrossEntropyBackward, runCrossEntropyForward } from '../kernels/cross-entropy.js';
import { runReduce } from '../kernels/reduce.js';
import { DTypeError, OptionRangeError } from '../runtime/errors.js';
import { expectFloat, shapeError } from './checks.js';

export interface CrossEntropyOptions {
  /** ε of PyTorch's label_smoothing: the target puts 1 − ε on the label and ε/C on every class. */
  labelSmoothing?: number;
}

/** Integer class labels: a GPU int32 tensor [N], or values on the CPU (checked, then uploaded). */
export type Labels = Tensor | ArrayLike<number>;

/**
 * The mean softmax cross-entropy of logits [N, C] against labels (F.cross_entropy with
 * reduction 'mean'), as a scalar tensor. One fused kernel writes each row's loss and softmax
 * (log-sum-exp with the row maximum subtracted), a reduction takes the mean; the backward is one
 * fused kernel too, (softmax − target)·upstream/N, reading the saved softmax.
 *
 * Labels on the CPU are checked here: one outside [0, C) throws a RangeError. Labels already on
 * the GPU cannot be checked without a readback: a row with such a label has a NaN loss (so the
 * mean loss reads NaN) and a zero gradient.
 */
export function crossEntropy(logits: Tensor, labels: Labels, options: CrossEntropyOptions = {}): Tensor {
  expectFloat('crossEntropy', logits);
  const smoothing = options.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new OptionRangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  const labelTensor = labelsOnGpu('crossEntropy', logits, labels);
  const rows = logits.shape[0]!;
  const { losses, probs } = runCrossEntropyForward(logits, labelTensor, smoothing);
  const loss = runReduce('sum', losses, 1, rows, 1, [], 1 / rows);
  losses.dispose();
  const result = record('crossEntropy', loss, [logits], [probs, labelTensor], (g, [p, l]) => [runCrossEntropyBackward(p!, l!, g, smoothing)]);
  probs.dispose();
  if (labelTensor !== labels) labelTensor.dispose();
  return result;
}

/**
 * How many rows of logits [N, C] have their arg-max at the label, as a one-element float tensor
 * on the GPU: a count rather than a fraction, so that an epoch's counts add up exactly without
 * a readback per step (divide by the number of samples at the end).
 * Not differentiable. Rows with a label outside [0, C) count as wrong.
 */
export function accuracy(logits: Tensor, labels: Labels): Tensor {
  expectFloat('accuracy', logits);
  const labelTensor = labelsOnGpu('accuracy', logits, labels);
  const correct = runAccuracy(logits, labelTensor);
  if (labelTensor !== labels) labelTensor.dispose();
  return correct;
}

function labelsOnGpu(op: string, logits: Tensor, labels: Labels): Tensor {
  if (logits.ndim !== 2) throw shapeError(op, 'expected logits [N, C]', logits);
  const [rows, classes] = logits.shape as [number, number];
  if (labels instanceof Tensor) {
    if (labels.dtype !== 'int32') throw new DTypeError(`${op}: labels '${labels.name}' are ${labels.dtype}, expected int32`);
    if (labels.size !== rows) throw shapeError(op, `expected ${rows} labels, one per row of logits`, logits, labels);
    return labels;
  }
  if (labels.length !== rows) throw shapeError(op, `expected ${rows} labels, one per row of logits; got ${labels.length}`, logits);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`${op}: label ${label} at row ${i} is not a class index in [0, ${classes})`);
    }
  }
  return Tensor.fromData(logits.ctx, labels, [rows], 'int32', 'labels');
}
