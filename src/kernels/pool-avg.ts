import { Tensor } from '../autograd/tensor.js';
import { entry1d, linearIndex } from './wgsl.js';
import { POOL_PARAMS, launchPool, type PoolSizes, type PoolWindow } from './pool-common.js';

/**
 * Average pooling, with the two ways PyTorch places windows. Only the window differs, so each
 * is a row of WGSL functions and the kernels around them are shared:
 *   window_h(o)   - the rows [start, end) output row o averages, before clipping to the input;
 *                   its size end − start is the divisor, which for `avg` counts padding
 *                   (count_include_pad=True, PyTorch's default) and for `adaptive` cannot
 *                   contain any;
 *   covering_h(i) - the first and last output rows whose windows may contain input row i
 *                   (backward gathers from those, checking each window).
 * Likewise along w.
 *   avg:      start = o·stride − pad, end = start + kernel.
 *   adaptive: start = floor(o·H / OH), end = ceil((o + 1)·H / OH) (nn.AdaptiveAvgPool2d: any
 *             input size to a fixed output, windows overlapping or repeating rows when H < OH).
 */
export type AvgPoolKind = 'avg' | 'adaptive_avg';

const WINDOWS: Record<AvgPoolKind, string> = {
  avg: /* wgsl */ `
fn window_h(o: i32) -> vec2<i32> { let start = o * p.stride_h - p.pad_h; return vec2<i32>(start, start + p.kernel_h); }
fn window_w(o: i32) -> vec2<i32> { let start = o * p.stride_w - p.pad_w; return vec2<i32>(start, start + p.kernel_w); }
// ceil((i + pad − kernel + 1) / stride) .. floor((i + pad) / stride); a negative first is clamped to 0.
fn covering_h(i: i32) -> vec2<i32> { return vec2<i32>((i + p.pad_h - p.kernel_h + p.stride_h) / p.stride_h, (i + p.pad_h) / p.stride_h); }
fn covering_w(i: i32) -> vec2<i32> { return vec2<i32>((i + p.pad_w - p.kernel_w + p.stride_w) / p.stride_w, (i + p.pad_w) / p.stride_w); }`,
  adaptive_avg: /* wgsl */ `
fn adaptive(o: i32, n_in: i32, n_out: i32) -> vec2<i32> { return vec2<i32>(o * n_in / n_out, ((o + 1) * n_in + n_out - 1) / n_out); }
fn window_h(o: i32) -> vec2<i32> { return adaptive(o, i32(p.in_h), i32(p.out_h)); }
fn window_w(o: i32) -> vec2<i32> { return adaptive(o, i32(p.in_w), i32(p.out_w)); }
// floor(i·OH / H) .. ceil((i + 1)·OH / H) − 1
fn covering_h(i: i32) -> vec2<i32> { return adaptive(i, i32(p.out_h), i32(p.in_h)) - vec2<i32>(0, 1); }
fn covering_w(i: i32) -> vec2<i32> { return adaptive(i, i32(p.out_w), i32(p.in_w)) - vec2<i32>(0, 1); }`,
};

function forwardSource(kind: AvgPoolKind) {
  return {
    name: `pool.${kind}.forward`,
    code: /* wgsl */ `${POOL_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${WINDOWS[kind]}
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.planes * p.out_h * p.out_w) { return; }
  let plane = i / (p.out_h * p.out_w);
  let rows = window_h(i32((i / p.out_w) % p.out_h));
  let cols = window_w(i32(i % p.out_w));
  let x_plane = p.x_offset + plane * p.in_h * p.in_w;
  var sum = 0.0;
  for (var ih = max(rows.x, 0); ih < min(rows.y, i32(p.in_h)); ih++) {
    for (var iw = max(cols.x, 0); iw < min(cols.y, i32(p.in_w)); iw++) {
      sum += x[x_plane + u32(ih) * p.in_w + u32(iw)];
    }
  }
  y[p.y_offset + i] = sum / f32((rows.y - rows.x) * (cols.y - cols.x));
}`,
  };
}

function backwardSource(kind: AvgPoolKind) {
  return {
    name: `pool.${kind}.backward`,
    code: /* wgsl */ `${POOL_PARAMS}
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${WINDOWS[kind]}
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.planes * p.in_h * p.in_w) { return; }
  let plane = i / (p.in_h * p.in_w);
  let ih = i32((i / p.in_w) % p.in_h);
  let iw = i32(i % p.in_w);
  let oh_range = covering_h(ih);
  let ow_range = covering_w(iw);
  let y_plane = p.y_offset + plane * p.out_h * p.out_w;
  var sum = 0.0;
  for (var oh = max(oh_range.x, 0); oh <= min(oh_range.y, i32(p.out_h) - 1); oh++) {
    let rows = window_h(oh);
    if (ih < rows.x || ih >= rows.y) { continue; }
    for (var ow = max(ow_range.x, 0); ow <= min(ow_range.y, i32(p.out_w) - 1); ow++) {
      let cols = window_w(ow);
      if (iw < cols.x || iw >= cols.y) { continue; }
      sum += dy[y_plane + u32(oh) * p.out_w + u32(ow)] / f32((rows.y - rows.x) * (cols.y - cols.x));
    }
  }
  dx[p.x_offset + i] = sum;
}`,
  };
}

/** y [N, C, outH, outW] from x [N, C, H, W]. */
export function runAvgPoolForward(kind: AvgPoolKind, x: Tensor, sizes: PoolSizes, window: PoolWindow): Tensor {
  const [n, c] = x.shape as [number, number];
  const y = Tensor.empty(x.ctx, [n, c, sizes.outH, sizes.outW], 'float32');
  launchPool(forwardSource(kind), sizes, window, { input: { x }, output: { y } }, 'output');
  return y;
}

/** dx [N, C, H, W] from dy. */
export function runAvgPoolBackward(kind: AvgPoolKind, dy: Tensor, inShape: readonly number[], sizes: PoolSizes, window: PoolWindow): Tensor {
  const dx = Tensor.empty(dy.ctx, inShape, 'float32');
  launchPool(backwardSource(kind), sizes, window, { input: { dx }, output: { dy } }, 'input');
  return dx;
}
