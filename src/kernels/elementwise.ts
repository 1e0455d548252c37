import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { bindingChunks, groupsFor1d, launch } from './launch.js';
import { MAX_DIMS, WORKGROUP_1D, dimsType, entry1d, gridStride, linearIndex } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Element-wise kernels. Each operation is one WGSL expression over `a` (and `b`, and the scalar
 * `p.alpha`); the kernel around it is shared, so adding an operation means adding a row here.
 */
export const UNARY = {
  neg: '-a',
  exp: 'exp(a)',
  log: 'log(a)',
  sqrt: 'sqrt(a)',
  abs: 'abs(a)',
  relu: 'max(a, 0.0)',
  sigmoid: '1.0 / (1.0 + exp(-a))',
  // tanh through exp(-2|a|), which cannot overflow, and the sign put back.
  tanh: 'sign(a) * (1.0 - exp(-2.0 * abs(a))) / (1.0 + exp(-2.0 * abs(a)))',
  scale: 'a * p.alpha',
  add_scalar: 'a + p.alpha',
  // Real powers of negative numbers are undefined; integer powers keep their sign.
  pow_scalar: 'signed_pow(a, p.alpha)',
  fill: 'p.alpha',
} as const;

export const BINARY = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  maximum: 'max(a, b)',
  /** relu's gradient: a = upstream gradient, b = relu's input. */
  relu_backward: 'select(0.0, a, b > 0.0)',
  /** a + alpha * b, the update step of several optimizers. */
  add_scaled: 'a + p.alpha * b',
  /** 1 where a equals b: routes max's gradient to the maxima. */
  equal_mask: 'select(0.0, 1.0, a == b)',
  /** alpha * a, broadcast to the output shape (b is ignored): see runExpand. */
  expand_scaled: 'p.alpha * a',
} as const;

export type UnaryOp = keyof typeof UNARY;
export type BinaryOp = keyof typeof BINARY;

const helpers = /* wgsl */ `
fn signed_pow(a: f32, e: f32) -> f32 {
  let magnitude = pow(abs(a), e);
  let odd_integer = e == round(e) && (i32(abs(e)) % 2) == 1;
  return select(magnitude, -magnitude, a < 0.0 && odd_integer);
}`;

const unarySource = cached(buildUnarySource);
function buildUnarySource(op: UnaryOp) {
  return {
    name: `unary.${op}`,
    code: /* wgsl */ `
struct Params { size: u32, alpha: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${helpers}
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    let a = x[i];
    y[i] = ${UNARY[op]};
  }
}`,
  };
}

/** y = op(x), element by element; tensors larger than one binding are processed in slices. */
export function runUnary(op: UnaryOp, x: Tensor, alpha = 0, out?: Tensor): Tensor {
  const y = out ?? Tensor.empty(x.ctx, x.shape, 'float32');
  for (const { offset, count } of bindingChunks(x.ctx, x.size)) {
    launch(x.ctx, unarySource(op), {
      buffers: { x: { tensor: x, offset, count }, y: { tensor: y, offset, count } },
      uniforms: { size: count, alpha },
      workgroups: groupsFor1d(x.ctx, count, WORKGROUP_1D),
    });
  }
  return y;
}

/**
 * How operand elements are found for an output element:
 *   same: both operands have the output's shape (no index arithmetic),
 *   scalar_b: b holds one value,
 *   broadcast: NumPy broadcasting through per-dimension strides (0 along broadcast dimensions).
 */
type Indexing = 'same' | 'scalar_b' | 'broadcast';

const INDEXING: Record<Indexing, string> = {
  same: 'let ia = i; let ib = i;',
  scalar_b: 'let ia = i; let ib = 0u;',
  broadcast: /* wgsl */ `
  var ia = 0u;
  var ib = 0u;
  var rest = i;
  for (var d = i32(p.ndim) - 1; d >= 0; d--) {
    let extent = p.shape[d / 4][d % 4];
    let coord = rest % extent;
    rest = rest / extent;
    ia += coord * p.a_strides[d / 4][d % 4];
    ib += coord * p.b_strides[d / 4][d % 4];
  }`,
};

const binarySource = cached(buildBinarySource);
/**
 * In place (`inPlace`), a's buffer is the output: bound once, read_write, since WebGPU refuses one
 * buffer bound both read-only and writable in a dispatch.
 */
function buildBinarySource(op: BinaryOp, indexing: Indexing, inPlace = false) {
  const a = inPlace ? 'y' : 'x';
  return {
    name: `binary.${op}${indexing === 'same' ? '' : `.${indexing}`}${inPlace ? '.in_place' : ''}`,
    code: /* wgsl */ `
struct Params { size: u32, ndim: u32, alpha: f32, shape: ${dimsType}, a_strides: ${dimsType}, b_strides: ${dimsType} }
${inPlace ? '' : '@group(0) @binding(0) var<storage, read> x: array<f32>;'}
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${linearIndex}
${gridStride}
${entry1d} {
  for (var i = linear_index(wg, groups, local); i < p.size; i += grid_stride(groups)) {
    ${INDEXING[indexing]}
    let a = ${a}[ia];
    let b = z[ib];
    y[i] = ${BINARY[op]};
  }
}`,
  };
}

/** The output shape of broadcasting `a` with `b`, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const ndim = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < ndim; i++) {
    const da = a[a.length - ndim + i] ?? 1;
    const db = b[b.length - ndim + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Strides of `shape` read as if broadcast to `outShape` (0 along broadcast dimensions). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = outShape.length - shape.length + i;
    strides[d] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** y = a op b with broadcasting; `outShape` must be broadcastShape(a, b). */
export function runBinary(op: BinaryOp, a: Tensor, b: Tensor, outShape: readonly number[], alpha = 0, out?: Tensor): Tensor {
  const ctx: GpuContext = a.ctx;
  const y = out ?? Tensor.empty(ctx, outShape, 'float32');
  const size = y.size;
  const sameShape = a.size === size && b.size === size;
  if (sameShape || (a.size === size && b.size === 1)) {
    const indexing: Indexing = sameShape ? 'same' : 'scalar_b';
    for (const { offset, count } of bindingChunks(ctx, size)) {
      launch(ctx, binarySource(op, indexing), {
        buffers: {
          x: { tensor: a, offset, count },
          z: indexing === 'same' ? { tensor: b, offset, count } : b,
          y: { tensor: y, offset, count },
        },
        uniforms: { size: count, ndim: 0, alpha, shape: [], a_strides: [], b_strides: [] },
        workgroups: groupsFor1d(ctx, count, WORKGROUP_1D),
      });
    }
    return y;
  }
  if (outShape.length > MAX_DIMS) throw new Error(`broadcasting supports up to ${MAX_DIMS} dimensions, got ${outShape.length}`);
  launch(ctx, binarySource(op, 'broadcast'), {
    buffers: { x: a, z: b, y },
    uniforms: {
      size,
      ndim: outShape.length,
      alpha,
      shape: outShape,
      a_strides: broadcastStrides(a.shape, outShape),
      b_strides: broadcastStrides(b.shape, outShape),
    },
    workgroups: groupsFor1d(ctx, size, WORKGROUP_1D),
  });
  return y;
}

/**
 * a = a op b for operands of one shape, written over a's memory: for a backward rule that owns
 * its incoming gradient (see relu), one activation-sized buffer fewer.
 */
export function runBinaryInPlace(op: BinaryOp, a: Tensor, b: Tensor): void {
  if (a.size !== b.size) throw new Error(`binary ${op} in place: operands of ${a.size} and ${b.size} elements`);
  for (const { offset, count } of bindingChunks(a.ctx, a.size)) {
    launch(a.ctx, binarySource(op, 'same', true), {
      buffers: { z: { tensor: b, offset, count }, y: { tensor: a, offset, count } },
      uniforms: { size: count, ndim: 0, alpha: 0, shape: [], a_strides: [], b_strides: [] },
      workgroups: groupsFor1d(a.ctx, count, WORKGROUP_1D),
    });
  }
}

/** Broadcasts `x` to `shape`, times `scale` (a reduction's gradient spread back over its axes). */
export function runExpand(x: Tensor, shape: readonly number[], scale = 1): Tensor {
  return runBinary('expand_scaled', x, x, shape, scale);
}
