import type { Tensor } from '../autograd/tensor.js';
import { groupsFor, launch, type Binding } from './launch.js';
import type { KernelSource } from '../runtime/pipelines.js';
import { WORKGROUP_1D } from './wgsl.js';
import { batchSlices } from './conv2d-common.js';

/**
 * What the pooling kernels share: their uniforms and how a launch covers the planes. Every
 * (image, channel) plane is pooled on its own, so a tensor larger than one binding is simply
 * bound a run of planes at a time.
 */
export const POOL_PARAMS = /* wgsl */ `
struct Params {
  planes: u32,                     // (image, channel) planes in this run
  in_h: u32, in_w: u32, out_h: u32, out_w: u32,
  kernel_h: i32, kernel_w: i32, stride_h: i32, stride_w: i32, pad_h: i32, pad_w: i32,
  x_offset: u32, y_offset: u32,    // where the run starts in the bound slices of x (dx) and y (dy)
}`;

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
 * Launches `source` once per run of planes, one invocation per element of `perElement` (the
 * output in a forward pass, the input in a backward one). `input` tensors are [planes, in_h,
 * in_w]-sized, `output` ones [planes, out_h, out_w]-sized; bindings are named by the keys.
 */
export function launchPool(
  source: KernelSource,
  sizes: PoolSizes,
  window: PoolWindow,
  tensors: { input: Record<string, Tensor>; output: Record<string, Tensor> },
  perElement: 'input' | 'output',
): void {
  const inNames = Object.keys(tensors.input);
  const outNames = Object.keys(tensors.output);
  const all = [...inNames.map((k) => tensors.input[k]!), ...outNames.map((k) => tensors.output[k]!)];
  const ctx = all[0]!.ctx;
  const plane = perElement === 'input' ? sizes.inH * sizes.inW : sizes.outH * sizes.outW;
  for (const slice of batchSlices(ctx, source.name, all, sizes.planes)) {
    const buffers: Record<string, Binding> = {};
    [...inNames, ...outNames].forEach((name, i) => (buffers[name] = slice.bindings[i]!));
    launch(ctx, source, {
      buffers,
      uniforms: {
        planes: slice.images,
        in_h: sizes.inH, in_w: sizes.inW, out_h: sizes.outH, out_w: sizes.outW,
        kernel_h: window.kernel[0], kernel_w: window.kernel[1],
        stride_h: window.stride[0], stride_w: window.stride[1],
        pad_h: window.padding[0], pad_w: window.padding[1],
        x_offset: slice.offsets[0]!, y_offset: slice.offsets[inNames.length]!,
      },
      workgroups: groupsFor(slice.images * plane, WORKGROUP_1D),
    });
  }
}
