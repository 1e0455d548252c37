import type { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex } from './wgsl.js';
import { rowArgmax } from './cross-entropy.js';

/**
 * Confusion counts: for each row of logits [N, C], adds one to counts[label · C + predicted],
 * the predicted class being the row's arg-max as accuracy takes it (rowArgmax). The counts stay on
 * the GPU across batches, so an evaluation reads them back once. One invocation per row, each
 * adding with an atomic (rows of one batch can share a cell). A label outside [0, C) counts nowhere.
 */
const confusionSource = {
  name: 'confusion',
  code: /* wgsl */ `
struct Params { rows: u32, classes: u32 }
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<uniform> p: Params;
${rowArgmax}
${linearIndex}
${entry1d} {
  let row = linear_index(wg, groups, local);
  if (row >= p.rows) { return; }
  let label = labels[row];
  if (label < 0 || u32(label) >= p.classes) { return; }
  atomicAdd(&counts[u32(label) * p.classes + row_argmax(row * p.classes, p.classes)], 1u);
}`,
};

/** counts [C, C] (uint32, true class × predicted class) += this batch's. */
export function runConfusionInto(counts: Tensor, logits: Tensor, labels: Tensor): void {
  const [rows, classes] = logits.shape as [number, number];
  if (counts.dtype !== 'uint32' || counts.size !== classes * classes) {
    throw new Error(`confusion counts for ${classes} classes must be a uint32 [${classes}, ${classes}] tensor; got ${counts.dtype} [${counts.shape.join(', ')}]`);
  }
  if (rows === 0) return;
  launch(logits.ctx, confusionSource, { buffers: { logits, labels, counts }, uniforms: { rows, classes }, workgroups: groupsFor(rows, WORKGROUP_1D) });
}
