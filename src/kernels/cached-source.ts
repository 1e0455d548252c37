/**
 * Kernel sources are generated from parameters: an op, a variant, a layer's shape. Building the
 * WGSL text again on every dispatch was most of the host time of a training step (0.5-1 ms per
 * convolution dispatch on a 2-core machine, for the unrolled kernels), and every fresh string
 * made the pipeline cache hash the whole text again. `cached(build)` builds each distinct list of
 * arguments once and hands back the same object afterwards, which the pipeline cache recognises
 * without reading its text (runtime/pipelines.ts).
 *
 * The arguments must be plain data (JSON gives the key): numbers, strings, booleans, and plain
 * objects or arrays of them.
 */
export function cached<A extends readonly unknown[], R extends object>(build: (...args: A) => R): (...args: A) => R {
  const built = new Map<string, R>();
  return (...args: A): R => {
    const key = JSON.stringify(args);
    let result = built.get(key);
    if (result === undefined) {
      result = build(...args);
      built.set(key, result);
    }
    return result;
  };
}
