import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { launch, type Binding } from './launch.js';
import { runReduce } from './reduce.js';
import { batchSlices, fmaInto, unroll, type Conv2dGeometry } from './conv2d-common.js';

/**
 * The weight gradient of conv2d, an implicit GEMM reducing over every output pixel:
 *
 *   dw[co, ci, kh, kw] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, ci, oh·sh − ph + kh·dh, ow·sw − pw + kw·dw]
 *
 * A lane owns one (source channel ci, window row kh) of a group and accumulates CO output
 * channels × KW taps. The output channels are fixed per workgroup and the lanes walk the same
 * output pixels in step, so every dy load is uniform (one scalar load for all lanes); the x row
 * a lane reads is its own, and PIX consecutive output pixels share their overlapping window
 * columns (PIX + KW − 1 loads for stride 1, not PIX·KW). No workgroup memory, no barriers.
 *
 * The reduction (N·OH·OW terms) is long and the outputs few, so it can be split: each of S
 * splits reduces a range of output rows (n, oh) into its own slice of a partial [S, ...weight]
 * tensor, and one reduction over S adds them. Splits keep a GPU (or several CPU cores) busy when
 * Cout·Cin·KH is small; a batch bound in several runs (tensors larger than one binding) gives
 * each run its own splits.
 */

const LANES = 64;
const PIX = 8;

function weightGradSource(g: Conv2dGeometry, CO: number) {
  const offsetOf = (j: number, kw: number) => j * g.strideW + kw * g.dilationW;
  const all = Array.from({ length: PIX }, (_, j) => Array.from({ length: g.kernelW }, (_, kw) => offsetOf(j, kw))).flat();
  const offsets = [...new Set(all)].sort((a, b) => a - b);
  const column = (j: number, kw: number) => offsets.indexOf(offsetOf(j, kw));
  return {
    name: 'conv2d.weight_grad.blocked',
    code: /* wgsl */ `
struct Params {
  images: u32,
  in_channels: u32, in_h: u32, in_w: u32,
  out_channels: u32, out_h: u32, out_w: u32,
  in_per_group: u32, out_per_group: u32,
  pad_h: i32, pad_w: i32,
  rows_per_split: u32,            // output rows (n, oh) each split reduces
  x_offset: u32, dy_offset: u32,  // where this run of images starts in the bound slices
  split0: u32,                    // this run's first slice of the partial tensor
  weight_size: u32,               // elements of one slice (the weight's size)
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const KH = ${g.kernelH}u;
const KW = ${g.kernelW}u;
const STRIDE_H = ${g.strideH};
const STRIDE_W = ${g.strideW};
const DILATION_H = ${g.dilationH};
const PIX = ${PIX}u;  // output pixels of a row per step
const CO = ${CO}u;    // output channels per lane, the same for the whole workgroup

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  // Lane -> (source channel ci, window row kh); lanes past the end compute a duplicate.
  let lanes = p.in_per_group * KH;
  let lane = wg.x * ${LANES}u + local;
  let l = min(lane, lanes - 1u);
  let ci = l / KH;
  let kh = l % KH;
  // Workgroup -> group g, output channels co0 .. co0 + CO - 1 (clamped), split of the rows.
  let co_blocks = (p.out_per_group + CO - 1u) / CO;
  let g = wg.y / co_blocks;
  let co0 = (wg.y % co_blocks) * CO;
  let row_begin = wg.z * p.rows_per_split;
  let row_end = min(p.images * p.out_h, row_begin + p.rows_per_split);

  let in_image = p.in_channels * p.in_h * p.in_w;
  let out_image = p.out_channels * p.out_h * p.out_w;
  let x_plane = p.x_offset + (g * p.in_per_group + ci) * p.in_h * p.in_w;
  ${unroll(CO, (o) => `let dy${o} = p.dy_offset + (g * p.out_per_group + min(co0 + ${o}u, p.out_per_group - 1u)) * p.out_h * p.out_w;`, '\n  ')}

  ${unroll(CO, (o) => unroll(g.kernelW, (kw) => `var acc${o}_${kw} = 0.0;`, ' '), '\n  ')}
  for (var t = row_begin; t < row_end; t++) {
    let n = t / p.out_h;
    let oh = t % p.out_h;
    let ih = i32(oh) * STRIDE_H + i32(kh) * DILATION_H - p.pad_h;
    let row_ok = ih >= 0 && ih < i32(p.in_h);
    let x_row = x_plane + n * in_image + u32(clamp(ih, 0, i32(p.in_h) - 1)) * p.in_w;
    let dy_row = n * out_image + oh * p.out_w;
    for (var ow0 = 0u; ow0 < p.out_w; ow0 += PIX) {
      // The x columns under the window taps of pixels ow0 .. ow0 + PIX - 1 (zero in the padding).
      let first = i32(ow0) * STRIDE_W - p.pad_w;
      ${unroll(offsets.length, (i) => `let v${i} = first + ${offsets[i]}; let x${i} = select(0.0, x[x_row + u32(clamp(v${i}, 0, i32(p.in_w) - 1))], row_ok && v${i} >= 0 && v${i} < i32(p.in_w));`, '\n      ')}
      ${unroll(PIX, (j) => `let in${j} = ow0 + ${j}u < p.out_w; let at${j} = dy_row + min(ow0 + ${j}u, p.out_w - 1u);`, '\n      ')}
      ${unroll(CO, (o) => `{
        ${unroll(PIX, (j) => `let d${j} = select(0.0, dy[dy${o} + at${j}], in${j});`, ' ')}
        ${unroll(g.kernelW, (kw) => fmaInto(`acc${o}_${kw}`, Array.from({ length: PIX }, (_, j) => [`d${j}`, `x${column(j, kw)}`] as const)), '\n        ')}
      }`, '\n      ')}
    }
  }

  if (lane >= lanes) { return; }
  let slice = (p.split0 + wg.z) * p.weight_size;
  ${unroll(CO, (o) => `if (co0 + ${o}u < p.out_per_group) {
    let at = slice + (((g * p.out_per_group + co0 + ${o}u) * p.in_per_group + ci) * KH + kh) * KW;
    ${unroll(g.kernelW, (kw) => `dw[at + ${kw}u] = acc${o}_${kw};`, ' ')}
  }`, '\n  ')}
}`,
  };
}

/** How many splits of the reduction: enough workgroups to fill the device, each split ≥ 4 rows. */
function chooseSplits(ctx: GpuContext, g: Conv2dGeometry, CO: number, rows: number, runs: number): number {
  const inPerGroup = g.inChannels / g.groups;
  const workgroups = Math.ceil((inPerGroup * g.kernelH) / LANES) * g.groups * Math.ceil(g.outChannels / g.groups / CO);
  const target = ctx.adapter.isSoftware ? 16 : 1024;
  const weightBytes = g.outChannels * inPerGroup * g.kernelH * g.kernelW * 4;
  const bySize = Math.max(1, Math.floor(ctx.maxBindingBytes / weightBytes / runs));
  return Math.max(1, Math.min(Math.ceil(target / workgroups), Math.floor(rows / 4), bySize, ctx.limits.maxComputeWorkgroupsPerDimension));
}

/** dw [outChannels, inChannels / groups, KH, KW] from the layer's input x and dy. */
export function runConv2dWeightGrad(x: Tensor, dy: Tensor, g: Conv2dGeometry): Tensor {
  const ctx = x.ctx;
  const outPerGroup = g.outChannels / g.groups;
  const inPerGroup = g.inChannels / g.groups;
  const CO = outPerGroup >= 8 ? 8 : outPerGroup >= 4 ? 4 : outPerGroup >= 2 ? 2 : 1;
  const weightShape = [g.outChannels, inPerGroup, g.kernelH, g.kernelW];
  const weightSize = weightShape.reduce((a, b) => a * b, 1);
  const source = weightGradSource(g, CO);
  const slices = batchSlices(ctx, 'conv2d weight grad', [x, dy], g.batch);
  const splits = slices.map((s) => chooseSplits(ctx, g, CO, s.images * g.outH, slices.length));
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
        x_offset: slice.offsets[0]!, dy_offset: slice.offsets[1]!,
        split0, weight_size: weightSize,
      },
      workgroups: [Math.ceil((inPerGroup * g.kernelH) / LANES), g.groups * Math.ceil(outPerGroup / CO), splits[i]!],
    });
    split0 += splits[i]!;
  });
  if (total === 1) return partial;
  const dw = runReduce('sum', partial, 1, total, weightSize, weightShape);
  partial.dispose();
  return dw;
}
