import { randomBelow } from './random.js';

/**
 * A seeded permutation of 0..n-1 (Fisher-Yates, from the last position down): position i swaps
 * with j = randomBelow(seed, stream, index = i, bound = i + 1). Same (n, seed, stream), same order.
 */
export function seededPermutation(n: number, seed: number, stream: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(seed, stream, i, i + 1);
    const held = order[i]!;
    order[i] = order[j]!;
    order[j] = held;
  }
  return order;
}
