import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch, rowChunks } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Batch normalisation of an NCHW tensor, per channel c over the M = N·H·W values x[n, c, :, :].
 *
 *   forward   y = x·scale[c] + shift[c],  scale = w·invstd, shift = b − mean·scale
 *   backward  x̂ = (x − mean)·invstd
 *             dbias[c] = Σ dy                 dweight[c] = Σ dy·x̂
 *             dx = scale[c]·(dy − dbias[c]/M − x̂·dweight[c]/M)    (training: batch statistics)
 *             dx = scale[c]·dy                                     (eval: running statistics)
 *
 * Both directions need one reduction per channel over N·H·W values (the statistics, then the two
 * gradient sums), done in two passes: `partial` kernels reduce the planes into a few slots per
 * channel, then a `finalize` kernel combines one channel's slots serially. The kernels come in a
 * layout for GPUs and one for CPU adapters (see `BatchNormVariant`). Planes are bound a run of
 * whole images at a time, so a tensor larger than one binding is processed run by run.
 *
 * Per-channel results live in `ChannelStats` (mean, invstd, scale, shift): the forward's
 * normalisation, the eval-mode statistics and the backward all read the same record.
 */

/**
 * Two layouts of the same kernels, chosen per adapter:
 *   tree  - for GPUs: many small workgroups. The partial pass runs one workgroup per (channel,
 *           image) plane, whose 64 lanes combine their sums through workgroup memory (6
 *           barriers) into one slot; element-wise kernels give each invocation one element.
 *   lanes - for CPU adapters (lavapipe, SwiftShader), where each workgroup costs microseconds
 *           to launch and a barrier splits the SIMD program: few large workgroups, no barriers.
 *           The partial pass runs one workgroup per channel, each lane summing its share of all
 *           planes into its own slot (finalize adds the 64 slots); element-wise kernels run one
 *           workgroup per plane, each lane looping over it.
 * Lane l always reads elements l, l+64, ... of a plane, so neighbouring lanes read neighbouring
 * addresses (coalesced on a GPU, vector loads on a CPU).
 */
export type BatchNormVariant = 'tree' | 'lanes';

const LANES = WORKGROUP_1D;

export function defaultVariant(ctx: GpuContext): BatchNormVariant {
  return ctx.kernelTarget === 'cpu' ? 'lanes' : 'tree';
}

const CHANNEL_STATS = /* wgsl */ `
struct ChannelStats { mean: f32, invstd: f32, scale: f32, shift: f32 }`;

/** Uniforms shared by the partial kernels: which planes the current binding holds. */
const PARTIAL_PARAMS = /* wgsl */ `
struct Params {
  channels: u32,
  plane: u32,   // H·W, the values of one (image, channel) plane
  images: u32,  // images in this binding (tensors larger than a binding come in runs of images)
  slot0: u32,   // the first slot this run writes
  slots: u32,   // slots per channel, all runs together
}`;

/**
 * The partial pass. `prologue` reads what the channel needs, `load` turns element k of the plane
 * starting at `base` into the pair of values to sum, `slot` turns the sums and their element
 * count into the vec4 finalize reads.
 */
function partialKernel(variant: BatchNormVariant, prologue: string, load: string, slot: string): string {
  if (variant === 'tree') {
    return /* wgsl */ `
var<workgroup> tree: array<vec2<f32>, ${LANES}>;
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let c = wg.x;
  ${prologue}
  let base = (wg.y * p.channels + c) * p.plane;
  // A shift close to the data keeps the sum of squares from cancelling: any value of the plane
  // will do, the same for every lane since their sums are added.
  let shift = x[base];
  var acc = vec2<f32>(0.0);
  for (var k = lane; k < p.plane; k += ${LANES}u) {
    ${load}
  }
  tree[lane] = acc;
  workgroupBarrier();
  for (var stride = ${LANES / 2}u; stride > 0u; stride /= 2u) {
    if (lane < stride) { tree[lane] += tree[lane + stride]; }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let count = f32(p.plane);
    let sums = tree[0];
    partials[c * p.slots + p.slot0 + wg.y] = ${slot};
  }
}`;
  }
  return /* wgsl */ `
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let c = wg.x;
  ${prologue}
  // Each lane shifts by the first value it reads (lanes past a small plane: the plane's last).
  let shift = x[c * p.plane + min(lane, p.plane - 1u)];
  var acc = vec2<f32>(0.0);
  for (var n = 0u; n < p.images; n++) {
    let base = (n * p.channels + c) * p.plane;
    for (var k = lane; k < p.plane; k += ${LANES}u) {
      ${load}
    }
  }
  // Elements this lane read: ceil((plane - lane) / lanes) per image, none past the plane.
  let count = f32(p.images * ((p.plane + ${LANES - 1}u - min(lane, p.plane)) / ${LANES}u));
  let sums = acc;
  partials[c * p.slots + p.slot0 + lane] = ${slot};
}`;
}

/** Partial statistics: per slot (count, shift, Σ(x − shift), Σ(x − shift)²). */
const partialStatsSource = cached(buildPartialStatsSource);
function buildPartialStatsSource(variant: BatchNormVariant) {
  return {
    name: `batchnorm.partial_stats.${variant}`,
    code: /* wgsl */ `
${PARTIAL_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;
${partialKernel(variant, '', 'let v = x[base + k] - shift; acc += vec2<f32>(v, v * v);', 'vec4<f32>(count, shift, sums.x, sums.y)')}`,
  };
}

/** Partial gradient sums: per slot (Σ dy, Σ dy·x̂, 0, 0). */
const partialGradSource = cached(buildPartialGradSource);
function buildPartialGradSource(variant: BatchNormVariant) {
  return {
    name: `batchnorm.partial_grad.${variant}`,
    code: /* wgsl */ `
${PARTIAL_PARAMS}
${CHANNEL_STATS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<ChannelStats>;
@group(0) @binding(3) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;
${partialKernel(
  variant,
  'let st = stats[c];',
  'let g = dy[base + k]; let xhat = (x[base + k] - st.mean) * st.invstd; acc += vec2<f32>(g, g * xhat);',
  'vec4<f32>(sums, 0.0, 0.0)',
)}`,
  };
}

/**
 * Per channel: combine the slots into the batch mean and variance (Chan et al.'s pairwise
 * formula, exact for shifted sums), write the ChannelStats and update the running statistics in
 * place, with the unbiased variance as PyTorch does. Eval mode reads the running statistics.
 */
const finalizeStatsSource = cached(buildFinalizeStatsSource);
function buildFinalizeStatsSource(training: boolean, hasWeight: boolean, hasBias: boolean) {
  const running = training ? 'read_write' : 'read';
  const declarations = [
    training ? 'var<uniform> p: Params' : 'var<uniform> p: EvalParams',
    `var<storage, ${running}> running_mean: array<f32>`,
    `var<storage, ${running}> running_var: array<f32>`,
    'var<storage, read_write> stats: array<ChannelStats>',
    training ? 'var<storage, read> partials: array<vec4<f32>>' : '',
    hasWeight ? 'var<storage, read> weight: array<f32>' : '',
    hasBias ? 'var<storage, read> bias: array<f32>' : '',
  ];
  return {
    name: `batchnorm.finalize_stats.${training ? 'train' : 'eval'}${hasWeight ? '' : '.no_weight'}${hasBias ? '' : '.no_bias'}`,
    code: /* wgsl */ `
struct Params { channels: u32, slots: u32, count: f32, momentum: f32, eps: f32 }
struct EvalParams { channels: u32, eps: f32 }
${CHANNEL_STATS}
${numberedBindings(declarations)}
${linearIndex}
${entry1d} {
  let c = linear_index(wg, groups, local);
  if (c >= p.channels) { return; }
  ${
    training
      ? /* wgsl */ `let first = c * p.slots;
  // Σx = Σ count·shift + Σ(x − shift), taken relative to slot 0's shift to keep it small.
  let anchor = partials[first].y;
  var total = 0.0;
  for (var s = 0u; s < p.slots; s++) {
    let q = partials[first + s];
    total += q.x * (q.y - anchor) + q.z;
  }
  let mean = anchor + total / p.count;
  // Σ(x − mean)² over a slot = Σ(x − shift)² + 2d·Σ(x − shift) + count·d², d = shift − mean.
  var m2 = 0.0;
  for (var s = 0u; s < p.slots; s++) {
    let q = partials[first + s];
    let d = q.y - mean;
    m2 += q.w + 2.0 * d * q.z + q.x * d * d;
  }
  let variance = max(m2, 0.0) / p.count;
  running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * mean;
  running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * variance * p.count / (p.count - 1.0);`
      : /* wgsl */ `let mean = running_mean[c];
  let variance = running_var[c];`
  }
  let invstd = 1.0 / sqrt(variance + p.eps);
  let scale = ${hasWeight ? 'weight[c] * ' : ''}invstd;
  stats[c] = ChannelStats(mean, invstd, scale, ${hasBias ? 'bias[c]' : '0.0'} - mean * scale);
}`,
  };
}

/** `@group(0) @binding(i)` for each declaration in turn, skipping empty ones (optional inputs). */
function numberedBindings(declarations: readonly string[]): string {
  return declarations
    .filter((d) => d !== '')
    .map((d, i) => `@group(0) @binding(${i}) ${d};`)
    .join('\n');
}

/** Per channel: (Σ dy, Σ dy·x̂) from the slots. */
const finalizeGradSource = {
  name: 'batchnorm.finalize_grad',
  code: /* wgsl */ `
struct Params { channels: u32, slots: u32 }
@group(0) @binding(0) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sum_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_dy_xhat: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let c = linear_index(wg, groups, local);
  if (c >= p.channels) { return; }
  var sums = vec2<f32>(0.0);
  for (var s = 0u; s < p.slots; s++) { sums += partials[c * p.slots + s].xy; }
  sum_dy[c] = sums.x;
  sum_dy_xhat[c] = sums.y;
}`,
};

/**
 * Element-wise kernels over planes: workgroup (x, y) covers elements [x·span, (x+1)·span) of
 * plane y (plane = image·C + channel within the binding), so the channel is y mod C, with no
 * division per element. span is 64 (tree layout) or the whole plane (lanes layout). y may have
 * been folded into z for very many planes (runtime/workgroups.ts).
 */
const PLANE_PARAMS = /* wgsl */ `
struct Params { channels: u32, plane: u32, planes: u32, span: u32, inv_count: f32 }`;

/** `prologue` runs once per workgroup (per-channel values), `body` once per element i. */
function planeKernel(body: string, prologue = ''): string {
  return /* wgsl */ `
@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let plane_index = wg.y + wg.z * groups.y;
  if (plane_index >= p.planes) { return; }
  let c = plane_index % p.channels;
  let st = stats[c];
  ${prologue}
  let end = min(p.plane, (wg.x + 1u) * p.span);
  for (var k = wg.x * p.span + local; k < end; k += ${LANES}u) {
    let i = plane_index * p.plane + k;
    ${body}
  }
}`;
}

const normalizeSource = {
  name: 'batchnorm.normalize',
  code: /* wgsl */ `
${PLANE_PARAMS}
${CHANNEL_STATS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<ChannelStats>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${planeKernel('y[i] = x[i] * st.scale + st.shift;')}`,
};

/** dx in training mode: the batch statistics depend on x, hence the two mean terms. */
const backwardInputTrainSource = {
  name: 'batchnorm.backward_input.train',
  code: /* wgsl */ `
${PLANE_PARAMS}
${CHANNEL_STATS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<ChannelStats>;
@group(0) @binding(3) var<storage, read> sum_dy: array<f32>;
@group(0) @binding(4) var<storage, read> sum_dy_xhat: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
${planeKernel(
  /* wgsl */ `let xhat = (x[i] - st.mean) * st.invstd;
    dx[i] = st.scale * (dy[i] - mean_dy - xhat * mean_dy_xhat);`,
  'let mean_dy = sum_dy[c] * p.inv_count;\n  let mean_dy_xhat = sum_dy_xhat[c] * p.inv_count;',
)}`,
};

/** dx in eval mode: the statistics are constants, so batch norm is a per-channel affine map. */
const backwardInputEvalSource = {
  name: 'batchnorm.backward_input.eval',
  code: /* wgsl */ `
${PLANE_PARAMS}
${CHANNEL_STATS}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<ChannelStats>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${planeKernel('dx[i] = dy[i] * st.scale;')}`,
};

/** Shape [N, C, H, W] as (images, channels, plane). */
function dims(x: Tensor): { images: number; channels: number; plane: number } {
  const [images, channels, h, w] = x.shape as [number, number, number, number];
  return { images, channels, plane: h * w };
}

/** Runs of whole images that fit one binding (several runs only for tensors beyond the limit). */
function imageRuns(x: Tensor): { image0: number; images: number; offset: number; count: number }[] {
  const { images, channels, plane } = dims(x);
  const perImage = channels * plane;
  return rowChunks(x.ctx, images, [perImage]).map(({ row0, rows }) => ({ image0: row0, images: rows, offset: row0 * perImage, count: rows * perImage }));
}

/** Reduces every plane of `x` (and `dy`) into slots per channel; returns the partials. */
function runPartials(kind: 'stats' | 'grad', x: Tensor, dy: Tensor | null, stats: Tensor | null, variant: BatchNormVariant): { partials: Tensor; slots: number } {
  const { images, channels, plane } = dims(x);
  const runs = imageRuns(x);
  const slots = variant === 'tree' ? images : runs.length * LANES;
  const partials = Tensor.empty(x.ctx, [channels, slots, 4], 'float32');
  runs.forEach((run, r) => {
    const bound = { offset: run.offset, count: run.count };
    launch(x.ctx, kind === 'stats' ? partialStatsSource(variant) : partialGradSource(variant), {
      buffers:
        kind === 'stats'
          ? { x: { tensor: x, ...bound }, partials }
          : { x: { tensor: x, ...bound }, dy: { tensor: dy!, ...bound }, stats: stats!, partials },
      uniforms: { channels, plane, images: run.images, slot0: variant === 'tree' ? run.image0 : r * LANES, slots },
      workgroups: [channels, variant === 'tree' ? run.images : 1, 1],
    });
  });
  return { partials, slots };
}

export interface BatchStatsOptions {
  momentum: number;
  eps: number;
  variant?: BatchNormVariant;
}

/**
 * Training-mode statistics of `x` [N, C, H, W]: returns ChannelStats [C, 4] and updates
 * `runningMean` / `runningVar` in place on the GPU.
 */
export function runBatchStats(
  x: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  runningMean: Tensor,
  runningVar: Tensor,
  options: BatchStatsOptions,
): Tensor {
  const { images, channels, plane } = dims(x);
  const { partials, slots } = runPartials('stats', x, null, null, options.variant ?? defaultVariant(x.ctx));
  const stats = Tensor.empty(x.ctx, [channels, 4], 'float32');
  launch(x.ctx, finalizeStatsSource(true, weight !== null, bias !== null), {
    buffers: { running_mean: runningMean, running_var: runningVar, partials, stats, ...affineBuffers(weight, bias) },
    uniforms: { channels, slots, count: images * plane, momentum: options.momentum, eps: options.eps },
    workgroups: groupsFor(channels, WORKGROUP_1D),
  });
  partials.dispose();
  return stats;
}

/** Eval-mode ChannelStats [C, 4] from the running statistics. */
export function runRunningStats(weight: Tensor | null, bias: Tensor | null, runningMean: Tensor, runningVar: Tensor, eps: number): Tensor {
  const channels = runningMean.size;
  const stats = Tensor.empty(runningMean.ctx, [channels, 4], 'float32');
  launch(runningMean.ctx, finalizeStatsSource(false, weight !== null, bias !== null), {
    buffers: { running_mean: runningMean, running_var: runningVar, stats, ...affineBuffers(weight, bias) },
    uniforms: { channels, eps },
    workgroups: groupsFor(channels, WORKGROUP_1D),
  });
  return stats;
}

function affineBuffers(weight: Tensor | null, bias: Tensor | null): Record<string, Tensor> {
  const buffers: Record<string, Tensor> = {};
  if (weight) buffers.weight = weight;
  if (bias) buffers.bias = bias;
  return buffers;
}

/** Records one plane kernel per run of images; `bind` names the tensors of the run. */
function runPlanes(
  x: Tensor,
  variant: BatchNormVariant,
  source: { name: string; code: string },
  bind: (run: { offset: number; count: number }) => Record<string, Tensor | { tensor: Tensor; offset: number; count: number }>,
): void {
  const { images, channels, plane } = dims(x);
  const span = variant === 'tree' ? LANES : groupsFor(plane, LANES) * LANES;
  for (const run of imageRuns(x)) {
    const planes = run.images * channels;
    launch(x.ctx, source, {
      buffers: bind(run),
      uniforms: { channels, plane, planes, span, inv_count: 1 / (images * plane) },
      workgroups: [groupsFor(plane, span), planes, 1],
    });
  }
}

/** y = x·scale[c] + shift[c]. */
export function runNormalize(x: Tensor, stats: Tensor, variant = defaultVariant(x.ctx)): Tensor {
  const y = Tensor.empty(x.ctx, x.shape, 'float32');
  runPlanes(x, variant, normalizeSource, (r) => ({ x: { tensor: x, ...r }, stats, y: { tensor: y, ...r } }));
  return y;
}

/** (Σ dy, Σ dy·x̂) per channel: the bias and weight gradients, and the sums dx needs. */
export function runGradSums(x: Tensor, dy: Tensor, stats: Tensor, variant = defaultVariant(x.ctx)): { sumDy: Tensor; sumDyXhat: Tensor } {
  const { channels } = dims(x);
  const { partials, slots } = runPartials('grad', x, dy, stats, variant);
  const sumDy = Tensor.empty(x.ctx, [channels], 'float32');
  const sumDyXhat = Tensor.empty(x.ctx, [channels], 'float32');
  launch(x.ctx, finalizeGradSource, {
    buffers: { partials, sum_dy: sumDy, sum_dy_xhat: sumDyXhat },
    uniforms: { channels, slots },
    workgroups: groupsFor(channels, WORKGROUP_1D),
  });
  partials.dispose();
  return { sumDy, sumDyXhat };
}

/** The input gradient; `sums` from runGradSums in training mode, null in eval mode. */
export function runBackwardInput(
  x: Tensor | null,
  dy: Tensor,
  stats: Tensor,
  sums: { sumDy: Tensor; sumDyXhat: Tensor } | null,
  variant = defaultVariant(dy.ctx),
): Tensor {
  const dx = Tensor.empty(dy.ctx, dy.shape, 'float32');
  if (sums) {
    runPlanes(dy, variant, backwardInputTrainSource, (r) => ({
      x: { tensor: x!, ...r },
      dy: { tensor: dy, ...r },
      stats,
      sum_dy: sums.sumDy,
      sum_dy_xhat: sums.sumDyXhat,
      dx: { tensor: dx, ...r },
    }));
  } else {
    runPlanes(dy, variant, backwardInputEvalSource, (r) => ({ dy: { tensor: dy, ...r }, stats, dx: { tensor: dx, ...r } }));
  }
  return dx;
}
