import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { groupsFor1d, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, gridStride, linearIndex } from './wgsl.js';
import { cached } from './cached-source.js';
import type { SlidingConv } from './conv2d-common.js';

// Winograd's F(2x2, 3x3) for the 3x3, stride-1 convolutions (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015), the algorithm cuDNN picks for most of VGG16's layers.
// Each 2x2 block of outputs ("tile") comes from a 4x4 patch d of the source and a 3x3 filter g:
//
//   y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// The 16 products of ⊙ replace the 36 multiply-adds of the direct convolution, and summed over
// the source channels they are 16 independent matrix products,
//
//   M[ξ][out][tile] = Σ_red U[ξ][out][red] · V[ξ][red][tile],   ξ = 0..15,
//
// which the engine runs as one grouped 1x1 convolution (16 groups) with its own GEMM kernels
// (conv2d-implicit-gemm.ts). This file holds the three transforms around it: the filters to U,
// the source to V, and M back to the output. 2.25x fewer multiplies, at the price of the
// transforms' memory traffic (V and M are 4x the source and the output) and of a different
// rounding: the results are not the direct kernels' bits.

/** Whether F(2x2, 3x3) computes this convolution: a 3x3 window, stride 1, no dilation, no upsampling, one group. */
export function winogradApplies(ctx: GpuContext, c: SlidingConv): boolean {
  const shape = c.kernelH === 3 && c.kernelW === 3 && c.strideH === 1 && c.strideW === 1 && c.dilationH === 1 && c.dilationW === 1;
  const dense = c.upH === 1 && c.upW === 1 && c.groups === 1;
  // V and M whole in one binding: the transforms do not cut batches into runs.
  const largest = 16 * c.images * Math.max(c.srcChannels, c.outChannels) * tilesOf(c).count * 4;
  return shape && dense && largest <= ctx.maxBindingBytes;
}

/** The output's 2x2 tiles: rows, columns, and how many per image. */
function tilesOf(c: SlidingConv): { h: number; w: number; count: number } {
  const h = Math.ceil(c.outH / 2);
  const w = Math.ceil(c.outW / 2);
  return { h, w, count: h * w };
}

/** The product in the transformed domain, as the grouped 1x1 convolution that computes it. */
export function winogradProduct(c: SlidingConv): SlidingConv {
  const tiles = tilesOf(c);
  return {
    images: c.images,
    srcChannels: 16 * c.redPerGroup, srcH: tiles.h, srcW: tiles.w,
    outChannels: 16 * c.outPerGroup, outH: tiles.h, outW: tiles.w,
    groups: 16, outPerGroup: c.outPerGroup, redPerGroup: c.redPerGroup,
    kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1,
    padH: 0, padW: 0, upH: 1, upW: 1, flip: false,
    wGroupStride: c.outPerGroup * c.redPerGroup, wOutStride: c.redPerGroup, wRedStride: 1,
  };
}

/**
 * WGSL: the entry point of the source and output transforms, one iteration per (image n,
 * channel ch, tile t), adjacent tiles on adjacent invocations. Needs p.images, p.channels,
 * p.tiles_h, p.tiles_w; the body follows and closes both braces.
 */
const EACH_TILE = /* wgsl */ `${linearIndex}
${gridStride}
${entry1d} {
  let tiles = p.tiles_h * p.tiles_w;
  for (var i = linear_index(wg, groups, local); i < p.images * p.channels * tiles; i += grid_stride(groups)) {
    let t = i % tiles;
    let ch = (i / tiles) % p.channels;
    let n = i / (tiles * p.channels);`;

/**
 * WGSL: the 1-D transform of 4 values by Bᵀ (the source's): [d0 − d2, d1 + d2, d2 − d1, d1 − d3].
 * Applied to the rows of a patch, then to its columns.
 */
const SOURCE_TRANSFORM = /* wgsl */ `
fn bt(d: array<f32, 4>) -> array<f32, 4> {
  return array(d[0] - d[2], d[1] + d[2], d[2] - d[1], d[1] - d[3]);
}`;

const filterSource = cached((flip: boolean) => ({
  name: 'conv2d.winograd.filters',
  code: /* wgsl */ `
// U[ξ][out][red] = (G g Gᵀ)[ξ] for every 3x3 filter g, read as the direct kernels read it
// (mirrored for the input gradient). G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
struct Params { outs: u32, reds: u32, w_out_stride: u32, w_red_stride: u32 }
@group(0) @binding(0) var<storage, read> weight: array<f32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearIndex}
${gridStride}
fn g3(v: array<f32, 3>) -> array<f32, 4> {
  return array(v[0], 0.5 * (v[0] + v[1] + v[2]), 0.5 * (v[0] - v[1] + v[2]), v[2]);
}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.outs * p.reds; i += grid_stride(groups)) {
    let out = i / p.reds;
    let red = i % p.reds;
    let at = out * p.w_out_stride + red * p.w_red_stride;
    var w: array<f32, 9>;
    for (var t = 0u; t < 9u; t++) { w[t] = weight[at + ${flip ? '8u - t' : 't'}]; }
    // G g: each column of g (a kw) to 4 rows.
    let c0 = g3(array(w[0], w[3], w[6]));
    let c1 = g3(array(w[1], w[4], w[7]));
    let c2 = g3(array(w[2], w[5], w[8]));
    // (G g) Gᵀ: each of those 4 rows to 4 columns.
    for (var a = 0u; a < 4u; a++) {
      let row = g3(array(c0[a], c1[a], c2[a]));
      for (var b = 0u; b < 4u; b++) { u[((4u * a + b) * p.outs + out) * p.reds + red] = row[b]; }
    }
  }
}`,
}));

/** U: the filters of `c` transformed, as the grouped 1x1 product's weight [16·out, red, 1, 1]. */
export function runWinogradFilters(c: SlidingConv, weight: Tensor): Tensor {
  const u = Tensor.empty(weight.ctx, [16 * c.outPerGroup, c.redPerGroup, 1, 1], 'float32', 'winograd.U');
  const pairs = c.outPerGroup * c.redPerGroup;
  launch(weight.ctx, filterSource(c.flip), {
    buffers: { weight, u },
    uniforms: { outs: c.outPerGroup, reds: c.redPerGroup, w_out_stride: c.wOutStride, w_red_stride: c.wRedStride },
    workgroups: groupsFor1d(weight.ctx, pairs, WORKGROUP_1D),
  });
  return u;
}

const inputSource = {
  name: 'conv2d.winograd.input',
  code: /* wgsl */ `
// V[n][ξ·C + c][tile] = (Bᵀ d B)[ξ] for the 4x4 patch d of the source at each tile (zero outside
// it: the padding). Adjacent invocations take adjacent tiles, so each of the 16 stores is one
// run of adjacent addresses.
struct Params { images: u32, channels: u32, src_h: u32, src_w: u32, tiles_h: u32, tiles_w: u32, pad_h: i32, pad_w: i32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${SOURCE_TRANSFORM}
${EACH_TILE}
    let y0 = i32(2u * (t / p.tiles_w)) - p.pad_h;
    let x0 = i32(2u * (t % p.tiles_w)) - p.pad_w;
    let plane = (n * p.channels + ch) * p.src_h * p.src_w;
    // Bᵀ d: the rows of the patch, combined.
    var rows: array<array<f32, 4>, 4>;
    for (var b = 0u; b < 4u; b++) {
      var column: array<f32, 4>;
      for (var a = 0u; a < 4u; a++) {
        let y = y0 + i32(a);
        let x = x0 + i32(b);
        let inside = y >= 0 && y < i32(p.src_h) && x >= 0 && x < i32(p.src_w);
        column[a] = select(0.0, src[plane + u32(clamp(y, 0, i32(p.src_h) - 1)) * p.src_w + u32(clamp(x, 0, i32(p.src_w) - 1))], inside);
      }
      let mixed = bt(column);
      for (var a = 0u; a < 4u; a++) { rows[a][b] = mixed[a]; }
    }
    // (Bᵀ d) B: each row's 4 values, combined the same way.
    for (var a = 0u; a < 4u; a++) {
      let row = bt(rows[a]);
      for (var b = 0u; b < 4u; b++) { v[((n * 16u + 4u * a + b) * p.channels + ch) * tiles + t] = row[b]; }
    }
  }
}`,
};

/** V: the source of `c` transformed, as the grouped 1x1 product's source [N, 16·red, tiles]. */
export function runWinogradInput(c: SlidingConv, src: Tensor): Tensor {
  const tiles = tilesOf(c);
  const v = Tensor.empty(src.ctx, [c.images, 16 * c.srcChannels, tiles.h, tiles.w], 'float32', 'winograd.V');
  launch(src.ctx, inputSource, {
    buffers: { src, v },
    uniforms: { images: c.images, channels: c.srcChannels, src_h: c.srcH, src_w: c.srcW, tiles_h: tiles.h, tiles_w: tiles.w, pad_h: c.padH, pad_w: c.padW },
    workgroups: groupsFor1d(src.ctx, c.images * c.srcChannels * tiles.count, WORKGROUP_1D),
  });
  return v;
}

const outputSource = cached((bias: boolean, relu: boolean) => {
  const value = `y[a][b]${bias ? ' + bias[ch]' : ''}`;
  return {
    name: `conv2d.winograd.output${relu ? '.relu' : ''}`,
    code: /* wgsl */ `
// The output's 2x2 tile = Aᵀ m A for the 16 products m of each tile (+ bias),
// Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]].
struct Params { images: u32, channels: u32, out_h: u32, out_w: u32, tiles_h: u32, tiles_w: u32 }
@group(0) @binding(0) var<storage, read> m: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
fn at(v: array<f32, 4>) -> array<f32, 2> {
  return array(v[0] + v[1] + v[2], v[1] - v[2] - v[3]);
}
${EACH_TILE}
    // Aᵀ m: the 4 rows of products to 2.
    var rows: array<array<f32, 4>, 2>;
    for (var b = 0u; b < 4u; b++) {
      let column = at(array(
        m[((n * 16u + b) * p.channels + ch) * tiles + t],
        m[((n * 16u + 4u + b) * p.channels + ch) * tiles + t],
        m[((n * 16u + 8u + b) * p.channels + ch) * tiles + t],
        m[((n * 16u + 12u + b) * p.channels + ch) * tiles + t]));
      rows[0][b] = column[0];
      rows[1][b] = column[1];
    }
    let y = array(at(rows[0]), at(rows[1]));
    let oh = 2u * (t / p.tiles_w);
    let ow = 2u * (t % p.tiles_w);
    let plane = (n * p.channels + ch) * p.out_h * p.out_w;
    for (var a = 0u; a < 2u; a++) {
      for (var b = 0u; b < 2u; b++) {
        if (oh + a < p.out_h && ow + b < p.out_w) { dst[plane + (oh + a) * p.out_w + ow + b] = ${relu ? `max(${value}, 0.0)` : value}; }
      }
    }
  }
}`,
  };
});

/** The output of `c` from the products M [N, 16·out, tiles] (+ bias, then ReLU if asked). */
export function runWinogradOutput(c: SlidingConv, m: Tensor, bias: Tensor | undefined, relu: boolean): Tensor {
  const tiles = tilesOf(c);
  const dst = Tensor.empty(m.ctx, [c.images, c.outChannels, c.outH, c.outW], 'float32');
  const buffers: Record<string, Tensor> = { m, dst };
  if (bias) buffers.bias = bias;
  launch(m.ctx, outputSource(bias !== undefined, relu), {
    buffers,
    uniforms: { images: c.images, channels: c.outChannels, out_h: c.outH, out_w: c.outW, tiles_h: tiles.h, tiles_w: tiles.w },
    workgroups: groupsFor1d(m.ctx, c.images * c.outChannels * tiles.count, WORKGROUP_1D),
  });
  return dst;
}
