import type { GpuContext } from '../runtime/context.js';
import type { Tensor } from '../autograd/tensor.js';
import { BindingLimitError } from '../runtime/errors.js';
import type { Binding } from './launch.js';

/**
 * What every convolution kernel needs to know about one conv2d (NCHW input, OIHW weight, PyTorch
 * semantics): sizes, and the window's stride, padding and dilation along each axis.
 */
export interface Conv2dGeometry {
  batch: number;
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
}

/** PyTorch's output extent: floor((in + 2·pad − dilation·(kernel − 1) − 1) / stride) + 1. */
export function convOutputSize(input: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((input + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * A convolution as the kernels see it: "slide a KH×KW window over a source image, reduce over
 * the source channels of a group and the taps, write one output channel per filter". The forward
 * pass and the input gradient are both of this form (see conv2d-sliding.ts):
 *
 *   forward:         source x,  output y,  window stride s, pad p, dilation d, no upsampling
 *   input gradient:  source dy, output dx, stride 1, pad d·(k−1) − p, dilation d, the weight
 *                    flipped and read transposed, and dy upsampled by s (zeros between its
 *                    pixels): a transposed convolution.
 *
 * The window reads the *virtual* source: pixel v of it is source pixel v / up when v is a
 * multiple of `up` and inside the source, else 0 (padding, or a hole of the upsampling).
 */
export interface SlidingConv {
  images: number;
  srcChannels: number;
  srcH: number;
  srcW: number;
  outChannels: number;
  outH: number;
  outW: number;
  groups: number;
  /** Output channels and reduced (source) channels per group. */
  outPerGroup: number;
  redPerGroup: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** May be negative (a transposed convolution of a padded layer crops). */
  padH: number;
  padW: number;
  upH: number;
  upW: number;
  /** Read tap (KH−1−kh, KW−1−kw) of the weight for tap (kh, kw). */
  flip: boolean;
  /**
   * Weight element (out, red, tap) of group g is w[g·wGroupStride + out·wOutStride +
   * red·wRedStride + tap], out and red counted within the group.
   */
  wGroupStride: number;
  wOutStride: number;
  wRedStride: number;
}

export function forwardConv(g: Conv2dGeometry): SlidingConv {
  const taps = g.kernelH * g.kernelW;
  return {
    images: g.batch,
    srcChannels: g.inChannels, srcH: g.inH, srcW: g.inW,
    outChannels: g.outChannels, outH: g.outH, outW: g.outW,
    groups: g.groups,
    outPerGroup: g.outChannels / g.groups,
    redPerGroup: g.inChannels / g.groups,
    kernelH: g.kernelH, kernelW: g.kernelW,
    strideH: g.strideH, strideW: g.strideW,
    dilationH: g.dilationH, dilationW: g.dilationW,
    padH: g.padH, padW: g.padW,
    upH: 1, upW: 1,
    flip: false,
    wGroupStride: (g.outChannels / g.groups) * (g.inChannels / g.groups) * taps,
    wOutStride: (g.inChannels / g.groups) * taps,
    wRedStride: taps,
  };
}

/** dx = the transposed convolution of dy with the same weight (see SlidingConv). */
export function inputGradConv(g: Conv2dGeometry): SlidingConv {
  const taps = g.kernelH * g.kernelW;
  return {
    images: g.batch,
    srcChannels: g.outChannels, srcH: g.outH, srcW: g.outW,
    outChannels: g.inChannels, outH: g.inH, outW: g.inW,
    groups: g.groups,
    outPerGroup: g.inChannels / g.groups,
    redPerGroup: g.outChannels / g.groups,
    kernelH: g.kernelH, kernelW: g.kernelW,
    strideH: 1, strideW: 1,
    dilationH: g.dilationH, dilationW: g.dilationW,
    padH: g.dilationH * (g.kernelH - 1) - g.padH,
    padW: g.dilationW * (g.kernelW - 1) - g.padW,
    upH: g.strideH, upW: g.strideW,
    flip: true,
    wGroupStride: (g.outChannels / g.groups) * (g.inChannels / g.groups) * taps,
    wOutStride: taps,
    wRedStride: (g.inChannels / g.groups) * taps,
  };
}

/** A run of whole images [image0, image0 + images), and where each tensor's part of it is bound. */
export interface BatchSlice {
  image0: number;
  images: number;
  /** Per tensor: the binding (which starts at an aligned offset) and where the run starts in it. */
  bindings: Binding[];
  offsets: number[];
}

/**
 * Splits a batch into runs of whole images such that every batched tensor's part of a run fits
 * one binding. Bindings must start at `minStorageBufferOffsetAlignment`, which an image boundary
 * rarely is, so each binding starts at the aligned element at or before its run and the kernel
 * adds `offsets[i]` to its indices. One run when everything fits. `maxImages` caps a run (e.g. to
 * keep a dispatch within `maxComputeWorkgroupsPerDimension`).
 */
export function batchSlices(
  ctx: GpuContext,
  where: string,
  tensors: readonly Tensor[],
  batch: number,
  maxImages = batch,
): BatchSlice[] {
  const align = ctx.limits.minStorageBufferOffsetAlignment / 4;
  const maxElements = Math.floor(ctx.maxBindingBytes / 4);
  const perImage = tensors.map((t) => t.size / batch);
  const fitsWhole = tensors.every((t) => t.byteSize <= ctx.maxBindingBytes);
  let run = fitsWhole ? batch : Math.floor((maxElements - (align - 1)) / Math.max(...perImage));
  if (run < 1) {
    const largest = perImage.indexOf(Math.max(...perImage));
    const t = tensors[largest]!;
    throw new BindingLimitError(t.name, perImage[largest]! * 4, ctx.maxBindingBytes, 'maxStorageBufferBindingSize', `${where}, even one image at a time`);
  }
  run = Math.max(1, Math.min(run, maxImages));
  const slices: BatchSlice[] = [];
  for (let image0 = 0; image0 < batch; image0 += run) {
    const images = Math.min(run, batch - image0);
    const bindings: Binding[] = [];
    const offsets: number[] = [];
    tensors.forEach((tensor, i) => {
      const start = image0 * perImage[i]!;
      const aligned = Math.floor(start / align) * align;
      const whole = images === batch;
      bindings.push(whole ? tensor : { tensor, offset: aligned, count: start - aligned + images * perImage[i]! });
      offsets.push(whole ? 0 : start - aligned);
    });
    slices.push({ image0, images, bindings, offsets });
  }
  return slices;
}

/** Repeats `f(i)` for i < n, joined: the unrolled parts of the generated kernels. */
export function unroll(n: number, f: (i: number) => string, separator = '\n'): string {
  return Array.from({ length: n }, (_, i) => f(i)).join(separator);
}

/**
 * The distinct source columns, as offsets from the first, that `pix` consecutive output pixels'
 * windows read in one row (pixel j's tap kw reads offset j·strideW + kw·dilationW). The blocked
 * kernels load each once per row and keep them live across the row's multiply-adds.
 */
export function windowColumns(window: { kernelW: number; strideW: number; dilationW: number }, pix: number): number[] {
  const offsets = Array.from({ length: pix }, (_, j) => Array.from({ length: window.kernelW }, (_, kw) => j * window.strideW + kw * window.dilationW)).flat();
  return [...new Set(offsets)].sort((a, b) => a - b);
}

/** `acc = a0·b0 + a1·b1 + ... + acc` as nested fma() calls: fused multiply-adds on every adapter. */
export function fmaInto(acc: string, terms: readonly (readonly [string, string])[]): string {
  return `${acc} = ${terms.reduceRight((inner, [a, b]) => `fma(${a}, ${b}, ${inner})`, acc)};`;
}
