import { Tensor } from '../autograd/tensor.js';
import { launch, type Binding } from './launch.js';
import { runReduce } from './reduce.js';
import { batchSlices } from './conv2d-common.js';

/**
 * The bias gradient of conv2d: db[c] = Σ_{n, h, w} dy[n, c, h, w]. A workgroup sums one channel
 * of one piece of the batch's planes: lane l reads elements l, l + 64, ... (neighbouring lanes,
 * neighbouring addresses), then the 64 sums are combined in workgroup memory into one partial
 * sum per (piece, channel); one reduction over the pieces adds them.
 *
 * On a CPU adapter a piece is a whole run of images (few workgroups, one pass); on a GPU it is
 * one image's plane cut into pieces of about PIECE elements, so that a 32x64x224x224 gradient
 * keeps thousands of workgroups busy instead of 64 (one per channel: 28 ms of VGG16's
 * 330 ms step on an H200, before this).
 */
const LANES = 64;
const PIECE = 4096;

const biasGradSource = {
  name: 'conv2d.bias_grad',
  code: /* wgsl */ `
struct Params {
  images: u32,            // images in this run (bound slice)
  channels: u32,
  plane: u32,             // H·W of dy
  piece: u32,             // elements of a plane each workgroup sums (≥ plane: whole images)
  pieces_per_image: u32,  // 0: one piece is the whole run of images (CPU adapters)
  dy_offset: u32,         // where this run of images starts in the bound slice
  partial0: u32,          // this run's first row of the partial sums
}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> partial: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> lanes: array<f32, ${LANES}>;

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let c = wg.x;
  // Workgroup y: a piece of one image's plane, or (pieces_per_image = 0) every image of the run.
  let whole = p.pieces_per_image == 0u;
  let n0 = select(wg.y / max(p.pieces_per_image, 1u), 0u, whole);
  let n1 = select(n0 + 1u, p.images, whole);
  let k0 = select((wg.y % max(p.pieces_per_image, 1u)) * p.piece, 0u, whole);
  let k1 = min(k0 + p.piece, p.plane);
  var sum = 0.0;
  for (var n = n0; n < n1; n++) {
    let plane = p.dy_offset + (n * p.channels + c) * p.plane;
    for (var k = k0 + local; k < k1; k += ${LANES}u) {
      sum += dy[plane + k];
    }
  }
  lanes[local] = sum;
  workgroupBarrier();
  for (var stride = ${LANES / 2}u; stride > 0u; stride /= 2u) {
    if (local < stride) { lanes[local] += lanes[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0u) {
    partial[(p.partial0 + wg.y) * p.channels + c] = lanes[0];
  }
}`,
};

/** db [C] from dy [N, C, H, W]. */
export function runConv2dBiasGrad(dy: Tensor): Tensor {
  const ctx = dy.ctx;
  const [batch, channels, h, w] = dy.shape as [number, number, number, number];
  const plane = h * w;
  const slices = batchSlices(ctx, 'conv2d bias grad', [dy], batch);
  const piecesPerImage = ctx.kernelTarget === 'cpu' ? 0 : Math.ceil(plane / PIECE);
  const rowsOf = (images: number) => (piecesPerImage === 0 ? 1 : images * piecesPerImage);
  const total = slices.reduce((sum, s) => sum + rowsOf(s.images), 0);
  const partial = Tensor.empty(ctx, total === 1 ? [channels] : [total, channels], 'float32');
  let partial0 = 0;
  for (const slice of slices) {
    launch(ctx, biasGradSource, {
      buffers: { dy: slice.bindings[0] as Binding, partial },
      uniforms: {
        images: slice.images, channels, plane, piece: piecesPerImage === 0 ? plane : PIECE,
        pieces_per_image: piecesPerImage, dy_offset: slice.offsets[0]!, partial0,
      },
      workgroups: [channels, rowsOf(slice.images), 1],
    });
    partial0 += rowsOf(slice.images);
  }
  if (total === 1) return partial;
  const db = runReduce('sum', partial, 1, total, channels, [channels]);
  partial.dispose();
  return db;
}
