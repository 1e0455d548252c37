import { Tensor } from '../autograd/tensor.js';
import { bindingChunks, groupsFor, launch } from './launch.js';
import { WORKGROUP_1D, entry1d, linearIndex } from './wgsl.js';

/**
 * Threefry-2x32-20 in WGSL, word for word the generator of src/data/random.ts (which documents
 * the algorithm and its known answers): a pure function of (key, counter), so a mask needs no
 * random buffer, no state and no upload, and the CPU can recompute any element of it.
 */
export const threefryWgsl = /* wgsl */ `
fn rotl(x: u32, r: u32) -> u32 { return (x << r) | (x >> (32u - r)); }
fn threefry2x32(key: vec2<u32>, counter: vec2<u32>) -> vec2<u32> {
  var ks = array<u32, 3>(key.x, key.y, 0x1BD11BDAu ^ key.x ^ key.y);
  var rotations = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
  var x0 = counter.x + ks[0];
  var x1 = counter.y + ks[1];
  for (var group = 1u; group <= 5u; group++) {
    for (var r = 0u; r < 4u; r++) {
      x0 += x1;
      x1 = rotl(x1, rotations[((group - 1u) % 2u) * 4u + r]) ^ x0;
    }
    x0 += ks[group % 3u];
    x1 += ks[(group + 1u) % 3u] + group;
  }
  return vec2<u32>(x0, x1);
}`;

/**
 * The second counter word of every dropout draw ("DROP"), so that dropout's numbers never
 * coincide with the data pipeline's, which use small block numbers with the same generator.
 */
export const DROPOUT_BLOCK = 0x44524f50;

/**
 * Element i is kept when the top 24 bits of threefry((seed, step), (i, DROPOUT_BLOCK)).x reach
 * `threshold` = round(p·2^24): an integer comparison, so the CPU reproduces the mask exactly.
 * The same kernel applied to the upstream gradient with the same (seed, step) is the backward.
 */
const source = {
  name: 'dropout',
  code: /* wgsl */ `
struct Params { size: u32, offset: u32, seed: u32, step: u32, threshold: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${threefryWgsl}
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.size) { return; }
  let word = threefry2x32(vec2<u32>(p.seed, p.step), vec2<u32>(p.offset + i, ${DROPOUT_BLOCK}u)).x;
  y[i] = select(0.0, x[i] * p.scale, (word >> 8u) >= p.threshold);
}`,
};

/** round(p·2^24): elements whose 24-bit draw is below it are dropped. */
export function dropThreshold(p: number): number {
  return Math.round(p * 2 ** 24);
}

/** y = mask ⊙ x / (1 − p), the mask drawn from (seed, step); in slices for large tensors. */
export function runDropout(x: Tensor, p: number, seed: number, step: number): Tensor {
  const y = Tensor.empty(x.ctx, x.shape, 'float32');
  const scale = p < 1 ? 1 / (1 - p) : 0;
  for (const { offset, count } of bindingChunks(x.ctx, x.size)) {
    launch(x.ctx, source, {
      buffers: { x: { tensor: x, offset, count }, y: { tensor: y, offset, count } },
      uniforms: { size: count, offset, seed, step, threshold: dropThreshold(p), scale },
      workgroups: groupsFor(count, WORKGROUP_1D),
    });
  }
  return y;
}
