import { Tensor } from '../autograd/tensor.js';
import { entry1d, linearIndex } from './wgsl.js';
import { POOL_PARAMS, launchPool, type PoolSizes, type PoolWindow } from './pool-common.js';

/**
 * Max pooling. The forward pass also records, when backward will need it, where each maximum
 * came from: its index h·W + w within the plane, as PyTorch's `return_indices` does. The first
 * maximum in window order wins a tie, and a NaN propagates.
 *
 * Backward gathers instead of scattering (WGSL has no float atomics): one invocation per input
 * element adds dy of every window that covers it and took its maximum from it. With stride ≥
 * kernel that is at most one window; overlapping windows are handled the same way.
 */
function forwardSource(withIndices: boolean) {
  return {
    name: withIndices ? 'pool.max.forward_indices' : 'pool.max.forward',
    code: /* wgsl */ `${POOL_PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
${withIndices ? '@group(0) @binding(2) var<storage, read_write> indices: array<i32>;' : ''}
@group(0) @binding(3) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.planes * p.out_h * p.out_w) { return; }
  let plane = i / (p.out_h * p.out_w);
  let oh = i32((i / p.out_w) % p.out_h);
  let ow = i32(i % p.out_w);
  let x_plane = p.x_offset + plane * p.in_h * p.in_w;
  var best = 0.0;
  var best_at = -1;  // the first valid element is taken whatever its value (padding never wins)
  for (var kh = 0; kh < p.kernel_h; kh++) {
    let ih = oh * p.stride_h - p.pad_h + kh;
    if (ih < 0 || ih >= i32(p.in_h)) { continue; }
    for (var kw = 0; kw < p.kernel_w; kw++) {
      let iw = ow * p.stride_w - p.pad_w + kw;
      if (iw < 0 || iw >= i32(p.in_w)) { continue; }
      let at = ih * i32(p.in_w) + iw;
      let v = x[x_plane + u32(at)];
      if (best_at < 0 || v > best || v != v) { best = v; best_at = at; }
    }
  }
  y[p.y_offset + i] = best;
  ${withIndices ? 'indices[p.y_offset + i] = best_at;' : ''}
}`,
  };
}

const backwardSource = {
  name: 'pool.max.backward',
  code: /* wgsl */ `${POOL_PARAMS}
@group(0) @binding(0) var<storage, read_write> dx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.planes * p.in_h * p.in_w) { return; }
  let plane = i / (p.in_h * p.in_w);
  let ih = i32((i / p.in_w) % p.in_h);
  let iw = i32(i % p.in_w);
  let here = ih * i32(p.in_w) + iw;
  // Windows covering row ih: oh·stride − pad ≤ ih ≤ oh·stride − pad + kernel − 1.
  let oh_first = max(0, (ih + p.pad_h - p.kernel_h + p.stride_h) / p.stride_h);
  let oh_last = min(i32(p.out_h) - 1, (ih + p.pad_h) / p.stride_h);
  let ow_first = max(0, (iw + p.pad_w - p.kernel_w + p.stride_w) / p.stride_w);
  let ow_last = min(i32(p.out_w) - 1, (iw + p.pad_w) / p.stride_w);
  let y_plane = p.y_offset + plane * p.out_h * p.out_w;
  var sum = 0.0;
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = y_plane + u32(oh) * p.out_w + u32(ow);
      if (indices[o] == here) { sum += dy[o]; }
    }
  }
  dx[p.x_offset + i] = sum;
}`,
};

/** y (and the argmax indices when `withIndices`) from x [N, C, H, W]. */
export function runMaxPoolForward(x: Tensor, sizes: PoolSizes, window: PoolWindow, withIndices: boolean): { y: Tensor; indices: Tensor | null } {
  const [n, c] = x.shape as [number, number];
  const y = Tensor.empty(x.ctx, [n, c, sizes.outH, sizes.outW], 'float32');
  const indices = withIndices ? Tensor.empty(x.ctx, y.shape, 'int32') : null;
  const output: Record<string, Tensor> = indices ? { y, indices } : { y };
  launchPool(forwardSource(withIndices), sizes, window, { input: { x }, output }, 'output');
  return { y, indices };
}

/** dx [N, C, H, W] from dy and the forward's indices. */
export function runMaxPoolBackward(dy: Tensor, indices: Tensor, inShape: readonly number[], sizes: PoolSizes, window: PoolWindow): Tensor {
  const dx = Tensor.empty(dy.ctx, inShape, 'float32');
  launchPool(backwardSource, sizes, window, { input: { dx }, output: { dy, indices } }, 'input');
  return dx;
}
