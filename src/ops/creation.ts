import { Tensor, shapeSize, type DType } from '../autograd/tensor.js';
import { getDefaultContext, type GpuContext } from '../runtime/context.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
  ctx?: GpuContext;
}

/** A tensor holding `data` (row-major) with the given shape. */
export function tensor(data: ArrayLike<number>, shape: readonly number[], options: CreateOptions = {}): Tensor {
  const t = Tensor.fromData(options.ctx ?? getDefaultContext(), data, shape, options.dtype ?? 'float32', options.name);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  const t = Tensor.zeros(options.ctx ?? getDefaultContext(), shape, options.dtype ?? 'float32', options.name);
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  if (value === 0) return zeros(shape, options);
  return tensor(new Float32Array(shapeSize(shape)).fill(value), shape, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

/**
 * Standard-normal values from a seeded generator (Box-Muller over mulberry32), made on the CPU:
 * initialisation happens once, and a seed makes every run reproducible.
 */
export function randn(shape: readonly number[], seed: number, options: CreateOptions & { std?: number; mean?: number } = {}): Tensor {
  const values = normalValues(shapeSize(shape), seed, options.mean ?? 0, options.std ?? 1);
  return tensor(values, shape, options);
}

/** Uniform values in [low, high) from a seeded generator. */
export function rand(shape: readonly number[], seed: number, options: CreateOptions & { low?: number; high?: number } = {}): Tensor {
  const next = mulberry32(seed);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const values = new Float32Array(shapeSize(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * next();
  return tensor(values, shape, options);
}

export function normalValues(count: number, seed: number, mean = 0, std = 1): Float32Array {
  const next = mulberry32(seed);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u1 = Math.max(next(), 1e-12);
    const u2 = next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    values[i] = mean + std * radius * Math.cos(2 * Math.PI * u2);
    if (i + 1 < count) values[i + 1] = mean + std * radius * Math.sin(2 * Math.PI * u2);
  }
  return values;
}

/** A small, fast, seeded 32-bit generator returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
