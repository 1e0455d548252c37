import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { launch, type Binding } from './launch.js';
import { runReduce } from './reduce.js';
import { ShapeError } from '../runtime/errors.js';
import { batchSlices, fmaInto, unroll, windowColumns, type Conv2dGeometry } from './conv2d-common.js';
import { allOf, ownedAcc, ownedIndex, paddedRowQuads, quadOuterProduct } from './wgsl.js';
import { cached } from './cached-source.js';
import { enableSubgroups, sharedReads, sharingLanes, subgroupLaneParameter } from './subgroup-share.js';
import { chooseWeightGradTile, weightGradTileName, type WeightGradTile } from './conv2d-tile.js';

/**
 * The weight gradient of conv2d, an implicit GEMM reducing over every output pixel:
 *
 *   dw[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw]
 *
 * A lane owns one source channel ci of a group and R of its window rows (all KH for a 3x3 window)
 * and accumulates CO output channels × R·KW taps. The x rows a lane reads are its own, and PIX
 * consecutive output pixels share their overlapping window columns (PIX + KW − 1 loads per row
 * for stride 1, not PIX·KW). The output
 * channels are fixed per workgroup and the lanes walk the same output pixels in step, so all
 * lanes read the same dy values: rows of them are staged in workgroup memory (two barriers per
 * stage of rows), where the PIX values of one channel are one or two vec4 loads. On lavapipe that is
 * ~2x faster than every lane reading dy from the storage buffer (a uniform scalar load each).
 *
 * That is the 'blocked' variant, written for CPU adapters. On GPUs ('tiled') the same product is
 * a GEMM with a long reduction, dw[co, r] = Σ_q dy[co, q] · window[q, r] with r = (ci, kh, kw)
 * and q = (n, oh, ow): a 64-channel × 64-tap tile per workgroup of 16×16 invocations, each
 * owning 4×4 outputs (or a wider tile, chosen per layer: conv2d-tile.ts), with 16 pixels of dy
 * and of the gathered windows staged per step in workgroup memory as vec4s (one load gives an
 * invocation 4 channels or 4 taps).
 *
 * The reduction (N·OH·OW terms) is long and the outputs few, so it can be split: each of S
 * splits reduces a range of output rows (n, oh) into its own slice of a partial [S, ...weight]
 * tensor, and one reduction over S adds them. Splits keep a GPU (or several CPU cores) busy when
 * Cout·Cin·KH is small; a batch bound in several runs (tensors larger than one binding) gives
 * each run its own splits.
 */

/**
 * Lanes per workgroup: 64, or fewer when the layer has fewer lanes of work (one per source channel
 * and block of window rows: 3 for an RGB input layer, 32 for a 32-channel one). lavapipe runs a
 * workgroup as one thread looping over 8-lane SIMD slices, so a 64-lane workgroup with 3 lanes of
 * work computed 61 clamped duplicates: the small VGG's first layer (3 -> 32 channels at 32x32,
 * batch 32) took 15x its forward's time. At least 8: one SIMD slice. As blockedLanes in
 * conv2d-implicit-gemm.ts.
 */
function lanesOf(g: Conv2dGeometry, R: number): number {
  const work = (g.inChannels / g.groups) * (g.kernelH / R);
  return Math.min(64, Math.max(8, 2 ** Math.ceil(Math.log2(work))));
}
/**
 * Output pixels of a row per step: 8, or 4 for rows of 4 or fewer (VGG16's last block at 64x64),
 * whose rows padded to 8 made half the multiply-adds zeros.
 */
function pixelsPerStep(g: Conv2dGeometry): number {
  return g.outW <= 4 ? 4 : 8;
}

/** vec4s of workgroup memory for staged dy rows: 16 KiB, WebGPU's default minimum. */
const STAGE_QUADS = 1024;

/**
 * The block: CO output channels per workgroup, as many as fit (≤ 16) while one staged dy row of
 * the block (CO × the row padded to a multiple of PIX) fits the stage. Measured on lavapipe
 * (VGG16's layers at 64x64, batch 4): 16 is 1.2-1.8x faster than 8 (each gathered x value feeds
 * twice the multiply-adds); 32 is faster on 4x4 maps but ~1.7x slower on 64x64 ones.
 */
function channelsPerLane(g: Conv2dGeometry): number {
  const outPerGroup = g.outChannels / g.groups;
  const rowQuads = stagedRowQuads(g);
  const co = [16, 8, 4, 2, 1].find((b) => b <= outPerGroup && b * rowQuads <= STAGE_QUADS);
  if (co === undefined) throw new ShapeError(`conv2d weight grad: output rows of ${g.outW} pixels are wider than the ${STAGE_QUADS * 4} it stages`);
  return co;
}

/** Accumulators a lane may hold (CO × window rows × KW): a 3x3 window's 16 channels × 9 taps. */
const MAX_ACCUMULATORS = 144;

/**
 * Source values a lane holds per step (window rows × windowColumns), at most: the kernel unrolls
 * a load for each and keeps them live across the step's multiply-adds, and SwiftShader's shader
 * compiler slows down steeply with their number. Compiling the weight gradient of a 2-channel
 * layer there: 3x3 stride 2 (3 rows × 17 columns) 1.7 s, 5x5 stride 1 (5 × 12) 1.6 s, 7x7 stride
 * 1 (7 × 14) 2.3 s, 5x5 stride 2 (5 × 20) 5.8 s, 7x7 stride 2 (7 × 21) 77 s.
 */
const MAX_WINDOW_VALUES = 64;

/**
 * Window rows per lane: all KH of them when the accumulators and the window's values fit, so that
 * each staged dy value (a load from workgroup memory) feeds KH·KW multiply-adds instead of KW;
 * else one (ResNet's 7x7 stem). Measured on lavapipe (VGG16's six layer shapes at 64x64 batch 4,
 * isolated, summed over alternated runs): one row per lane 1.12-1.17 s, three 0.60-0.79 s; with 8
 * channels and three rows 1.02 s, with 32 channels 0.67 s.
 */
function windowRowsPerLane(g: Conv2dGeometry, CO: number): number {
  const fits = CO * g.kernelH * g.kernelW <= MAX_ACCUMULATORS && g.kernelH * windowColumns(g, pixelsPerStep(g)).length <= MAX_WINDOW_VALUES;
  return fits ? g.kernelH : 1;
}

/** Workgroups along x: one lane per (source channel, block of R window rows). */
function laneGroups(g: Conv2dGeometry, R: number): number {
  return Math.ceil(((g.inChannels / g.groups) * (g.kernelH / R)) / lanesOf(g, R));
}

/** vec4s of one staged dy row: the row padded with zeros to a multiple of the step's pixels. */
function stagedRowQuads(g: Conv2dGeometry): number {
  const pix = pixelsPerStep(g);
  return Math.ceil(g.outW / pix) * (pix / 4);
}

/** What both variants declare after their Params: the bindings and the window's shape. */
function declarations(g: Conv2dGeometry): string {
  return /* wgsl */ `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const KH = ${g.kernelH}u;
const KW = ${g.kernelW}u;
const STRIDE_H = ${g.strideH};
const STRIDE_W = ${g.strideW};
const DILATION_H = ${g.dilationH};
const DILATION_W = ${g.dilationW};`;
}

const weightGradSource = cached(buildWeightGradSource);
function buildWeightGradSource(g: Conv2dGeometry, CO: number, R: number, sharing: number | null) {
  const PIX = pixelsPerStep(g);
  const LANES = lanesOf(g, R);
  const offsets = windowColumns(g, PIX);
  const column = (j: number, kw: number) => offsets.indexOf(j * g.strideW + kw * g.dilationW);
  // The step's dy values, PIX / 4 quads for each of the CO channels (item o·PIX/4 + q), read by
  // every lane alike: stage[staged + (o · padded_w + ow0) / 4 + q].
  const dyRows = sharedReads({
    lanes: sharing, count: CO * (PIX / 4), prefix: 'shared_dy', separator: '\n        ',
    read: (i) => `stage[staged + ((${i}) / ${PIX / 4}u * padded_w + ow0) / 4u + (${i}) % ${PIX / 4}u]`,
  });
  return {
    name: 'conv2d.weight_grad.blocked',
    code: /* wgsl */ `${enableSubgroups(sharing)}
struct Params {
  images: u32,
  in_channels: u32, in_h: u32, in_w: u32,
  out_channels: u32, out_h: u32, out_w: u32,
  in_per_group: u32, out_per_group: u32,
  pad_h: i32, pad_w: i32,
  rows_per_split: u32,            // output rows (n, oh) each split reduces
  rows_per_stage: u32,            // output rows staged in workgroup memory at a time
  x_offset: u32, dy_offset: u32,  // where this run of images starts in the bound slices
  split0: u32,                    // this run's first slice of the partial tensor
  weight_size: u32,               // elements of one slice (the weight's size)
}
${declarations(g)}
const PIX = ${PIX}u;  // output pixels of a row per step
const CO = ${CO}u;    // output channels per lane, the same for the whole workgroup
const R = ${R}u;      // window rows per lane

// Every lane reads the same dy values: rows of dy for the workgroup's CO channels are staged as
// [row][channel][column] with each row padded (with zeros) to a multiple of PIX columns, so the
// PIX values of a step are PIX / 4 vec4 loads from workgroup memory.
var<workgroup> stage: array<vec4<f32>, ${STAGE_QUADS}>;

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32${subgroupLaneParameter(sharing)}) {
  // Lane -> (source channel ci, window rows kh0 .. kh0 + R - 1); lanes past the end compute a
  // duplicate.
  let lanes = p.in_per_group * (KH / R);
  let lane = wg.x * ${LANES}u + local;
  let l = min(lane, lanes - 1u);
  let ci = l / (KH / R);
  let kh0 = (l % (KH / R)) * R;
  // Workgroup -> group g, output channels co0 .. co0 + CO - 1, split of the rows.
  let co_blocks = (p.out_per_group + CO - 1u) / CO;
  let g = wg.y / co_blocks;
  let co0 = (wg.y % co_blocks) * CO;
  let row_begin = wg.z * p.rows_per_split;
  let row_end = min(p.images * p.out_h, row_begin + p.rows_per_split);

  let in_image = p.in_channels * p.in_h * p.in_w;
  let out_plane = p.out_h * p.out_w;
  let x_plane = p.x_offset + (g * p.in_per_group + ci) * p.in_h * p.in_w;
  let padded_w = (p.out_w + PIX - 1u) / PIX * PIX;

  ${unroll(CO, (o) => unroll(R, (r) => unroll(g.kernelW, (kw) => `var acc${o}_${r}_${kw} = 0.0;`, ' '), ' '), '\n  ')}
  for (var t0 = row_begin; t0 < row_end; t0 += p.rows_per_stage) {
    let rows = min(p.rows_per_stage, row_end - t0);
    // Stage dy rows t0 .. t0 + rows - 1, a vec4 of consecutive columns at a time: quad q holds
    // elements (r · CO + o) · padded_w + ow .. + 3 (padded_w is a multiple of 4).
    workgroupBarrier();
    let row_quads = padded_w / 4u;
    for (var q = local; q < rows * CO * row_quads; q += ${LANES}u) {
      let ow = (q % row_quads) * 4u;
      let o = (q / row_quads) % CO;
      let t = t0 + q / (row_quads * CO);
      let channel = g * p.out_per_group + min(co0 + o, p.out_per_group - 1u);
      let row_start = p.dy_offset + ((t / p.out_h) * p.out_channels + channel) * out_plane + (t % p.out_h) * p.out_w;
      let ok = co0 + o < p.out_per_group;
      var quad = vec4<f32>(0.0);
      for (var j = 0u; j < 4u; j++) {
        quad[j] = select(0.0, dy[row_start + min(ow + j, p.out_w - 1u)], ${allOf('ok', 'ow + j < p.out_w')});
      }
      stage[q] = quad;
    }
    workgroupBarrier();

    for (var r = 0u; r < rows; r++) {
      let t = t0 + r;
      let n = t / p.out_h;
      let oh = t % p.out_h;
      ${unroll(R, (r) => `let ih${r} = i32(oh) * STRIDE_H + i32(kh0 + ${r}u) * DILATION_H - p.pad_h;
      let row_ok${r} = ${allOf(`ih${r} >= 0`, `ih${r} < i32(p.in_h)`)};
      let x_row${r} = x_plane + n * in_image + u32(clamp(ih${r}, 0, i32(p.in_h) - 1)) * p.in_w;`, '\n      ')}
      let staged = r * CO * padded_w / 4u;
      for (var ow0 = 0u; ow0 < p.out_w; ow0 += PIX) {
        // The x columns under the window taps of pixels ow0 .. ow0 + PIX - 1 (zero in the padding).
        let first = i32(ow0) * STRIDE_W - p.pad_w;
        ${unroll(offsets.length, (i) => `let v${i} = first + ${offsets[i]}; let col_ok${i} = ${allOf(`v${i} >= 0`, `v${i} < i32(p.in_w)`)}; let col${i} = u32(clamp(v${i}, 0, i32(p.in_w) - 1));`, '\n        ')}
        ${unroll(R, (r) => unroll(offsets.length, (i) => `let x${r}_${i} = select(0.0, x[x_row${r} + col${i}], ${allOf(`row_ok${r}`, `col_ok${i}`)});`, '\n        '), '\n        ')}
        ${dyRows.loads}
        ${unroll(CO, (o) => `{
          ${unroll(PIX / 4, (q) => `let d${q} = ${dyRows.value(o * (PIX / 4) + q)};`, '\n          ')}
          ${unroll(R, (r) => unroll(g.kernelW, (kw) => fmaInto(`acc${o}_${r}_${kw}`, Array.from({ length: PIX }, (_, j) => [`d${j >> 2}[${j & 3}]`, `x${r}_${column(j, kw)}`] as const)), '\n          '), '\n          ')}
        }`, '\n        ')}
      }
    }
  }

  if (lane >= lanes) { return; }
  let slice = (p.split0 + wg.z) * p.weight_size;
  ${unroll(CO, (o) => `if (co0 + ${o}u < p.out_per_group) {
    let at = slice + (((g * p.out_per_group + co0 + ${o}u) * p.in_per_group + ci) * KH + kh0) * KW;
    ${unroll(R, (r) => unroll(g.kernelW, (kw) => `dw[at + ${r * g.kernelW + kw}u] = acc${o}_${r}_${kw};`, ' '), '\n    ')}
  }`, '\n  ')}
}`,
  };
}

export type WeightGradVariant = 'blocked' | 'tiled';

export function chooseWeightGradVariant(ctx: GpuContext, g: Conv2dGeometry): WeightGradVariant {
  const outPerGroup = g.outChannels / g.groups;
  const taps = (g.inChannels / g.groups) * g.kernelH * g.kernelW;
  return ctx.kernelTarget === 'gpu' && outPerGroup >= 16 && taps >= 16 ? 'tiled' : 'blocked';
}

const TILE_K = 16;
/** Workgroups the tiled variant aims for: a few waves of a large GPU. */
const TILED_TARGET_WORKGROUPS = 2048;

/**
 * WGSL: fetches the values this invocation stages for the step of pixels starting at `q0` into
 * registers: dy at pixel k_dy for its TC / 16 channels into `dy_next`, and the window's value at
 * its tap r for pixels flat / TR + (256 / TR)·j into `x_next`. Values past the run are zero.
 */
function fetchWeightGradStep(q0: string, tile: WeightGradTile): string {
  const TR = tile.taps;
  return /* wgsl */ `{
    let q = ${q0} + k_dy;
    let q_safe = min(q, q_end - 1u);
    let dy_pixel = p.dy_offset + (q_safe / OUT_PLANE) * p.out_channels * OUT_PLANE + q_safe % OUT_PLANE;
    ${unroll(tile.channels / 16, (j) => `{
      let co = tile_co + flat / ${TILE_K}u + ${j * (256 / TILE_K)}u;
      let channel = group * p.out_per_group + min(co, p.out_per_group - 1u);
      dy_next[${j}] = select(0.0, dy[dy_pixel + channel * OUT_PLANE], ${allOf('q < q_end', 'co < p.out_per_group')});
    }`, '\n    ')}
    ${unroll((TILE_K * TR) / 256, (j) => `{
      let k = flat / ${TR}u + ${j * (256 / TR)}u;
      let q = min(${q0} + k, q_end - 1u);
      let n = q / OUT_PLANE;
      let oh = i32((q % OUT_PLANE) / OUT_W);
      let ow = i32(q % OUT_W);
      let ih = oh * STRIDE_H - p.pad_h + kh * DILATION_H;
      let iw = ow * STRIDE_W - p.pad_w + kw * DILATION_W;
      let ok = ${allOf('r_ok', `${q0} + k < q_end`, 'ih >= 0', 'ih < i32(p.in_h)', 'iw >= 0', 'iw < i32(p.in_w)')};
      x_next[${j}] = select(0.0, x[x_channel + n * p.in_channels * in_plane + u32(clamp(ih, 0, i32(p.in_h) - 1)) * p.in_w + u32(clamp(iw, 0, i32(p.in_w) - 1))], ok);
    }`, '\n    ')}
  }`;
}

const tiledWeightGradSource = cached(buildTiledWeightGradSource);
function buildTiledWeightGradSource(g: Conv2dGeometry, tile: WeightGradTile) {
  const TC = tile.channels;
  const TR = tile.taps;
  const CQ = TC / 64; // channel vec4s per invocation (its TC / 16 channels)
  const RQ = TR / 64; // tap vec4s per invocation
  const DY_ROW = paddedRowQuads(TC);
  return {
    name: `conv2d.weight_grad.tiled${weightGradTileName(tile)}`,
    code: /* wgsl */ `
struct Params {
  in_channels: u32, in_h: u32, in_w: u32,
  out_channels: u32, out_h: u32, out_w: u32,
  in_per_group: u32, out_per_group: u32,
  pad_h: i32, pad_w: i32,
  pixels: u32,                    // N·OH·OW of this run
  pixels_per_split: u32,
  x_offset: u32, dy_offset: u32,  // where this run of images starts in the bound slices
  split0: u32,                    // this run's first slice of the partial tensor
  weight_size: u32,               // elements of one slice (the weight's size)
}
${declarations(g)}

// [pixel k][channel / 4] and [pixel k][tap / 4]: row k of both operands of the tile's product.
// Invocation (x, y) owns the channel quads y + 16·i and the tap quads x + 16·j (ownedIndex in
// wgsl.ts). dy is staged along k (adjacent pixels of a channel), so its rows have one
// vec4 of padding (paddedRowQuads in wgsl.ts).
const DY_ROW = ${DY_ROW}u;
// The output's extent as constants (each geometry is its own pipeline anyway): every step splits
// pixel indices into (image, row, column), and a division by a constant is a multiply and a
// shift where a division by a uniform is a few dozen instructions on a GPU.
const OUT_W = ${g.outW}u;
const OUT_PLANE = ${g.outH * g.outW}u;
var<workgroup> tile_dy: array<vec4<f32>, ${TILE_K * DY_ROW}>;
var<workgroup> tile_x: array<vec4<f32>, ${(TILE_K * TR) / 4}>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let taps = p.in_per_group * KH * KW;  // r = (ci, kh, kw): one row of a filter
  let co_tiles = (p.out_per_group + ${TC - 1}u) / ${TC}u;
  let group = wg.y / co_tiles;
  let tile_co = (wg.y % co_tiles) * ${TC}u;
  let tile_r = wg.x * ${TR}u;
  let q_begin = wg.z * p.pixels_per_split;
  let q_end = min(p.pixels, q_begin + p.pixels_per_split);
  let in_plane = p.in_h * p.in_w;

  // What this invocation stages, fixed for the whole reduction: pixel column k_dy of dy's tile
  // (for ${TC / 16} channels), and tap r of the windows' tile (for ${(TILE_K * TR) / 256} pixels).
  let k_dy = flat % ${TILE_K}u;
  let r = tile_r + flat % ${TR}u;
  let r_ok = r < taps;
  let ci = min(r, taps - 1u) / (KH * KW);
  let kh = i32((r % (KH * KW)) / KW);
  let kw = i32(r % KW);
  let x_channel = p.x_offset + (group * p.in_per_group + ci) * in_plane;

  var acc: array<vec4<f32>, ${(TC / 16) * RQ}>;  // [channel 4·i + lane][tap quad j] of this invocation
  // The values this invocation stages for the next step, fetched from global memory a step ahead
  // (as the tiled convolution does): their latency passes while the step before multiplies.
  var dy_next: array<f32, ${TC / 16}>;
  var x_next: array<f32, ${(TILE_K * TR) / 256}>;
  ${fetchWeightGradStep('q_begin', tile)}
  for (var q0 = q_begin; q0 < q_end; q0 += ${TILE_K}u) {
    ${unroll(TC / 16, (j) => `{ let e = k_dy * DY_ROW * 4u + flat / ${TILE_K}u + ${j * (256 / TILE_K)}u; tile_dy[e / 4u][e % 4u] = dy_next[${j}]; }`, '\n    ')}
    ${unroll((TILE_K * TR) / 256, (j) => `{ let e = (flat / ${TR}u + ${j * (256 / TR)}u) * ${TR}u + r - tile_r; tile_x[e / 4u][e % 4u] = x_next[${j}]; }`, '\n    ')}
    workgroupBarrier();
    if (q0 + ${TILE_K}u < q_end) ${fetchWeightGradStep(`(q0 + ${TILE_K}u)`, tile)}
    for (var k = 0u; k < ${TILE_K}u; k++) {
      ${quadOuterProduct({ tile: 'tile_dy', row: 'DY_ROW', quads: CQ }, { tile: 'tile_x', row: `${TR / 4}u`, quads: RQ })}
    }
    workgroupBarrier();
  }

  // Unrolled: indices into acc stay constants, so it lives in registers.
  let slice = (p.split0 + wg.z) * p.weight_size;
  ${unroll(TC / 16, (o) => `{
    let co = tile_co + ${ownedIndex('y', o)};
    let row = slice + (group * p.out_per_group + co) * taps;
    ${unroll(TR / 16, (q) => `{
      let tap = tile_r + ${ownedIndex('x', q)};
      if (co < p.out_per_group && tap < taps) { dw[row + tap] = ${ownedAcc(o, q, RQ)}; }
    }`, '\n    ')}
  }`, '\n  ')}
}`,
  };
}

/** How many splits of the reduction: enough workgroups to fill the device, each split ≥ 4 rows. */
function chooseSplits(ctx: GpuContext, g: Conv2dGeometry, CO: number, R: number, rows: number, runs: number): number {
  const inPerGroup = g.inChannels / g.groups;
  const workgroups = laneGroups(g, R) * g.groups * Math.ceil(g.outChannels / g.groups / CO);
  const target = ctx.kernelTarget === 'cpu' ? 16 : 1024;
  const weightBytes = g.outChannels * inPerGroup * g.kernelH * g.kernelW * 4;
  const bySize = Math.max(1, Math.floor(ctx.maxBindingBytes / weightBytes / runs));
  return Math.max(1, Math.min(Math.ceil(target / workgroups), Math.floor(rows / 4), bySize, ctx.limits.maxComputeWorkgroupsPerDimension));
}

/** The kernel that adds the split pieces' partial weight gradients: part of the weight gradient. */
const PARTIAL_SUMS = 'conv2d.weight_grad.sum_partials';

/** dw from the splits' partial gradients ([total, ...weightShape]; a single split is dw already). */
function sumSplits(partial: Tensor, total: number, weightShape: number[]): Tensor {
  if (total === 1) return partial;
  const dw = runReduce('sum', partial, 1, total, partial.size / total, weightShape, 1, PARTIAL_SUMS);
  partial.dispose();
  return dw;
}

/** dw [outChannels, inChannels / groups, KH, KW] from the layer's input x and dy. */
export function runConv2dWeightGrad(x: Tensor, dy: Tensor, g: Conv2dGeometry, variant?: WeightGradVariant, tile?: WeightGradTile): Tensor {
  if ((variant ?? chooseWeightGradVariant(x.ctx, g)) === 'tiled') return runTiledWeightGrad(x, dy, g, tile ?? chooseWeightGradTile(x.ctx, g));
  const ctx = x.ctx;
  const outPerGroup = g.outChannels / g.groups;
  const inPerGroup = g.inChannels / g.groups;
  const CO = channelsPerLane(g);
  const R = windowRowsPerLane(g, CO);
  const weightShape = [g.outChannels, inPerGroup, g.kernelH, g.kernelW];
  const weightSize = weightShape.reduce((a, b) => a * b, 1);
  const source = weightGradSource(g, CO, R, sharingLanes(ctx));
  const slices = batchSlices(ctx, 'conv2d weight grad', [x, dy], g.batch);
  const splits = slices.map((s) => chooseSplits(ctx, g, CO, R, s.images * g.outH, slices.length));
  const total = splits.reduce((a, b) => a + b, 0);
  const partial = Tensor.empty(ctx, total === 1 ? weightShape : [total, ...weightShape], 'float32');
  let split0 = 0;
  slices.forEach((slice, i) => {
    const [xBinding, dyBinding] = slice.bindings as [Binding, Binding];
    const rows = slice.images * g.outH;
    launch(ctx, source, {
      buffers: { x: xBinding, dy: dyBinding, dw: partial },
      uniforms: {
        images: slice.images,
        in_channels: g.inChannels, in_h: g.inH, in_w: g.inW,
        out_channels: g.outChannels, out_h: g.outH, out_w: g.outW,
        in_per_group: inPerGroup, out_per_group: outPerGroup,
        pad_h: g.padH, pad_w: g.padW,
        rows_per_split: Math.ceil(rows / splits[i]!),
        rows_per_stage: Math.floor(STAGE_QUADS / (CO * stagedRowQuads(g))),
        x_offset: slice.offsets[0]!, dy_offset: slice.offsets[1]!,
        split0, weight_size: weightSize,
      },
      workgroups: [laneGroups(g, R), g.groups * Math.ceil(outPerGroup / CO), splits[i]!],
      flops: weightGradFlops(g, slice.images),
    });
    split0 += splits[i]!;
  });
  return sumSplits(partial, total, weightShape);
}

/** What a run of `images` computes: every weight sums one product per output pixel. */
const weightGradFlops = (g: Conv2dGeometry, images: number) => 2 * images * g.outH * g.outW * g.outChannels * (g.inChannels / g.groups) * g.kernelH * g.kernelW;

function runTiledWeightGrad(x: Tensor, dy: Tensor, g: Conv2dGeometry, tile: WeightGradTile): Tensor {
  const ctx = x.ctx;
  const outPerGroup = g.outChannels / g.groups;
  const inPerGroup = g.inChannels / g.groups;
  const weightShape = [g.outChannels, inPerGroup, g.kernelH, g.kernelW];
  const weightSize = weightShape.reduce((a, b) => a * b, 1);
  const taps = inPerGroup * g.kernelH * g.kernelW;
  const tiles = [Math.ceil(taps / tile.taps), g.groups * Math.ceil(outPerGroup / tile.channels)] as const;
  const slices = batchSlices(ctx, 'conv2d weight grad', [x, dy], g.batch);
  // Splits of each run's pixels: enough workgroups to fill the GPU, each split at least 8 steps
  // of TILE_K pixels, and the partial sums within one binding. Counted in 64×64 tiles whatever
  // the tile, so that every tile sums the same ranges in the same order: the same bits.
  const bySize = Math.max(1, Math.floor(ctx.maxBindingBytes / (weightSize * 4) / slices.length));
  const smallTiles = Math.ceil(taps / 64) * g.groups * Math.ceil(outPerGroup / 64);
  const splits = slices.map((s) => {
    const pixels = s.images * g.outH * g.outW;
    const wanted = Math.ceil(TILED_TARGET_WORKGROUPS / smallTiles);
    return Math.max(1, Math.min(wanted, Math.floor(pixels / (8 * TILE_K)), bySize, ctx.limits.maxComputeWorkgroupsPerDimension));
  });
  const total = splits.reduce((a, b) => a + b, 0);
  const partial = Tensor.empty(ctx, total === 1 ? weightShape : [total, ...weightShape], 'float32');
  const source = tiledWeightGradSource(g, tile);
  let split0 = 0;
  slices.forEach((slice, i) => {
    const [xBinding, dyBinding] = slice.bindings as [Binding, Binding];
    const pixels = slice.images * g.outH * g.outW;
    launch(ctx, source, {
      buffers: { x: xBinding, dy: dyBinding, dw: partial },
      uniforms: {
        in_channels: g.inChannels, in_h: g.inH, in_w: g.inW,
        out_channels: g.outChannels, out_h: g.outH, out_w: g.outW,
        in_per_group: inPerGroup, out_per_group: outPerGroup,
        pad_h: g.padH, pad_w: g.padW,
        pixels, pixels_per_split: Math.ceil(pixels / splits[i]! / TILE_K) * TILE_K,
        x_offset: slice.offsets[0]!, dy_offset: slice.offsets[1]!,
        split0, weight_size: weightSize,
      },
      workgroups: [tiles[0], tiles[1], splits[i]!],
      flops: weightGradFlops(g, slice.images),
    });
    split0 += splits[i]!;
  });
  return sumSplits(partial, total, weightShape);
}
