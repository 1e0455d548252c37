import { Tensor } from '../autograd/tensor.js';
import { launch, type Binding } from './launch.js';
import { batchSlices } from './conv2d-common.js';

/**
 * The bias gradient of conv2d: db[c] = Σ_{n, h, w} dy[n, c, h, w]. One workgroup per channel;
 * lane l sums elements l, l + 64, ... of every image's plane (neighbouring lanes read
 * neighbouring addresses), then the 64 sums are combined in workgroup memory. A batch bound in
 * several runs (dy larger than one binding) adds each run into db.
 */
const LANES = 64;

const biasGradSource = {
  name: 'conv2d.bias_grad',
  code: /* wgsl */ `
struct Params {
  images: u32,
  channels: u32,
  plane: u32,       // H·W of dy
  dy_offset: u32,   // where this run of images starts in the bound slice
  accumulate: u32,  // 1: add to db (every run after the first)
}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
var<workgroup> partial: array<f32, ${LANES}>;

@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  let c = wg.x;
  var sum = 0.0;
  for (var n = 0u; n < p.images; n++) {
    let plane = p.dy_offset + (n * p.channels + c) * p.plane;
    for (var k = local; k < p.plane; k += ${LANES}u) {
      sum += dy[plane + k];
    }
  }
  partial[local] = sum;
  workgroupBarrier();
  for (var stride = ${LANES / 2}u; stride > 0u; stride /= 2u) {
    if (local < stride) { partial[local] += partial[local + stride]; }
    workgroupBarrier();
  }
  if (local == 0u) {
    db[c] = partial[0] + select(0.0, db[c], p.accumulate != 0u);
  }
}`,
};

/** db [C] from dy [N, C, H, W]. */
export function runConv2dBiasGrad(dy: Tensor): Tensor {
  const [batch, channels, h, w] = dy.shape as [number, number, number, number];
  const db = Tensor.empty(dy.ctx, [channels], 'float32');
  batchSlices(dy.ctx, 'conv2d bias grad', [dy], batch).forEach((slice, i) => {
    launch(dy.ctx, biasGradSource, {
      buffers: { dy: slice.bindings[0] as Binding, db },
      uniforms: { images: slice.images, channels, plane: h * w, dy_offset: slice.offsets[0]!, accumulate: i > 0 ? 1 : 0 },
      workgroups: channels,
    });
  });
  return db;
}
