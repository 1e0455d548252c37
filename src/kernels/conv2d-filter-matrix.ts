import { Tensor } from '../autograd/tensor.js';
import { groupsFor1d, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, gridStride, linearIndex } from './wgsl.js';
import { cached } from './cached-source.js';
import type { SlidingConv } from './conv2d-common.js';
import type { GpuContext } from '../runtime/context.js';

// The order in which the tiled (GPU) convolution walks a group's reduction over (source channel,
// tap), and its filters laid out as a dense matrix in that order.

/** Source channels per block of the reduction order (see `channelBlocks`). */
export const CHANNEL_BLOCK = 16;

/**
 * Whether the tiled convolution walks the reduction in channel blocks: when a group's source
 * channels come in whole blocks of 16, as in every layer of VGG16 and ResNet18 but the first,
 * the order is (block, tap, channel within the block). The 16 consecutive steps an invocation
 * stages together then share one tap, so it works out the tap's place in the window (row,
 * column, padding) once per 16 values instead of once per value, which was about as many
 * instructions per step as the step's multiply-adds. Otherwise the order is (channel, tap), the
 * weight's own (and always, with GpuContextOptions.convOrder 'plain', to compare the two).
 */
export const channelBlocks = (ctx: GpuContext, c: SlidingConv) => ctx.convOrder === 'blocks' && c.redPerGroup % CHANNEL_BLOCK === 0;

/** WGSL: TAPS, and step r of the reduction as (source channel within the group, tap). Needs KH and KW. */
export function reductionStep(blocks: boolean): string {
  const body = blocks
    ? `let pair = r / ${CHANNEL_BLOCK}u;  // one (block, tap) pair per ${CHANNEL_BLOCK} steps
  return vec2((pair / TAPS) * ${CHANNEL_BLOCK}u + r % ${CHANNEL_BLOCK}u, pair % TAPS);`
    : 'return vec2(r / TAPS, r % TAPS);';
  return /* wgsl */ `
const TAPS = KH * KW;
fn reduction_step(r: u32) -> vec2<u32> {
  ${body}
}`;
}

/**
 * Whether the tiled kernel can read the weight as it is: the forward pass in (channel, tap)
 * order, where a filter of OIHW storage is already one dense row of the reduction, or with a
 * single tap (a 1x1 convolution such as Winograd's product), where both orders are the same.
 */
const weightIsFilterMatrix = (c: SlidingConv, blocks: boolean) => !c.flip && (!blocks || c.kernelH * c.kernelW === 1);

const filterMatrixSource = cached(buildFilterMatrixSource);
function buildFilterMatrixSource(kernelH: number, kernelW: number, blocks: boolean, flip: boolean) {
  return {
    name: `conv2d.filter_matrix${blocks ? '.blocks' : ''}`,
    code: /* wgsl */ `
// The filters as the tiled convolution reads them: filters[group][out][r], r in its reduction
// order, so that a step of the reduction is adjacent addresses of a filter. The input gradient
// reads the weight transposed and mirrored: its filters are gathered here once per pass.
struct Params { size: u32, out_per_group: u32, reduction: u32, w_group_stride: u32, w_out_stride: u32, w_red_stride: u32 }
@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read_write> filters: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
const KH = ${kernelH}u;
const KW = ${kernelW}u;
${reductionStep(blocks)}
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    let r = i % p.reduction;
    let out = (i / p.reduction) % p.out_per_group;
    let g = i / (p.reduction * p.out_per_group);
    let step = reduction_step(r);
    filters[i] = weight[g * p.w_group_stride + out * p.w_out_stride + step.x * p.w_red_stride + ${flip ? 'TAPS - 1u - step.y' : 'step.y'}];
  }
}`,
  };
}

/**
 * The filters of `c` as a dense [groups][outPerGroup][reduction] matrix in the tiled kernel's
 * order (`blocks`: channelBlocks): the weight itself where it already is one, else a new tensor
 * (the caller disposes it).
 */
export function runFilterMatrix(c: SlidingConv, weight: Tensor, blocks: boolean): Tensor {
  if (weightIsFilterMatrix(c, blocks)) return weight;
  const reduction = c.redPerGroup * c.kernelH * c.kernelW;
  const filters = Tensor.empty(weight.ctx, [c.groups, c.outPerGroup, reduction], 'float32', 'conv2d.filters');
  launch(weight.ctx, filterMatrixSource(c.kernelH, c.kernelW, blocks, c.flip), {
    buffers: { weight, filters },
    uniforms: {
      size: filters.size, out_per_group: c.outPerGroup, reduction,
      w_group_stride: c.wGroupStride, w_out_stride: c.wOutStride, w_red_stride: c.wRedStride,
    },
    workgroups: groupsFor1d(weight.ctx, filters.size, WORKGROUP_1D),
  });
  return filters;
}
