import type { Tensor } from '../autograd/tensor.js';
import { isGradEnabled, record } from '../autograd/graph.js';
import { ShapeError } from '../runtime/errors.js';
import type { PoolSizes, PoolWindow } from '../kernels/pool-common.js';
import { runMaxPoolBackward, runMaxPoolForward } from '../kernels/pool-max.js';
import { runAvgPoolBackward, runAvgPoolForward } from '../kernels/pool-avg.js';
import { expectFloat } from './checks.js';
import { reshape } from './shape.js';
import type { IntPair } from './conv.js';

export interface PoolOptions {
  kernelSize: IntPair;
  /** Defaults to the kernel size, as in PyTorch. */
  stride?: IntPair;
  padding?: IntPair;
}

/**
 * Maximum over each window (nn.MaxPool2d, ceil_mode=False). When backward will run, the forward
 * also keeps where each maximum came from (int32 indices, as `return_indices=True` gives), and
 * backward routes dy there; otherwise no indices are made.
 */
export function maxPool2d(x: Tensor, options: PoolOptions): Tensor {
  const { sizes, window } = poolGeometry('maxPool2d', x, options);
  const recording = isGradEnabled() && x.requiresGrad;
  const { y, indices } = runMaxPoolForward(x, sizes, window, recording);
  if (!indices) return y;
  record('maxPool2d', y, [x], [indices], (dy, [saved]) => [runMaxPoolBackward(dy, saved!, x.shape, sizes, window)]);
  indices.dispose(); // the graph holds its own handle
  return y;
}

/** Mean over each window, padding counted in the divisor (nn.AvgPool2d's count_include_pad=True). */
export function avgPool2d(x: Tensor, options: PoolOptions): Tensor {
  const { sizes, window } = poolGeometry('avgPool2d', x, options);
  const y = runAvgPoolForward('avg', x, sizes, window);
  return record('avgPool2d', y, [x], [], (dy) => [runAvgPoolBackward('avg', dy, x.shape, sizes, window)]);
}

/**
 * Mean over adaptive windows to a fixed output size (nn.AdaptiveAvgPool2d): output row o
 * averages input rows floor(o·H/OH) .. ceil((o+1)·H/OH) − 1, so any input size works, smaller
 * than the output included (VGG's (7, 7) on a 2×2 map repeats each value), and (1, 1) is a
 * global average (ResNet).
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntPair): Tensor {
  expectFloat('adaptiveAvgPool2d', x);
  const [outH, outW] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const shape = `[${x.shape.join(', ')}]`;
  if (x.ndim !== 4) throw new ShapeError(`adaptiveAvgPool2d: expected a 4-D input [N, C, H, W], got '${x.name}' of shape ${shape}`);
  if (![outH, outW].every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError(`adaptiveAvgPool2d: output size (${outH}, ${outW}) must be positive integers`);
  const [n, c, inH, inW] = x.shape as [number, number, number, number];
  if (inH < 1 || inW < 1) throw new ShapeError(`adaptiveAvgPool2d: input ${shape} has no pixels`);
  // To its own size each window is one pixel: the input itself, as a view (torchvision's VGG16 at
  // 224x224, whose features end at 7x7; the small VGG's 4x4), with no kernel either way.
  if (outH === inH && outW === inW) return reshape(x, x.shape);
  const sizes: PoolSizes = { planes: n * c, inH, inW, outH, outW };
  // No window: it follows from the sizes alone.
  const y = runAvgPoolForward('adaptive_avg', x, sizes, null);
  return record('adaptiveAvgPool2d', y, [x], [], (dy) => [runAvgPoolBackward('adaptive_avg', dy, x.shape, sizes, null)]);
}

function pairOf(value: IntPair): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
}

function poolGeometry(op: string, x: Tensor, options: PoolOptions): { sizes: PoolSizes; window: PoolWindow } {
  expectFloat(op, x);
  const shape = `[${x.shape.join(', ')}]`;
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 4-D input [N, C, H, W], got '${x.name}' of shape ${shape}`);
  const kernel = pairOf(options.kernelSize);
  const stride = pairOf(options.stride ?? options.kernelSize);
  const padding = pairOf(options.padding ?? 0);
  const positive = (v: number) => Number.isInteger(v) && v >= 1;
  if (![...kernel, ...stride].every(positive)) throw new ShapeError(`${op}: kernel size (${kernel}) and stride (${stride}) must be positive integers`);
  if (!padding.every((p, i) => Number.isInteger(p) && p >= 0 && p <= kernel[i]! / 2)) {
    throw new ShapeError(`${op}: padding (${padding}) must be between 0 and half the kernel size (${kernel})`);
  }
  const [n, c, inH, inW] = x.shape as [number, number, number, number];
  const outH = Math.floor((inH + 2 * padding[0] - kernel[0]) / stride[0]) + 1;
  const outW = Math.floor((inW + 2 * padding[1] - kernel[1]) / stride[1]) + 1;
  if (outH < 1 || outW < 1) {
    throw new ShapeError(
      `${op}: the ${kernel[0]}x${kernel[1]} window is larger than the padded input ${inH + 2 * padding[0]}x${inW + 2 * padding[1]} (input ${shape}, padding ${padding.join('x')})`,
    );
  }
  return { sizes: { planes: n * c, inH, inW, outH, outW }, window: { kernel, stride, padding } };
}
