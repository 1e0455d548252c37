import type { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch, type Binding } from './launch.js';
import type { KernelSource } from '../runtime/pipelines.js';
import { WORKGROUP_1D, linearIndex } from './wgsl.js';
import { batchSlices } from './conv2d-common.js';

/**
 * What the pooling kernels share: their uniforms, their entry point and how a launch covers the
 * planes. Every (image, channel) plane is pooled on its own, so a tensor larger than one binding
 * is simply bound a run of planes at a time.
 */

export interface PoolWindow {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
}

export interface PoolSizes {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/**
 * Elements each invocation handles, consecutive in memory. On lavapipe 4 per lane took less than
 * half the CPU time of 1 per lane (fewer workgroups, index arithmetic shared).
 */
const PER_LANE = 4;

/**
 * A pooling kernel's source: the uniforms, the window as constants (fixed windows are few, so
 * each is its own pipeline and its loops unroll), `declarations` (bindings 0.., the uniforms go
 * last) and `element`, a WGSL function `fn element(i: u32)` computing element i of what the
 * kernel writes: an output element in a forward pass (`per` = 'out'), an input one in a
 * backward pass ('in').
 */
export function poolSource(name: string, window: PoolWindow | null, declarations: string, element: string, per: 'in' | 'out'): KernelSource {
  const uniformBinding = (declarations.match(/@binding\(/g) ?? []).length;
  return {
    name,
    code: /* wgsl */ `
struct Params {
  planes: u32,                   // (image, channel) planes in this run
  in_h: u32, in_w: u32, out_h: u32, out_w: u32,
  x_offset: u32, y_offset: u32,  // where the run starts in the bound slices of x (dx) and y (dy)
}
${declarations}
@group(0) @binding(${uniformBinding}) var<uniform> p: Params;
${window ? /* wgsl */ `
const KERNEL_H = ${window.kernel[0]};
const KERNEL_W = ${window.kernel[1]};
const STRIDE_H = ${window.stride[0]};
const STRIDE_W = ${window.stride[1]};
const PAD_H = ${window.padding[0]};
const PAD_W = ${window.padding[1]};` : ''}
${element}
${linearIndex}
@compute @workgroup_size(${WORKGROUP_1D})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) local: u32) {
  let first = linear_index(wg, groups, local) * ${PER_LANE}u;
  let count = p.planes * p.${per}_h * p.${per}_w;
  for (var k = 0u; k < ${PER_LANE}u; k++) {
    if (first + k >= count) { return; }
    element(first + k);
  }
}`,
  };
}

/**
 * Launches `source` once per run of planes. `input` tensors are [planes, in_h, in_w]-sized,
 * `output` ones [planes, out_h, out_w]-sized; bindings are named by the keys.
 */
export function launchPool(
  source: KernelSource,
  sizes: PoolSizes,
  tensors: { input: Record<string, Tensor>; output: Record<string, Tensor> },
  per: 'in' | 'out',
): void {
  const inNames = Object.keys(tensors.input);
  const outNames = Object.keys(tensors.output);
  const all = [...inNames.map((k) => tensors.input[k]!), ...outNames.map((k) => tensors.output[k]!)];
  const ctx = all[0]!.ctx;
  const plane = per === 'in' ? sizes.inH * sizes.inW : sizes.outH * sizes.outW;
  for (const slice of batchSlices(ctx, source.name, all, sizes.planes)) {
    const buffers: Record<string, Binding> = {};
    [...inNames, ...outNames].forEach((name, i) => (buffers[name] = slice.bindings[i]!));
    launch(ctx, source, {
      buffers,
      uniforms: {
        planes: slice.images,
        in_h: sizes.inH, in_w: sizes.inW, out_h: sizes.outH, out_w: sizes.outW,
        x_offset: slice.offsets[0]!, y_offset: slice.offsets[inNames.length]!,
      },
      workgroups: groupsFor(Math.ceil((slice.images * plane) / PER_LANE), WORKGROUP_1D),
    });
  }
}
