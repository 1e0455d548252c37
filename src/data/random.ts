import { OptionRangeError } from '../runtime/errors.js';

/**
 * The data side's random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011; the generator JAX uses), a counter-based generator.
 *
 * Counter-based means there is no state: a draw is a pure function of (seed, stream, index, block),
 * so the CPU (split, shuffling) and the GPU augmentation kernels (one invocation per sample) get the
 * same numbers without sharing anything but the seed. Threefry needs only 32-bit additions, xors and
 * rotations, which WGSL has exactly (no 64-bit integers, no 32x32->64 multiply as Philox needs).
 *
 * The exact algorithm, for a port:
 *
 *   key     = (k0, k1) = (seed, stream)            all words u32, additions wrap mod 2^32
 *   counter = (x0, x1) = (index, block)
 *   k2 = 0x1BD11BDA ^ k0 ^ k1;  ks = [k0, k1, k2]
 *   x0 += ks[0];  x1 += ks[1]
 *   for group g in 1..5:                            (5 groups of 4 rounds = 20 rounds)
 *     for r in ROTATIONS[(g - 1) % 2]:              ([13, 15, 26, 6] then [17, 29, 16, 24])
 *       x0 += x1;  x1 = rotl(x1, r);  x1 ^= x0
 *     x0 += ks[g % 3];  x1 += ks[(g + 1) % 3] + g
 *   output (x0, x1)
 *
 * Known answers (Random123 kat_vectors): key (0x13198a2e, 0x03707344), counter (0x243f6a88,
 * 0x85a308d3) gives (0xc4923a9c, 0x483df7a0); all zeros gives (0x6b200159, 0x99ba4efe).
 *
 * A uniform float takes the top 24 bits of one output word: u = (word >> 8) * 2^-24, in [0, 1).
 * It is exact in f32, so `f32(word >> 8u) * 5.9604644775390625e-8` in WGSL gives the same value
 * bit for bit. Draw k of a sample comes from block floor(k / 2), word k % 2.
 *
 * Streams separate the uses of one seed: stream = (purpose << 24) | sub, see `randomStream`.
 */

const KEY_PARITY = 0x1bd11bda;
const ROTATIONS = [
  [13, 15, 26, 6],
  [17, 29, 16, 24],
] as const;

/** What a stream of random numbers is for; the code is the stream's top byte. */
export const RandomPurpose = {
  /** The train/validation split; sub = class index. */
  split: 1,
  /** The order of samples in an epoch; sub = epoch. */
  shuffle: 2,
  /** Per-sample augmentation parameters on the GPU; sub = epoch. */
  augment: 3,
} as const;
export type RandomPurpose = keyof typeof RandomPurpose;

const rotl = (x: number, r: number): number => ((x << r) | (x >>> (32 - r))) >>> 0;

/** The Threefry-2x32-20 block function: two u32 outputs for a two-word key and counter. */
export function threefry2x32(
  key0: number,
  key1: number,
  counter0: number,
  counter1: number,
): [number, number] {
  const ks = [key0 >>> 0, key1 >>> 0, (KEY_PARITY ^ key0 ^ key1) >>> 0];
  let x0 = (counter0 + ks[0]!) >>> 0;
  let x1 = (counter1 + ks[1]!) >>> 0;
  for (let group = 1; group <= 5; group++) {
    for (const r of ROTATIONS[(group - 1) % 2]!) {
      x0 = (x0 + x1) >>> 0;
      x1 = (rotl(x1, r) ^ x0) >>> 0;
    }
    x0 = (x0 + ks[group % 3]!) >>> 0;
    x1 = (x1 + ks[(group + 1) % 3]! + group) >>> 0;
  }
  return [x0, x1];
}

function assertU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new OptionRangeError(`${name} must be an integer in [0, 2^32), got ${value}`);
  }
}

/** The stream id for a purpose: purpose code in the top byte, `sub` (< 2^24) below it. */
export function randomStream(purpose: RandomPurpose, sub = 0): number {
  if (!Number.isInteger(sub) || sub < 0 || sub >= 1 << 24) {
    throw new RangeError(`stream sub-index must be an integer in [0, 2^24), got ${sub}`);
  }
  return ((RandomPurpose[purpose] << 24) | sub) >>> 0;
}

/** Two random u32 words for (seed, stream, index, block). */
export function randomWords(seed: number, stream: number, index: number, block = 0): [number, number] {
  assertU32('seed', seed);
  assertU32('stream', stream);
  assertU32('index', index);
  assertU32('block', block);
  return threefry2x32(seed, stream, index, block);
}

/** Uniform float in [0, 1): draw number `draw` (0, 1, 2...) for sample `index` of `stream`. */
export function uniformFloat(seed: number, stream: number, index: number, draw = 0): number {
  const words = randomWords(seed, stream, index, Math.floor(draw / 2));
  return (words[draw % 2]! >>> 8) * 2 ** -24;
}

/**
 * Uniform integer in [0, bound): a 53-bit fraction from both words of a block, scaled. The bias is
 * below bound / 2^53, far under anything a dataset index could show. CPU-side only (shuffling).
 */
export function randomBelow(seed: number, stream: number, index: number, bound: number, block = 0): number {
  if (!Number.isSafeInteger(bound) || bound < 1) throw new RangeError(`bound must be a positive integer, got ${bound}`);
  const [high, low] = randomWords(seed, stream, index, block);
  const fraction = (high * 2 ** 21 + (low >>> 11)) * 2 ** -53;
  return Math.floor(fraction * bound);
}
