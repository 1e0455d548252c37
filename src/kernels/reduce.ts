import { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex, F32_LOWEST } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Reductions over one block of adjacent axes. The input is viewed as [outer, reduced, inner]
 * (any reduction over adjacent axes has this form; ops/reduce.ts applies non-adjacent ones in
 * turn), and output element (o, i) combines input[o, r, i] over r.
 */
export type ReduceOp = 'sum' | 'max' | 'argmax';

const COMBINE: Record<ReduceOp, { init: string; step: string; result: string; out: string }> = {
  sum: { init: 'var acc = 0.0;', step: 'acc += v;', result: 'acc * p.scale', out: 'f32' },
  max: { init: `var acc = ${F32_LOWEST};`, step: 'acc = max(acc, v);', result: 'acc', out: 'f32' },
  argmax: {
    init: `var acc = ${F32_LOWEST}; var best = 0u;`,
    step: 'if (v > acc) { acc = v; best = r; }',
    result: 'i32(best)',
    out: 'i32',
  },
};

/** One invocation per output element, walking the reduced axis serially: no barriers. */
const serialSource = cached(buildSerialSource);
function buildSerialSource(op: ReduceOp, name: string) {
  const c = COMBINE[op];
  return {
    name,
    code: /* wgsl */ `
struct Params { outer: u32, reduced: u32, inner: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<${c.out}>;
@group(0) @binding(2) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.outer * p.inner) { return; }
  let o = i / p.inner;
  let base = o * p.reduced * p.inner + i % p.inner;
  ${c.init}
  for (var r = 0u; r < p.reduced; r++) {
    let v = x[base + r * p.inner];
    ${c.step}
  }
  y[i] = ${c.result};
}`,
  };
}

const COOP_SIZE = 64;

/**
 * One workgroup per output element, its invocations striding over the reduced axis and then
 * combining their partial results in workgroup memory. Worth it when there are few outputs and
 * a long reduced axis (a loss's mean over a batch); on CPU adapters barriers are expensive, so
 * only there the serial kernel is kept longer.
 */
const cooperativeSource = cached(buildCooperativeSource);
function buildCooperativeSource(op: ReduceOp, name: string) {
  const c = COMBINE[op];
  const merge =
    op === 'sum'
      ? 'partial[local] += partial[local + stride];'
      : op === 'max'
        ? 'partial[local] = max(partial[local], partial[local + stride]);'
        : `if (partial[local + stride] > partial[local] || (partial[local + stride] == partial[local] && index[local + stride] < index[local])) {
        partial[local] = partial[local + stride]; index[local] = index[local + stride]; }`;
  return {
    name: `${name}.cooperative`,
    code: /* wgsl */ `
struct Params { outer: u32, reduced: u32, inner: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<${c.out}>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> partial: array<f32, ${COOP_SIZE}>;
var<workgroup> index: array<u32, ${COOP_SIZE}>;
@compute @workgroup_size(${COOP_SIZE})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let i = wg.x + wg.y * groups.x;  // the output element this workgroup computes
  if (i >= p.outer * p.inner) { return; }
  let o = i / p.inner;
  let base = o * p.reduced * p.inner + i % p.inner;
  ${c.init}
  ${op === 'argmax' ? '' : 'var best = 0u;'}
  for (var r = local; r < p.reduced; r += ${COOP_SIZE}u) {
    let v = x[base + r * p.inner];
    ${c.step}
  }
  partial[local] = acc;
  index[local] = best;
  workgroupBarrier();
  for (var stride = ${COOP_SIZE / 2}u; stride > 0u; stride /= 2u) {
    if (local < stride) {
      ${merge}
    }
    workgroupBarrier();
  }
  if (local == 0u) {
    let acc = partial[0];
    let best = index[0];
    y[i] = ${c.result};
  }
}`,
  };
}

/**
 * `kernel` names the dispatches (what the profiler and the recorder's counts show): a caller whose
 * sum is part of another computation names it after that one.
 */
export function runReduce(op: ReduceOp, x: Tensor, outer: number, reduced: number, inner: number, outShape: readonly number[], scale = 1, kernel = `reduce.${op}`): Tensor {
  const y = Tensor.empty(x.ctx, outShape, op === 'argmax' ? 'int32' : 'float32');
  const outputs = outer * inner;
  const fewOutputs = outputs < (x.ctx.kernelTarget === 'cpu' ? 16 : 4096);
  const cooperative = fewOutputs && reduced >= 4 * COOP_SIZE;
  launch(x.ctx, cooperative ? cooperativeSource(op, kernel) : serialSource(op, kernel), {
    buffers: { x, y },
    uniforms: { outer, reduced, inner, scale },
    workgroups: cooperative ? outputs : groupsFor(outputs, WORKGROUP_1D),
  });
  return y;
}
