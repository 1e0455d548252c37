import { Tensor } from '../autograd/tensor.js';
import { launchPool, poolSource, type PoolSizes, type PoolWindow } from './pool-common.js';
import { cached } from './cached-source.js';

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
fn window_h(o: i32) -> vec2<i32> { let start = o * STRIDE_H - PAD_H; return vec2<i32>(start, start + KERNEL_H); }
fn window_w(o: i32) -> vec2<i32> { let start = o * STRIDE_W - PAD_W; return vec2<i32>(start, start + KERNEL_W); }
// ceil((i + pad − kernel + 1) / stride) .. floor((i + pad) / stride); a negative first is clamped to 0.
fn covering_h(i: i32) -> vec2<i32> { return vec2<i32>((i + PAD_H - KERNEL_H + STRIDE_H) / STRIDE_H, (i + PAD_H) / STRIDE_H); }
fn covering_w(i: i32) -> vec2<i32> { return vec2<i32>((i + PAD_W - KERNEL_W + STRIDE_W) / STRIDE_W, (i + PAD_W) / STRIDE_W); }`,
  adaptive_avg: /* wgsl */ `
fn adaptive(o: i32, n_in: i32, n_out: i32) -> vec2<i32> { return vec2<i32>(o * n_in / n_out, ((o + 1) * n_in + n_out - 1) / n_out); }
fn window_h(o: i32) -> vec2<i32> { return adaptive(o, i32(p.in_h), i32(p.out_h)); }
fn window_w(o: i32) -> vec2<i32> { return adaptive(o, i32(p.in_w), i32(p.out_w)); }
// floor(i·OH / H) .. ceil((i + 1)·OH / H) − 1
fn covering_h(i: i32) -> vec2<i32> { return adaptive(i, i32(p.out_h), i32(p.in_h)) - vec2<i32>(0, 1); }
fn covering_w(i: i32) -> vec2<i32> { return adaptive(i, i32(p.out_w), i32(p.in_w)) - vec2<i32>(0, 1); }`,
};

/** `window`: the fixed window of `avg` (compiled in as constants); null for `adaptive_avg`. */
const forwardSource = cached(buildForwardSource);
function buildForwardSource(kind: AvgPoolKind, window: PoolWindow | null) {
  return poolSource(
    `pool.${kind}.forward`,
    window,
    /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;`,
    /* wgsl */ `${WINDOWS[kind]}
fn element(i: u32) {
  let row = i / p.out_w;  // plane · out_h + oh
  let rows = window_h(i32(row % p.out_h));
  let cols = window_w(i32(i % p.out_w));
  let x_plane = p.x_offset + (row / p.out_h) * p.in_h * p.in_w;
  var sum = 0.0;
  for (var ih = max(rows.x, 0); ih < min(rows.y, i32(p.in_h)); ih++) {
    for (var iw = max(cols.x, 0); iw < min(cols.y, i32(p.in_w)); iw++) {
      sum += x[x_plane + u32(ih) * p.in_w + u32(iw)];
    }
  }
  y[p.y_offset + i] = sum / f32((rows.y - rows.x) * (cols.y - cols.x));
}`,
    'out',
  );
}

const backwardSource = cached(buildBackwardSource);
function buildBackwardSource(kind: AvgPoolKind, window: PoolWindow | null) {
  return poolSource(
    `pool.${kind}.backward`,
    window,
    /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;`,
    /* wgsl */ `${WINDOWS[kind]}
fn element(i: u32) {
  let iw = i32(i % p.in_w);
  let row = i / p.in_w;  // plane · in_h + ih
  let ih = i32(row % p.in_h);
  let oh_range = covering_h(ih);
  let ow_range = covering_w(iw);
  let y_plane = p.y_offset + (row / p.in_h) * p.out_h * p.out_w;
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
    'in',
  );
}

/** y [N, C, outH, outW] from x [N, C, H, W]. */
export function runAvgPoolForward(kind: AvgPoolKind, x: Tensor, sizes: PoolSizes, window: PoolWindow | null): Tensor {
  const [n, c] = x.shape as [number, number];
  const y = Tensor.empty(x.ctx, [n, c, sizes.outH, sizes.outW], 'float32');
  launchPool(forwardSource(kind, window), sizes, { input: { x }, output: { y } }, 'out');
  return y;
}

/** dx [N, C, H, W] from dy. */
export function runAvgPoolBackward(kind: AvgPoolKind, dy: Tensor, inShape: readonly number[], sizes: PoolSizes, window: PoolWindow | null): Tensor {
  const dx = Tensor.empty(dy.ctx, inShape, 'float32');
  launchPool(backwardSource(kind, window), sizes, { input: { dx }, output: { dy } }, 'in');
  return dx;
}
