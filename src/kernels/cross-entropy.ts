import { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex } from './wgsl.js';

/**
 * Softmax cross-entropy over the rows of logits [N, C] against integer labels, with label
 * smoothing ε: the target of a row is q = (1 − ε)·onehot(label) + ε/C.
 *
 *   loss_row = −Σ_j q_j·log p_j = lse − (1 − ε)·z_label − (ε/C)·Σ_j z_j,   lse = log Σ_j exp z_j
 *   dloss_row/dz_j = p_j − q_j
 *
 * computed on logits shifted by the row maximum, so exp never overflows (logits of 1000 work).
 *
 * A label outside [0, C) cannot be reported from inside a kernel: its row's loss is NaN, which
 * makes the mean loss NaN the next time anyone reads it, and its gradient row is 0, so the
 * weights are not corrupted before that. (Labels known on the CPU are checked before upload.)
 */
const forwardSource = {
  name: 'cross_entropy.forward',
  code: /* wgsl */ `
struct Params { rows: u32, classes: u32, smoothing: f32, invalid_loss: f32 }  // invalid_loss: NaN (WGSL has no NaN literal)
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let row = linear_index(wg, groups, local);
  if (row >= p.rows) { return; }
  let base = row * p.classes;
  var largest = logits[base];
  for (var j = 1u; j < p.classes; j++) { largest = max(largest, logits[base + j]); }
  var total = 0.0;
  var shifted_sum = 0.0;
  for (var j = 0u; j < p.classes; j++) {
    let z = logits[base + j] - largest;
    total += exp(z);
    shifted_sum += z;
  }
  for (var j = 0u; j < p.classes; j++) { probs[base + j] = exp(logits[base + j] - largest) / total; }
  let label = labels[row];
  let valid = label >= 0 && u32(label) < p.classes;
  let lse = log(total);  // of the shifted logits
  let label_logit = logits[base + select(0u, u32(label), valid)] - largest;
  let loss = lse - (1.0 - p.smoothing) * label_logit - p.smoothing * shifted_sum / f32(p.classes);
  losses[row] = select(p.invalid_loss, loss, valid);
}`,
};

const backwardSource = {
  name: 'cross_entropy.backward',
  code: /* wgsl */ `
struct Params { rows: u32, classes: u32, smoothing: f32, inv_rows: f32 }
@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read> grad_loss: array<f32>;  // the upstream gradient (1 value)
@group(0) @binding(3) var<storage, read_write> grad_logits: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.rows * p.classes) { return; }
  let label = labels[i / p.classes];
  let valid = label >= 0 && u32(label) < p.classes;
  let q = select(0.0, 1.0 - p.smoothing, u32(label) == i % p.classes) + p.smoothing / f32(p.classes);  // the target
  // The mean over rows makes each row's share 1/N of the upstream gradient.
  grad_logits[i] = select(0.0, (probs[i] - q) * grad_loss[0] * p.inv_rows, valid);
}`,
};

/** Per-row losses [N] and the row softmax [N, C] (saved for the backward). */
export function runCrossEntropyForward(logits: Tensor, labels: Tensor, smoothing: number): { losses: Tensor; probs: Tensor } {
  const [rows, classes] = logits.shape as [number, number];
  const probs = Tensor.empty(logits.ctx, logits.shape, 'float32');
  const losses = Tensor.empty(logits.ctx, [rows], 'float32');
  launch(logits.ctx, forwardSource, {
    buffers: { logits, labels, probs, losses },
    uniforms: { rows, classes, smoothing, invalid_loss: Number.NaN },
    workgroups: groupsFor(rows, WORKGROUP_1D),
  });
  return { losses, probs };
}

/** d(mean loss)/d logits = (softmax − target) · upstream / N. */
export function runCrossEntropyBackward(probs: Tensor, labels: Tensor, gradLoss: Tensor, smoothing: number): Tensor {
  const [rows, classes] = probs.shape as [number, number];
  const gradLogits = Tensor.empty(probs.ctx, probs.shape, 'float32');
  launch(probs.ctx, backwardSource, {
    buffers: { probs, labels, grad_loss: gradLoss, grad_logits: gradLogits },
    uniforms: { rows, classes, smoothing, inv_rows: 1 / rows },
    workgroups: groupsFor(rows * classes, WORKGROUP_1D),
  });
  return gradLogits;
}

const ACCURACY_LANES = 64;

/**
 * WGSL: the arg-max of a row of `logits` starting at `base`, the first on ties as torch.argmax
 * has it. Accuracy and the confusion counts (confusion.ts) predict with it, so they agree.
 */
export const rowArgmax = /* wgsl */ `
fn row_argmax(base: u32, classes: u32) -> u32 {
  var best = 0u;
  for (var j = 1u; j < classes; j++) {
    if (logits[base + j] > logits[base + best]) { best = j; }
  }
  return best;
}`;

/**
 * The number of rows whose arg-max (the first, on ties, as torch.argmax) equals the label, in
 * one workgroup: each lane counts a stride of rows, then the lanes' counts are added in
 * workgroup memory. One small dispatch, no readback.
 */
const accuracySource = {
  name: 'accuracy',
  code: /* wgsl */ `
struct Params { rows: u32, classes: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> correct: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> counts: array<u32, ${ACCURACY_LANES}>;
${rowArgmax}
@compute @workgroup_size(${ACCURACY_LANES})
fn main(@builtin(local_invocation_index) lane: u32) {
  var hits = 0u;
  for (var row = lane; row < p.rows; row += ${ACCURACY_LANES}u) {
    hits += select(0u, 1u, i32(row_argmax(row * p.classes, p.classes)) == labels[row]);
  }
  counts[lane] = hits;
  workgroupBarrier();
  for (var stride = ${ACCURACY_LANES / 2}u; stride > 0u; stride /= 2u) {
    if (lane < stride) { counts[lane] += counts[lane + stride]; }
    workgroupBarrier();
  }
  if (lane == 0u) { correct[0] = f32(counts[0]); }
}`,
};

export function runAccuracy(logits: Tensor, labels: Tensor): Tensor {
  const [rows, classes] = logits.shape as [number, number];
  const correct = Tensor.empty(logits.ctx, [1], 'float32');
  launch(logits.ctx, accuracySource, { buffers: { logits, labels, correct }, uniforms: { rows, classes }, workgroups: 1 });
  return correct;
}
