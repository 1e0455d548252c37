import { Tensor } from '../autograd/tensor.js';
import { groupsFor1d, launch } from './launch.js';
import { MAX_DIMS, WORKGROUP_1D, dimsType, entry1d, gridStride, linearIndex } from './wgsl.js';

const source = {
  name: 'permute',
  code: /* wgsl */ `
// y = x.permute(order): output element i has coordinates (c0..cn) in the output shape; it reads
// x at sum(c_d * in_strides[order[d]]), given here directly as permuted strides.
struct Params { size: u32, ndim: u32, out_shape: ${dimsType}, in_strides: ${dimsType} }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    var rest = i;
    var source = 0u;
    for (var d = i32(p.ndim) - 1; d >= 0; d--) {
      let extent = p.out_shape[d / 4][d % 4];
      source += (rest % extent) * p.in_strides[d / 4][d % 4];
      rest = rest / extent;
    }
    y[i] = x[source];
  }
}`,
};

export function runPermute(x: Tensor, order: readonly number[]): Tensor {
  if (x.ndim > MAX_DIMS) throw new Error(`permute supports up to ${MAX_DIMS} dimensions`);
  const strides = contiguousStrides(x.shape);
  const outShape = order.map((d) => x.shape[d]!);
  const y = Tensor.empty(x.ctx, outShape, x.dtype);
  launch(x.ctx, source, {
    buffers: { x, y },
    uniforms: { size: y.size, ndim: x.ndim, out_shape: outShape, in_strides: order.map((d) => strides[d]!) },
    workgroups: groupsFor1d(x.ctx, y.size, WORKGROUP_1D),
  });
  return y;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d]!;
  }
  return strides;
}
