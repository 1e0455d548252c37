/**
 * PyTorch's parameter initialisations (torch.nn.init), seeded and computed on the CPU: they run
 * once per model, and a seed makes every run reproducible.
 *
 * Randomness comes from one current generator, as in PyTorch (`torch.manual_seed`), so layer
 * constructors need no generator argument: `manualSeed(s)` restarts it, `withSeed(s, fn)` builds
 * something from a seed and restores the previous generator afterwards.
 */
import type { Tensor } from '../autograd/tensor.js';
import { mulberry32, normalValues } from '../ops/creation.js';

let generator = mulberry32(0);
let skipping = 0;

export function manualSeed(seed: number): void {
  generator = mulberry32(seed);
}

/** Runs `fn` with a generator seeded by `seed`, then puts the previous generator back. */
export function withSeed<T>(seed: number | undefined, fn: () => T): T {
  if (seed === undefined) return fn();
  const previous = generator;
  generator = mulberry32(seed);
  try {
    return fn();
  } finally {
    generator = previous;
  }
}

/**
 * Runs `fn` with every initialisation below turned into a no-op (like Hugging Face's
 * `no_init_weights`): for a model whose tensors are all about to be loaded from a file, or that
 * is built only to list its state-dict names and shapes. Its tensors hold whatever the buffer
 * pool handed out until something is loaded into them.
 */
export function skipInit<T>(fn: () => T): T {
  skipping++;
  try {
    return fn();
  } finally {
    skipping--;
  }
}

export function isInitSkipped(): boolean {
  return skipping > 0;
}

/** A 32-bit seed drawn from the current generator (for a layer's own random stream, e.g. dropout). */
export function drawSeed(): number {
  return Math.floor(generator() * 2 ** 32) >>> 0;
}

/**
 * fan_in and fan_out as torch.nn.init computes them: weights are [out, in, ...kernel], and the
 * kernel's size multiplies both (grouped convolutions store in/groups as `in`).
 */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan in/out needs a weight of 2 or more dimensions, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** The recommended gain for a non-linearity (torch.nn.init.calculate_gain). */
export function gain(nonlinearity: 'relu' | 'leaky_relu' | 'linear', negativeSlope = 0.01): number {
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'leaky_relu') return Math.sqrt(2 / (1 + negativeSlope ** 2));
  return 1;
}

export function uniform_(t: Tensor, low: number, high: number): Tensor {
  if (skipping) return t;
  const values = new Float32Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * generator();
  return upload(t, values);
}

export function normal_(t: Tensor, mean: number, std: number): Tensor {
  if (skipping) return t;
  return upload(t, normalValues(t.size, drawSeed(), mean, std));
}

export function constant_(t: Tensor, value: number): Tensor {
  if (skipping) return t;
  return upload(t, new Float32Array(t.size).fill(value));
}

/**
 * kaiming_uniform_: U(-b, b) with b = gain · √(3 / fan). With a = √5 (leaky_relu) this is what
 * nn.Linear and nn.Conv2d use by default: b = 1/√fan_in.
 */
export function kaimingUniform_(t: Tensor, options: { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu' } = {}): Tensor {
  const fan = fans(t.shape)[options.mode === 'fan_out' ? 'fanOut' : 'fanIn'];
  const bound = gain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) * Math.sqrt(3 / fan);
  return uniform_(t, -bound, bound);
}

/** kaiming_normal_: N(0, (gain / √fan)²); torchvision's VGG and ResNet use mode fan_out, relu. */
export function kaimingNormal_(t: Tensor, options: { mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu'; a?: number } = {}): Tensor {
  const fan = fans(t.shape)[options.mode === 'fan_out' ? 'fanOut' : 'fanIn'];
  return normal_(t, 0, gain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan));
}

function upload(t: Tensor, values: Float32Array): Tensor {
  if (values.length > 0) t.ctx.recorder.write(t.buffer, 0, values);
  return t;
}
