import { Tensor } from '../autograd/tensor.js';
import { launchPool, poolSource, type PoolSizes, type PoolWindow } from './pool-common.js';
import { cached } from './cached-source.js';

/**
 * Max pooling. The forward pass also records, when backward will need it, where each maximum
 * came from: its index h·W + w within the plane, as PyTorch's `return_indices` does. As in
 * PyTorch, the first maximum in window order wins a tie and a NaN propagates.
 *
 * Backward gathers instead of scattering (WGSL has no float atomics): each input element adds
 * dy of every window that covers it and took its maximum from it. With stride ≥ kernel that is
 * at most one window; overlapping windows are handled the same way.
 *
 * Where the windows tile the input exactly (stride = kernel, no padding, no rows or columns left
 * over: VGG's 2x2 pools on even sizes), every input element lies in exactly one window, so
 * backward goes by window instead: each invocation writes its window's inputs, dy where the
 * maximum came from and 0 elsewhere. No search for covering windows, and the window's loops
 * unroll; the same values as the gather (one term or none per element).
 */
const forwardSource = cached(buildForwardSource);
function buildForwardSource(window: PoolWindow, withIndices: boolean) {
  return poolSource(
    withIndices ? 'pool.max.forward_indices' : 'pool.max.forward',
    window,
    /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${withIndices ? '@group(0) @binding(2) var<storage, read_write> indices: array<i32>;' : ''}`,
    /* wgsl */ `
fn element(i: u32) {
  let ow = i32(i % p.out_w);
  let row = i / p.out_w;  // plane · out_h + oh
  let oh = i32(row % p.out_h);
  let x_plane = p.x_offset + (row / p.out_h) * p.in_h * p.in_w;
  // As PyTorch: start at the window's first element inside the input, then take every larger
  // value (or NaN). Selects instead of branches: lanes stay in step.
  var best_at = max(oh * STRIDE_H - PAD_H, 0) * i32(p.in_w) + max(ow * STRIDE_W - PAD_W, 0);
  var best = x[x_plane + u32(best_at)];
  for (var kh = 0; kh < KERNEL_H; kh++) {
    let ih = oh * STRIDE_H - PAD_H + kh;
    for (var kw = 0; kw < KERNEL_W; kw++) {
      let iw = ow * STRIDE_W - PAD_W + kw;
      // Without padding every window lies inside the input (floor mode): the test folds away.
      let inside = (PAD_H == 0 || (ih >= 0 && ih < i32(p.in_h))) && (PAD_W == 0 || (iw >= 0 && iw < i32(p.in_w)));
      let at = select(0, ih * i32(p.in_w) + iw, inside);
      let v = x[x_plane + u32(at)];
      let take = inside && (v > best || v != v);
      best = select(best, v, take);
      best_at = select(best_at, at, take);
    }
  }
  y[p.y_offset + i] = best;
  ${withIndices ? 'indices[p.y_offset + i] = best_at;' : ''}
}`,
    'out',
  );
}

/** Both backward kernels: dx from dy and the forward's argmax indices. */
const BACKWARD_BINDINGS = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;`;

/**
 * One element of dx per invocation: the sum of dy over the windows that cover it and took their
 * maximum from it.
 */
const GATHER = /* wgsl */ `
fn element(i: u32) {
  let iw = i32(i % p.in_w);
  let row = i / p.in_w;  // plane · in_h + ih
  let ih = i32(row % p.in_h);
  let here = ih * i32(p.in_w) + iw;
  // Windows covering row ih: oh·stride − pad ≤ ih ≤ oh·stride − pad + kernel − 1, i.e.
  // ceil((ih + pad − kernel + 1) / stride) ≤ oh ≤ floor((ih + pad) / stride); a negative
  // numerator truncates toward zero, and the first is clamped to 0 anyway.
  let oh_first = max(0, (ih + PAD_H - KERNEL_H + STRIDE_H) / STRIDE_H);
  let oh_last = min(i32(p.out_h) - 1, (ih + PAD_H) / STRIDE_H);
  let ow_first = max(0, (iw + PAD_W - KERNEL_W + STRIDE_W) / STRIDE_W);
  let ow_last = min(i32(p.out_w) - 1, (iw + PAD_W) / STRIDE_W);
  let y_plane = p.y_offset + (row / p.in_h) * p.out_h * p.out_w;
  var sum = 0.0;
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = y_plane + u32(oh) * p.out_w + u32(ow);
      if (indices[o] == here) { sum += dy[o]; }
    }
  }
  dx[p.x_offset + i] = sum;
}`;

/** One window per invocation (the windows tile the input): dy at its argmax, 0 at its other inputs. */
const BY_WINDOW = /* wgsl */ `
fn element(i: u32) {
  let ow = i32(i % p.out_w);
  let row = i / p.out_w;  // plane · out_h + oh
  let oh = i32(row % p.out_h);
  let x_plane = p.x_offset + (row / p.out_h) * p.in_h * p.in_w;
  let argmax = indices[p.y_offset + i];
  let g = dy[p.y_offset + i];
  for (var kh = 0; kh < KERNEL_H; kh++) {
    for (var kw = 0; kw < KERNEL_W; kw++) {
      let at = (oh * STRIDE_H + kh) * i32(p.in_w) + ow * STRIDE_W + kw;
      dx[x_plane + u32(at)] = select(0.0, g, at == argmax);
    }
  }
}`;

const backwardSource = cached(buildBackwardSource);
function buildBackwardSource(window: PoolWindow, byWindow: boolean) {
  return byWindow
    ? poolSource('pool.max.backward.tiled', window, BACKWARD_BINDINGS, BY_WINDOW, 'out')
    : poolSource('pool.max.backward', window, BACKWARD_BINDINGS, GATHER, 'in');
}

/** Do the windows cover every input element exactly once (see the file's comment)? */
function tilesInput(sizes: PoolSizes, window: PoolWindow): boolean {
  const [kh, kw] = window.kernel;
  const [sh, sw] = window.stride;
  const [ph, pw] = window.padding;
  return sh === kh && sw === kw && ph === 0 && pw === 0 && sizes.outH * kh === sizes.inH && sizes.outW * kw === sizes.inW;
}

/** y (and the argmax indices when `withIndices`) from x [N, C, H, W]. */
export function runMaxPoolForward(x: Tensor, sizes: PoolSizes, window: PoolWindow, withIndices: boolean): { y: Tensor; indices: Tensor | null } {
  const [n, c] = x.shape as [number, number];
  const y = Tensor.empty(x.ctx, [n, c, sizes.outH, sizes.outW], 'float32');
  const indices = withIndices ? Tensor.empty(x.ctx, y.shape, 'int32') : null;
  const output: Record<string, Tensor> = indices ? { y, indices } : { y };
  launchPool(forwardSource(window, withIndices), sizes, { input: { x }, output }, 'out');
  return { y, indices };
}

/** dx [N, C, H, W] from dy and the forward's indices. */
export function runMaxPoolBackward(dy: Tensor, indices: Tensor, inShape: readonly number[], sizes: PoolSizes, window: PoolWindow): Tensor {
  const dx = Tensor.empty(dy.ctx, inShape, 'float32');
  const byWindow = tilesInput(sizes, window);
  launchPool(backwardSource(window, byWindow), sizes, { input: { dx }, output: { dy, indices } }, byWindow ? 'out' : 'in');
  return dx;
}
