import type { Tensor } from '../autograd/tensor.js';
import { bindingChunks, groupsFor1d, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, gridStride, linearIndex } from './wgsl.js';

/**
 * The bits GpuContextOptions.fillUninitialized writes into every new tensor: a quiet NaN as a
 * float, 2,143,289,344 as an index. A kernel that reads an element nothing wrote then shows it
 * (a NaN spreads; an index that large is out of every range), where a fresh buffer's zeros or a
 * reused buffer's old values would pass unseen. PyTorch's fill_uninitialized_memory does the same.
 */
export const UNINITIALIZED_BITS = 0x7fc00000;

const fillSource = {
  name: 'fill',
  code: /* wgsl */ `
struct Params { size: u32, bits: u32 }
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    y[i] = p.bits;
  }
}`,
};

/** Writes the 32-bit pattern `bits` into every element of `t` (a recorded dispatch, in order with the others). */
export function runFill(t: Tensor, bits: number): void {
  for (const { offset, count } of bindingChunks(t.ctx, t.size)) {
    launch(t.ctx, fillSource, {
      buffers: { y: { tensor: t, offset, count } },
      uniforms: { size: count, bits },
      workgroups: groupsFor1d(t.ctx, count, WORKGROUP_1D),
    });
  }
}
