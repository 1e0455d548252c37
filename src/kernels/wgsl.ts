// WGSL fragments shared by several kernels. Each is a plain string spliced into a kernel's source.

import { unroll } from './conv2d-common.js';

/** Invocations per workgroup for 1-D element-wise kernels (fits every adapter's 256 limit). */
export const WORKGROUP_1D = 64;

/**
 * The linear invocation index of a 1-D launch whose workgroups may have been folded into y and z
 * (WebGPU allows at most 65,535 workgroups per dimension; see runtime/workgroups.ts).
 */
export const linearIndex = /* wgsl */ `
fn linear_index(wg: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
  let group = wg.x + (wg.y + wg.z * groups.y) * groups.x;
  return group * ${WORKGROUP_1D}u + local;
}`;

/**
 * The stride of a grid-stride loop: every invocation of the launch, however it was folded.
 * `for (var i = linear_index(...); i < n; i += grid_stride(groups))` covers n elements with any
 * number of workgroups (see `groupsFor1d` in launch.ts for why fewer can be better).
 */
export const gridStride = /* wgsl */ `
fn grid_stride(groups: vec3<u32>) -> u32 {
  return groups.x * groups.y * groups.z * ${WORKGROUP_1D}u;
}`;

/** The entry point signature of a 1-D kernel; the body reads its element index as `i`. */
export const entry1d = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP_1D})
fn main(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) local: u32)`;

/** Up to 8 dimensions of shape or strides, packed as uniforms must be (16-byte array elements). */
export const MAX_DIMS = 8;
export const dimsType = 'array<vec4<u32>, 2>';

/**
 * WGSL: true where every condition holds, as `(a) & (b) & ...`. `&&` short-circuits, so each one
 * is a branch in the compiled code; these conditions are comparisons with nothing to skip, and in
 * the unrolled index arithmetic of the convolutions the branches cost SwiftShader's compiler a
 * quarter of its time on the blocked kernels and made a tiled one take over 90 s instead of 1.8
 * (bench/README.md, "Compiling the kernels").
 */
export function allOf(...conditions: string[]): string {
  return conditions.map((c) => `(${c})`).join(' & ');
}

/** The lowest finite f32, the identity of max(). (3.4028235e38 itself rounds past f32's range.) */
export const F32_LOWEST = '-3.40282346e38';

/**
 * vec4s per row of a tile in workgroup memory that is filled column by column (consecutive
 * invocations write the same column of consecutive rows): the row's `floats` values and one vec4
 * of padding. Rows of 64 or 128 floats are a multiple of the 32 banks, so without the padding
 * the 16 invocations writing one column would all hit the same bank.
 */
export function paddedRowQuads(floats: number): number {
  return floats / 4 + 1;
}

/**
 * The tiled GPU kernels' workgroups are 16×16 invocations, invocation (x, y) owning the quads
 * y + 16·i of the tile's rows and x + 16·j of its columns: a row of 16 invocations reads 16
 * adjacent vec4s of either operand, so no two hit the same bank.
 *
 * `ownedIndex('y', o)` is the tile row of an invocation's o-th row (0 ≤ o < 4 · quads).
 */
export function ownedIndex(axis: 'x' | 'y', o: number): string {
  return `(local.${axis} + ${16 * (o >> 2)}u) * 4u + ${o & 3}u`;
}

/** acc[...] of an invocation's o-th row and q-th column, for `bQuads` column quads. */
export function ownedAcc(o: number, q: number, bQuads: number): string {
  return `acc[${o * bQuads + (q >> 2)}][${q & 3}]`;
}

export interface StagedOperand {
  /** The workgroup array, rows k of vec4s. */
  tile: string;
  /** vec4s per row (a WGSL expression). */
  row: string;
  /** vec4s of it each invocation owns. */
  quads: number;
}

/**
 * Step k of the product: each invocation loads its row quads of `a` and column quads of `b` and
 * adds their outer product into `acc` (array<vec4<f32>, 4 · a.quads · b.quads>, indexed as
 * `ownedAcc`).
 */
export function quadOuterProduct(a: StagedOperand, b: StagedOperand): string {
  return [
    unroll(a.quads, (i) => `let a${i} = ${a.tile}[k * ${a.row} + local.y + ${16 * i}u];`, ' '),
    unroll(b.quads, (j) => `let b${j} = ${b.tile}[k * ${b.row} + local.x + ${16 * j}u];`, ' '),
    unroll(4 * a.quads, (o) => unroll(b.quads, (j) => `acc[${o * b.quads + j}] = fma(vec4<f32>(a${o >> 2}[${o & 3}]), b${j}, acc[${o * b.quads + j}]);`, ' '), '\n      '),
  ].join('\n      ');
}
