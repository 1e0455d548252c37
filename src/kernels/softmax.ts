import { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex, F32_LOWEST } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Softmax or log-softmax along the last axis, one row per invocation, in three passes over the
 * row: the maximum (subtracted so exp cannot overflow), the sum of exponentials, the result.
 */
const source = cached(buildSource);
function buildSource(log: boolean) {
  return {
    name: log ? 'log_softmax' : 'softmax',
    code: /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let row = linear_index(wg, groups, local);
  if (row >= p.rows) { return; }
  let base = row * p.cols;
  var largest = ${F32_LOWEST};
  for (var j = 0u; j < p.cols; j++) { largest = max(largest, x[base + j]); }
  var total = 0.0;
  for (var j = 0u; j < p.cols; j++) { total += exp(x[base + j] - largest); }
  ${log
    ? 'let log_total = log(total);\n  for (var j = 0u; j < p.cols; j++) { y[base + j] = x[base + j] - largest - log_total; }'
    : 'for (var j = 0u; j < p.cols; j++) { y[base + j] = exp(x[base + j] - largest) / total; }'}
}`,
  };
}

export function runSoftmax(x: Tensor, log: boolean): Tensor {
  const cols = x.shape[x.ndim - 1] ?? 1;
  const rows = x.size / cols;
  const y = Tensor.empty(x.ctx, x.shape, 'float32');
  launch(x.ctx, source(log), { buffers: { x, y }, uniforms: { rows, cols }, workgroups: groupsFor(rows, WORKGROUP_1D) });
  return y;
}
