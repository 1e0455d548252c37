import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { launch, type Binding } from './launch.js';
import { ShapeError } from '../runtime/errors.js';
import { batchSlices, fmaInto, forwardConv, inputGradConv, unroll, windowColumns, type Conv2dGeometry, type SlidingConv } from './conv2d-common.js';
import { cached } from './cached-source.js';
import { chooseConvAlgorithm, chooseConvTile, noteConvolution, tileName, type ConvAlgorithm, type ConvRole, type ConvTile } from './conv2d-tile.js';
import { allOf, ownedAcc, ownedIndex, paddedRowQuads, quadOuterProduct } from './wgsl.js';
import { CHANNEL_BLOCK, channelBlocks, reductionStep, runFilterMatrix } from './conv2d-filter-matrix.js';
import { enableSubgroups, sharedReads, sharingLanes, subgroupLaneParameter } from './subgroup-share.js';
import { runWinogradFilters, runWinogradInput, runWinogradOutput, winogradApplies, winogradProduct } from './conv2d-winograd.js';

/**
 * The convolution forward pass and its input gradient, as an implicit GEMM: output pixels ×
 * output channels, reducing over (source channel, kh, kw) of a group, with the source read
 * through the window on the fly (no im2col copy). Both passes are a `SlidingConv` (see
 * conv2d-common.ts): the input gradient is the transposed convolution of dy.
 *
 * Two kernels, chosen per adapter (see `chooseConvVariant`):
 *   blocked - for CPU adapters (lavapipe, SwiftShader), where each invocation is a SIMD lane and
 *             a load whose address differs between lanes is a gather. A lane computes PIX
 *             consecutive pixels of one output row for CO output channels. The PIX pixels'
 *             windows overlap, so a row of the window needs only PIX + KW − 1 source loads (for
 *             stride 1) instead of PIX·KW. The channels are fixed per workgroup, so every lane
 *             reads the same weights: they are staged in workgroup memory a chunk of source
 *             channels at a time (two barriers per chunk), where one vec4 load serves four
 *             channels. On lavapipe that made the kernel ~1.3x faster than reading the same
 *             (uniform) weights from the storage buffer, which costs about twice as much per
 *             load. No other barriers: they are expensive on a CPU. Where the adapter has one
 *             subgroup size, each lane reads a share of a step's weights and subgroup
 *             broadcasts hand them to the others (subgroup-share.ts).
 *   tiled   - for GPUs: a 64-channel × 64-pixel tile per workgroup of 16×16 invocations, each
 *             owning 4×4 outputs (8×8 with the 128×128 tile); every step stages a 64×16 slice of
 *             the filters and a 16×64 slice of the windowed source in workgroup memory, so each
 *             value is read from global memory once per workgroup instead of once per output.
 *             It walks the reduction in 16-channel blocks where it can and reads the filters as
 *             a dense matrix in that order (conv2d-filter-matrix.ts).
 */
export type ConvVariant = 'blocked' | 'tiled';

export function chooseConvVariant(ctx: GpuContext, conv: SlidingConv): ConvVariant {
  if (ctx.kernelTarget === 'cpu') return 'blocked';
  return conv.outPerGroup >= 32 && conv.images * conv.outH * conv.outW >= 256 ? 'tiled' : 'blocked';
}

/**
 * Lanes per workgroup of the blocked kernel: 64, or fewer when the layer has fewer lanes of work
 * (VGG16's last block at 64x64, batch 4, is 16 lanes: 4 images × 4 rows × one block of 4 pixels).
 * lavapipe runs a workgroup as one thread looping over 8-lane SIMD slices, so a 64-lane
 * workgroup with 16 lanes of work computed 48 clamped duplicates: those layers ran at a quarter
 * of the speed of the large ones. At least 8: one SIMD slice.
 */
function blockedLanes(c: SlidingConv): number {
  const work = c.images * c.outH * Math.ceil(c.outW / blocking(c).pix);
  return Math.min(64, Math.max(8, 2 ** Math.ceil(Math.log2(work))));
}

function params(variant: ConvVariant): string {
  return /* wgsl */ `
struct Params {
  images: u32,                       // images in this dispatch (large batches come in runs)
  src_channels: u32, src_h: u32, src_w: u32,
  out_channels: u32, out_h: u32, out_w: u32,
  out_per_group: u32, red_per_group: u32,
  pad_h: i32, pad_w: i32,
  src_offset: u32, out_offset: u32,  // where this run starts in the bound slices
  ${variant === 'blocked' ? `blocks_w: u32,                     // lanes per output row: ceil(out_w / PIX)
  w_group_stride: u32, w_out_stride: u32, w_red_stride: u32,  // the weight as stored (tiled reads the filter matrix)` : ''}
}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;`;
}

/** The window's shape as WGSL constants (each distinct shape is its own pipeline). */
function windowConstants(c: SlidingConv): string {
  return /* wgsl */ `
const KH = ${c.kernelH}u;
const KW = ${c.kernelW}u;
const STRIDE_H = ${c.strideH};
const STRIDE_W = ${c.strideW};
const DILATION_H = ${c.dilationH};
const DILATION_W = ${c.dilationW};
const UP_H = ${c.upH}u;
const UP_W = ${c.upW}u;

// Source row (column) of virtual row (column) v, or -1 where the virtual source is zero:
// padding outside the source${c.upH > 1 || c.upW > 1 ? ', or a hole between the pixels of an upsampled source' : ''}.
${sourceIndex('src_row', 'UP_H', c.upH, 'src_h')}
${sourceIndex('src_col', 'UP_W', c.upW, 'src_w')}`;
}

/**
 * WGSL of src_row or src_col. Without upsampling there is nothing to divide; with it, the division
 * is unsigned (v is read only where it is not negative). WGSL's signed division and remainder
 * come with guards against dividing by zero and overflowing, and with them SwiftShader took 28-30 s
 * to compile a tiled convolution that calls these eight times per step, against 0.8 s without
 * (bench/README.md, "Compiling the kernels").
 */
function sourceIndex(name: string, up: string, factor: number, extent: string): string {
  if (factor === 1) return `fn ${name}(v: i32) -> i32 {\n  return select(-1, v, ${allOf('v >= 0', `v < i32(p.${extent})`)});\n}`;
  return `fn ${name}(v: i32) -> i32 {
  let u = u32(v);
  return select(-1, i32(u / ${up}), ${allOf('v >= 0', `u % ${up} == 0u`, `u / ${up} < p.${extent}`)});
}`;
}

interface Blocking {
  pix: number;
  co: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Bytes of workgroup memory the blocked kernel stages weights in (WebGPU's default minimum). */
const WEIGHT_CACHE_BYTES = 16384;

/**
 * Source columns a lane loads per window row (windowColumns), at most: what VGG's 3x3 layers
 * load with 16 pixels (16 + 2). The kernel unrolls a load for each and keeps them all live across
 * the row's multiply-adds, and SwiftShader's shader compiler grows without bound past some number:
 * ResNet's 7x7 stride-2 first layer with 16 pixels (37 columns) and its 3x3 stride-2 layers at
 * 224x224 (33) took over 16 GiB and never finished compiling; 21 columns took 10-11 s, 13 took 2 s,
 * VGG's 18 take 3 s; in Chromium the 7x7 layer lost the device after 104 s. The price on
 * lavapipe: ResNet's first layer at 224x224, batch 4, 41-45 ms with 16 pixels, 62-75 ms with the 4
 * this allows (8 pixels, 21 columns: 43 ms, but 10-11 s to compile on SwiftShader); its 3x3
 * stride-2 layers, at 8 pixels instead of 16, ran as fast (23-28 ms against 23-24).
 */
const MAX_COLUMNS = 18;

/**
 * A lane's block: PIX pixels × CO channels, as large as the layer allows: within its row, within
 * the columns a lane may load (MAX_COLUMNS), and with one source channel's weights for the block
 * in the cache. Measured on lavapipe (VGG16's 3x3 layers): 8×16 and 16×8 about equal, 8×8 ~20%
 * slower, 8×4 or 4×8 ~50% slower. 16×16 against 8×16, once
 * the wait stopped taking a core from the kernels (VGG16's six layer shapes at 64x64 batch 4,
 * summed, alternated runs): SwiftShader 1.45-1.8x faster, forward and input gradient alike;
 * lavapipe forward 8-24% faster, input gradient -9% to +24%.
 */
function blocking(c: SlidingConv): Blocking {
  const sizes = [16, 8, 4, 2, 1];
  const taps = c.kernelH * c.kernelW;
  const pix = sizes.find((b) => b === 1 || (b <= c.outW && windowColumns(c, b).length <= MAX_COLUMNS))!;
  const co = sizes.find((b) => b <= c.outPerGroup && Math.ceil(b / 4) * 16 * taps <= WEIGHT_CACHE_BYTES);
  if (co === undefined) throw new ShapeError(`conv2d: a ${c.kernelH}x${c.kernelW} kernel is larger than the blocked kernel stages (${WEIGHT_CACHE_BYTES / 16} taps)`);
  return { pix, co };
}

/** What the kernel stores for a sum `value` (+ bias): itself, or ReLU of it (a fused `conv2dRelu`). */
const epilogue = (value: string, relu: boolean) => (relu ? `max(${value}, 0.0)` : value);

const blockedSource = cached(buildBlockedSource);
function buildBlockedSource(kernel: string, c: SlidingConv, bias: boolean, relu: boolean, sharing: number | null) {
  const { pix: PIX, co: CO } = blocking(c);
  const LANES = blockedLanes(c);
  const QUADS = Math.ceil(CO / 4); // the channel block as vec4s in the weight cache
  const taps = c.kernelH * c.kernelW;
  const CHUNK = Math.max(1, Math.floor(WEIGHT_CACHE_BYTES / (16 * QUADS * taps)));
  // Pixel j's tap kw reads virtual column v0 + j·STRIDE_W + kw·DILATION_W: collect the distinct
  // offsets, each loaded once per (row, channel) and shared by every (j, kw) that reads it.
  const offsets = windowColumns(c, PIX);
  const column = (j: number, kw: number) => offsets.indexOf(j * c.strideW + kw * c.dilationW);
  const weightOf = (o: number, kw: number) => `k${kw}_${Math.floor(o / 4)}[${o % 4}]`;
  const name = `${kernel}.blocked${relu ? '.relu' : ''}`;
  // The step's filters, [tap kw][quad q] from weights[taps + kw·QUADS + q], read by every lane alike.
  const filters = sharedReads({ lanes: sharing, count: c.kernelW * QUADS, read: (i) => `weights[taps + ${i}]`, prefix: 'shared_w', separator: ' ' });
  const code = /* wgsl */ `${enableSubgroups(sharing)}
${params('blocked')}
${bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${windowConstants(c)}
const PIX = ${PIX}u;       // output pixels per lane, consecutive in a row
const CO = ${CO}u;         // output channels per lane, the same for the whole workgroup
const QUADS = ${QUADS}u;    // CO rounded up to vec4s
const CHUNK = ${CHUNK}u;   // source channels whose weights are staged at a time

// The workgroup's weights for CHUNK source channels, as [channel][tap][CO / 4] vec4s: the
// channel block's weights for one tap are one or two vec4 loads, and workgroup memory is
// cheaper to read than a storage buffer on CPU adapters.
var<workgroup> weights: array<vec4<f32>, ${CHUNK * taps * QUADS}>;

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32${subgroupLaneParameter(sharing)}) {
  // Lane -> (image n, output row oh, first column ow0). Lanes past the end compute a clamped
  // duplicate (their loads stay in bounds) and store nothing.
  let lanes = p.images * p.out_h * p.blocks_w;
  let lane = wg.x * ${LANES}u + local;
  let l = min(lane, lanes - 1u);
  let n = l / (p.out_h * p.blocks_w);
  let oh = (l / p.blocks_w) % p.out_h;
  let ow0 = (l % p.blocks_w) * PIX;
  // Workgroup -> group g and its output channels co0 .. co0 + CO - 1.
  let g = wg.z;
  let co0 = wg.y * CO;

  let src_plane = p.src_h * p.src_w;
  let src_image = p.src_offset + (n * p.src_channels + g * p.red_per_group) * src_plane;
  // The source columns under this lane's windows (-1: zero), fixed for the whole reduction.
  let v0 = i32(ow0) * STRIDE_W - p.pad_w;
  ${unroll(offsets.length, (i) => `let col${i} = src_col(v0 + ${offsets[i]});`, '\n  ')}

  ${unroll(CO, (o) => unroll(PIX, (j) => `var acc${o}_${j} = 0.0;`, ' '), '\n  ')}
  for (var c0 = 0u; c0 < p.red_per_group; c0 += CHUNK) {
    let chunk = min(CHUNK, p.red_per_group - c0);
    // Stage the chunk's weights; element e = ((ci · KH·KW + tap) · QUADS·4 + o). Channels past
    // the block's end are zero.
    workgroupBarrier();
    for (var e = local; e < chunk * KH * KW * QUADS * 4u; e += ${LANES}u) {
      let o = e % (QUADS * 4u);
      let tap = (e / (QUADS * 4u)) % (KH * KW);
      let ci = e / (QUADS * 4u * KH * KW);
      let co = min(co0 + o, p.out_per_group - 1u);
      let w_tap = ${c.flip ? 'KH * KW - 1u - tap' : 'tap'};
      let w = weight[g * p.w_group_stride + co * p.w_out_stride + (c0 + ci) * p.w_red_stride + w_tap];
      weights[e / 4u][e % 4u] = select(0.0, w, co0 + o < p.out_per_group);
    }
    workgroupBarrier();

    for (var kh = 0u; kh < KH; kh++) {
      let row = src_row(i32(oh) * STRIDE_H + i32(kh) * DILATION_H - p.pad_h);
      let row_start = src_image + u32(max(row, 0)) * p.src_w;
      ${unroll(offsets.length, (i) => `let ok${i} = ${allOf('row >= 0', `col${i} >= 0`)}; let at${i} = row_start + u32(max(col${i}, 0));`, '\n      ')}
      for (var ci = 0u; ci < chunk; ci++) {
        let plane = (c0 + ci) * src_plane;
        ${unroll(offsets.length, (i) => `let x${i} = select(0.0, src[at${i} + plane], ok${i});`, '\n        ')}
        let taps = (ci * KH * KW + kh * KW) * QUADS;
        ${filters.loads}
        ${unroll(c.kernelW, (kw) => unroll(QUADS, (q) => `let k${kw}_${q} = ${filters.value(kw * QUADS + q)};`, ' '), '\n        ')}
        ${unroll(CO, (o) => unroll(PIX, (j) => fmaInto(`acc${o}_${j}`, range(c.kernelW).map((kw) => [weightOf(o, kw), `x${column(j, kw)}`])), '\n        '), '\n        ')}
      }
    }
  }

  if (lane >= lanes) { return; }
  ${unroll(CO, (o) => `if (co0 + ${o}u < p.out_per_group) {
    let channel = g * p.out_per_group + co0 + ${o}u;
    let out = p.out_offset + ((n * p.out_channels + channel) * p.out_h + oh) * p.out_w + ow0;
    ${unroll(PIX, (j) => `if (ow0 + ${j}u < p.out_w) { dst[out + ${j}u] = ${epilogue(`acc${o}_${j}${bias ? ' + bias[channel]' : ''}`, relu)}; }`, '\n    ')}
  }`, '\n  ')}
}`;
  return { source: { name, code }, outputsPerGroup: [LANES * PIX, CO] as const };
}

/**
 * WGSL: fetches the values this invocation stages for the step starting at reduction index `r0`
 * into registers: its filter values into `w_next` (step my_k of the channels my_channel + (256 /
 * depth)·i) and its source values into `x_next` (pixel my_column at rows k_first + (256 / TP)·j).
 * In channel blocks (conv2d-filter-matrix.ts) each run of 16 rows is one tap: its place in the
 * window is worked out once, then the rows are loads a source plane apart.
 */
function fetchStep(r0: string, tile: ConvTile, blocks: boolean): string {
  const rowsApart = 256 / tile.pixels;
  const filters = unroll((tile.channels * tile.depth) / 256, (i) => {
    const channel = `my_channel + ${i * (256 / tile.depth)}u`;
    return `w_next[${i}] = select(0.0, weight[group_filters + min(${channel}, p.out_per_group - 1u) * reduction + min(r, reduction - 1u)], ${allOf(`${channel} < p.out_per_group`, 'r < reduction')});`;
  }, '\n    ');
  const source = blocks
    ? unroll(tile.depth / CHANNEL_BLOCK, (h) => /* wgsl */ `{
      // Rows ${h * CHANNEL_BLOCK}..${(h + 1) * CHANNEL_BLOCK - 1}: one (channel block, tap) pair.
      let pair = min(${r0} / ${CHANNEL_BLOCK}u + ${h}u, pairs - 1u);
      let tap = pair % TAPS;
      let row = src_row(p_oh * STRIDE_H + i32(tap / KW) * DILATION_H - p.pad_h);
      let col = src_col(p_ow * STRIDE_W + i32(tap % KW) * DILATION_W - p.pad_w);
      let ok = ${allOf(`${r0} + ${h * CHANNEL_BLOCK}u < reduction`, 'row >= 0', 'col >= 0')};
      let at = src_image + ((pair / TAPS) * ${CHANNEL_BLOCK}u + k_first) * src_plane + u32(max(row, 0)) * p.src_w + u32(max(col, 0));
      ${unroll(CHANNEL_BLOCK / rowsApart, (j) => `x_next[${h * (CHANNEL_BLOCK / rowsApart) + j}] = select(0.0, src[at + ${rowsApart * j}u * src_plane], ok);`, '\n      ')}
    }`, '\n    ')
    : unroll(tile.depth / rowsApart, (j) => /* wgsl */ `{
      let rx = ${r0} + k_first + ${rowsApart * j}u;
      let step = reduction_step(min(rx, reduction - 1u));
      let row = src_row(p_oh * STRIDE_H + i32(step.y / KW) * DILATION_H - p.pad_h);
      let col = src_col(p_ow * STRIDE_W + i32(step.y % KW) * DILATION_W - p.pad_w);
      let ok = ${allOf('rx < reduction', 'row >= 0', 'col >= 0')};
      x_next[${j}] = select(0.0, src[src_image + step.x * src_plane + u32(max(row, 0)) * p.src_w + u32(max(col, 0))], ok);
    }`, '\n    ');
  return /* wgsl */ `{
    let r = ${r0} + my_k;
    ${filters}
    ${source}
  }`;
}

/** WGSL: stores the fetched step into workgroup memory, the filters transposed ([k][channel]). */
function storeStep(tile: ConvTile): string {
  const rowsApart = 256 / tile.pixels;
  return [
    ...Array.from({ length: (tile.channels * tile.depth) / 256 }, (_, i) =>
      `{ let slot = my_k * W_ROW * 4u + flat / ${tile.depth}u + ${i * (256 / tile.depth)}u; tile_w[slot / 4u][slot % 4u] = w_next[${i}]; }`),
    ...Array.from({ length: tile.depth / rowsApart }, (_, j) =>
      `{ let slot = (k_first + ${rowsApart * j}u) * ${tile.pixels}u + my_column; tile_x[slot / 4u][slot % 4u] = x_next[${j}]; }`),
  ].join('\n    ');
}

const tiledSource = cached(buildTiledSource);
function buildTiledSource(kernel: string, c: SlidingConv, bias: boolean, tile: ConvTile, relu: boolean, blocks: boolean) {
  const TC = tile.channels;
  const TP = tile.pixels;
  const TILE_K = tile.depth;
  const CQ = TC / 64; // channel vec4s per invocation (its TC / 16 channels)
  const PQ = TP / 64; // pixel vec4s per invocation
  const W_ROW = paddedRowQuads(TC);
  const name = `${kernel}.tiled${tileName(tile)}${relu ? '.relu' : ''}`;
  const code = /* wgsl */ `${params('tiled')}
${bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
${windowConstants(c)}
${reductionStep(blocks)}

// Row k of both operands of the tile's product, as vec4s: [k][channel / 4] and [k][pixel / 4].
// Invocation (x, y) owns the channel quads y + 16·i and the pixel quads x + 16·j (ownedIndex in
// wgsl.ts). The filters are read along k (adjacent addresses of a filter), so the rows of their
// tile have one vec4 of padding (paddedRowQuads in wgsl.ts).
const W_ROW = ${W_ROW}u;
var<workgroup> tile_w: array<vec4<f32>, ${TILE_K * W_ROW}>;
var<workgroup> tile_x: array<vec4<f32>, ${(TILE_K * TP) / 4}>;

// 'weight' is the filter matrix [group][out channel][r], r in reduction_step's order
// (conv2d-filter-matrix.ts).
@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let g = wg.z;
  let tile_c = wg.y * ${TC}u;
  let tile_p = wg.x * ${TP}u;
  let out_plane = p.out_h * p.out_w;
  let pixels = p.images * out_plane;
  let reduction = p.red_per_group * TAPS;
  let pairs = reduction / ${CHANNEL_BLOCK}u;
  let src_plane = p.src_h * p.src_w;

  // Every invocation stages the same pixel column (flat % TP) at each step: its window origin is
  // worked out once.
  let my_column = flat % ${TP}u;
  let my_pixel = min(tile_p + my_column, pixels - 1u);
  let p_n = my_pixel / out_plane;
  let p_oh = i32((my_pixel % out_plane) / p.out_w);
  let p_ow = i32(my_pixel % p.out_w);
  let src_image = p.src_offset + (p_n * p.src_channels + g * p.red_per_group) * src_plane;
  // ...and the same step k of the filters (flat % TILE_K), for channels ${256 / TILE_K} apart.
  let my_k = flat % ${TILE_K}u;
  let my_channel = tile_c + flat / ${TILE_K}u;
  let k_first = flat / ${TP}u;  // its first source row; the others are ${256 / TP} apart
  let group_filters = g * p.out_per_group * reduction;

  var acc: array<vec4<f32>, ${(TC / 16) * PQ}>;  // [channel 4·i + lane][pixel quad j] of this invocation
  // The values this invocation stages for the next step, fetched from global memory a step ahead:
  // their latency passes while the step before runs its multiply-adds.
  var w_next: array<f32, ${(TC * TILE_K) / 256}>;
  var x_next: array<f32, ${(TILE_K * TP) / 256}>;
  ${fetchStep('0u', tile, blocks)}
  for (var r0 = 0u; r0 < reduction; r0 += ${TILE_K}u) {
    ${storeStep(tile)}
    workgroupBarrier();
    if (r0 + ${TILE_K}u < reduction) ${fetchStep(`(r0 + ${TILE_K}u)`, tile, blocks)}
    for (var k = 0u; k < ${TILE_K}u; k++) {
      ${quadOuterProduct({ tile: 'tile_w', row: 'W_ROW', quads: CQ }, { tile: 'tile_x', row: `${TP / 4}u`, quads: PQ })}
    }
    workgroupBarrier();
  }

  // Unrolled: indices into acc stay constants, so it lives in registers.
  ${unroll(TP / 16, (q) => `{
    let pixel = tile_p + ${ownedIndex('x', q)};
    let n = pixel / out_plane;
    let out = p.out_offset + n * p.out_channels * out_plane + pixel % out_plane;
    ${unroll(TC / 16, (o) => `{
      let co = tile_c + ${ownedIndex('y', o)};
      if (pixel < pixels && co < p.out_per_group) {
        let channel = g * p.out_per_group + co;
        dst[out + channel * out_plane] = ${epilogue(`${ownedAcc(o, q, PQ)}${bias ? ' + bias[channel]' : ''}`, relu)};
      }
    }`, '\n    ')}
  }`, '\n  ')}
}`;
  return { source: { name, code }, outputsPerGroup: [TP, TC] as const };
}

/** Runs one SlidingConv: dst[images, outChannels, outH, outW] from src and weight (+ bias). */
function runSlidingConv(role: ConvRole, c: SlidingConv, src: Tensor, weight: Tensor, bias: Tensor | undefined, options: ConvKernelOptions): Tensor {
  const ctx = src.ctx;
  const dst = Tensor.empty(ctx, [c.images, c.outChannels, c.outH, c.outW], 'float32');
  const variant = options.variant ?? chooseConvVariant(ctx, c);
  const relu = options.relu ?? false;
  const tile = variant === 'tiled' ? (options.tile ?? chooseConvTile(ctx, role, c)) : null;
  const blocks = channelBlocks(ctx, c);
  // The kernel's name: conv2d.forward.tiled64x64x16, or conv2d.forward.winograd.… for Winograd's product.
  const named = `conv2d.${role}${options.winogradProduct ? '.winograd' : ''}`;
  const kernel = tile ? tiledSource(named, c, bias !== undefined, tile, relu, blocks) : blockedSource(named, c, bias !== undefined, relu, sharingLanes(ctx));
  const filters = tile ? runFilterMatrix(c, weight, blocks) : weight;
  const blocksW = Math.ceil(c.outW / blocking(c).pix);
  // Pixels of one image, in units of the dispatch's x dimension, bound the images per dispatch.
  const lanes = blockedLanes(c);
  const perImageX = tile ? (c.outH * c.outW) / tile.pixels : (c.outH * blocksW) / lanes;
  const maxImages = Math.max(1, Math.floor(ctx.limits.maxComputeWorkgroupsPerDimension / Math.max(perImageX, 1e-9)) - 1);
  for (const slice of batchSlices(ctx, `conv2d ${role.replace('_', ' ')}`, [src, dst], c.images, maxImages)) {
    const [srcBinding, dstBinding] = slice.bindings as [Binding, Binding];
    const buffers: Record<string, Binding> = { src: srcBinding, weight: filters, dst: dstBinding };
    if (bias) buffers.bias = bias;
    const uniforms: Record<string, number> = {
      images: slice.images,
      src_channels: c.srcChannels, src_h: c.srcH, src_w: c.srcW,
      out_channels: c.outChannels, out_h: c.outH, out_w: c.outW,
      out_per_group: c.outPerGroup, red_per_group: c.redPerGroup,
      pad_h: c.padH, pad_w: c.padW,
      src_offset: slice.offsets[0]!, out_offset: slice.offsets[1]!,
    };
    const [perX, perY] = kernel.outputsPerGroup;
    let groupsX: number;
    if (variant === 'blocked') {
      Object.assign(uniforms, { blocks_w: blocksW, w_group_stride: c.wGroupStride, w_out_stride: c.wOutStride, w_red_stride: c.wRedStride });
      groupsX = Math.ceil((slice.images * c.outH * blocksW) / lanes);
    } else {
      groupsX = Math.ceil((slice.images * c.outH * c.outW) / perX);
    }
    // Runs are cut to keep this within one dispatch dimension; only a single huge image is not.
    if (groupsX > ctx.limits.maxComputeWorkgroupsPerDimension) {
      throw new ShapeError(`conv2d ${role.replace('_', ' ')}: one ${c.outH}x${c.outW} output image needs ${groupsX} workgroups, more than one dispatch allows`);
    }
    // Every output sums red_per_group · KH · KW products (an upsampled source's holes included).
    const flops = 2 * slice.images * c.outH * c.outW * c.outChannels * c.redPerGroup * c.kernelH * c.kernelW;
    launch(ctx, kernel.source, { buffers, uniforms, workgroups: [groupsX, Math.ceil(c.outPerGroup / perY), c.groups], flops });
  }
  if (filters !== weight) filters.dispose();
  return dst;
}

export interface ConvKernelOptions {
  /** Direct (the implicit GEMM) or Winograd's F(2x2, 3x3); default: the layer's (chooseConvAlgorithm in conv2d-tile.ts). */
  algorithm?: ConvAlgorithm;
  /** The kernel family; default: the adapter's (chooseConvVariant). For Winograd, of its product. */
  variant?: ConvVariant;
  /** The tiled variant's tile; default: the layer's (conv2d-tile.ts). The tuner forces each candidate. */
  tile?: ConvTile;
  /** Store ReLU of each output instead (the forward of a fused conv2d + ReLU). */
  relu?: boolean;
  /** This is Winograd's grouped 1x1 product (its kernels are named conv2d.<role>.winograd.…). */
  winogradProduct?: boolean;
}


function runConvolution(role: ConvRole, c: SlidingConv, src: Tensor, weight: Tensor, bias: Tensor | undefined, options: ConvKernelOptions): Tensor {
  const algorithm = options.algorithm ?? chooseConvAlgorithm(src.ctx, role, c);
  if (algorithm === 'winograd' && winogradApplies(src.ctx, c)) return runWinograd(role, c, src, weight, bias, options);
  return runSlidingConv(role, c, src, weight, bias, options);
}

/** Winograd's F(2x2, 3x3): transform the filters and the source, multiply, transform back. */
function runWinograd(role: ConvRole, c: SlidingConv, src: Tensor, weight: Tensor, bias: Tensor | undefined, options: ConvKernelOptions): Tensor {
  const u = runWinogradFilters(c, weight);
  const v = runWinogradInput(c, src);
  const m = runSlidingConv(role, winogradProduct(c), v, u, undefined, { variant: options.variant, tile: options.tile, winogradProduct: true });
  u.dispose();
  v.dispose();
  const y = runWinogradOutput(c, m, bias, options.relu ?? false);
  m.dispose();
  return y;
}

/** y = conv2d(x, weight) + bias, NCHW / OIHW. */
export function runConv2dForward(x: Tensor, weight: Tensor, bias: Tensor | undefined, g: Conv2dGeometry, options: ConvKernelOptions = {}): Tensor {
  noteConvolution(x.ctx, g);
  return runConvolution('forward', forwardConv(g), x, weight, bias, options);
}

/** dx from dy: the transposed convolution of dy with the same weight. */
export function runConv2dInputGrad(dy: Tensor, weight: Tensor, g: Conv2dGeometry, options: Omit<ConvKernelOptions, 'relu'> = {}): Tensor {
  return runConvolution('input_grad', inputGradConv(g), dy, weight, undefined, options);
}
