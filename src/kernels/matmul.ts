import type { GpuContext, KernelTarget } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { BindingLimitError, ShapeError } from '../runtime/errors.js';
import { groupsFor, launch, rowChunks, type Binding } from './launch.js';
import { entry1d, linearIndex, paddedRowQuads, quadOuterProduct, WORKGROUP_1D } from './wgsl.js';
import { cached } from './cached-source.js';

/**
 * Batched GEMM: C[b] = op(A[b]) · op(B[b]) (+ bias) (+ C[b] when accumulating), where op() is an
 * optional transpose read straight from the untransposed storage (no copy), BLAS-style: every
 * operand has an offset and a leading dimension, so a slice of a larger matrix is just numbers.
 *
 * Three kernels, chosen per adapter and shape by `planGemm`:
 *   simple  - one output per invocation: the reference, for tiny products.
 *   blocked - a workgroup of 8 invocations shares ROWS rows of C; each invocation holds ROWS x 8
 *             outputs in registers. No workgroup memory, no barriers, and A's loads are the same
 *             for the whole workgroup: what wins on CPU adapters (lavapipe, SwiftShader).
 *   tiled   - 64x64 tiles staged through workgroup memory, 4x4 outputs per invocation: the
 *             classic GPU kernel, which cuts global memory traffic 16-fold.
 *   skinny  - products of at most 8 rows (a linear layer at batch 1-8): reads B once, along its
 *             contiguous dimension, and computes no row that is not there. On GPUs for either
 *             B; on CPU adapters for a transposed B (x·Wᵀ), laid out for SIMD lanes.
 * Any of them can also split K across workgroups (split-K): each workgroup sums a range of K into
 * a partial product and a small second pass adds the partials. That gives a GPU enough
 * workgroups for the fully connected layers' tall-skinny products (M = batch, K = 25088).
 */
export type MatmulVariant = 'simple' | 'blocked' | 'tiled' | 'skinny';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  /** Added to every row of the result (length N): a linear layer's bias. */
  bias?: Tensor;
  /** Accumulate into this tensor instead of allocating a new result. */
  accumulateInto?: Tensor;
  /** Force a kernel (tests, benchmarks); by default `planGemm` chooses. */
  variant?: MatmulVariant;
  /** Force the number of K ranges summed by separate workgroups (1: no split-K). */
  splitK?: number;
}

/** How one product runs: which kernel, how many rows per workgroup (blocked), how many K ranges. */
export interface GemmPlan {
  variant: MatmulVariant;
  /** Rows of C per workgroup of the blocked and skinny kernels (see `rowsFor`). */
  rows: BlockRows;
  splitK: number;
}

export type BlockRows = 1 | 2 | 4 | 8 | 16;

/**
 * The one place that picks a plan, per adapter and shape. Measured with bench/matmul.ts on the
 * project's 2-core x86-64 (AVX-512) machine, lavapipe (Mesa 25.0.7) and SwiftShader 5.0.0, in the
 * same process as tfjs-backend-webgpu 4.22 (see the table in bench/matmul.ts's header):
 *   - CPU adapters: 'blocked' beats 'simple' (3-15x) and 'tiled' (1.6-16x: barriers are
 *     expensive on CPU drivers) on every shape measured, and tfjs by 1.4-2.2x at 256-1024^3 (lavapipe)
 *     and 1.4-2.0x (SwiftShader). ROWS=16 beats 8 and 4 when M allows it (each per-lane load
 *     of B feeds ROWS multiply-adds); smaller M gets fewer rows, so no row is wasted.
 *     Split-K pays in one case (CPU_SPLIT_K_ROWS): a few rows of C and long rows of a plain B,
 *     a linear layer's input gradient dy·W at batch 1-4; for the rest, on lavapipe fc6/fc7 at
 *     batch 4 and 32 ran between -20% and +27% with K in 8 ranges, within run-to-run noise.
 *     A linear layer's x·Wᵀ at batch 1-8 (K 4-aligned, at least 256) runs the skinny kernel's
 *     CPU layout (SKINNY_LAYOUT): at batch 4, fc6 5.83 against 4.22 GFLOP/s and fc7 5.38
 *     against 3.94 on a quiet lavapipe (3.12 against 2.44 and 3.63 against 2.30 loaded), fc7
 *     0.33 against 0.25 on SwiftShader; at batch 1, 2 and 8 level with the blocked kernel on
 *     lavapipe (fc7: 27, 31, 64-73 ms against 27-30, 28-33, 55-97).
 *   - GPUs: 'tiled' is the textbook choice; 'blocked' would leave most of each 32-wide warp
 *     idle (8 invocations per workgroup). Tall-skinny products get split-K so that a GPU has
 *     several hundred workgroups instead of N/64 (64 for VGG16's FC layers). Products of at
 *     most 8 rows get 'skinny': on an H200 (bench/reports/h200-2026-11-27) the tiled kernel ran
 *     VGG16's fc6 at batch 4 at 172-289 GFLOP/s, its 411 MB weight read at 86-147 GB/s of the
 *     GPU's 4.8 TB/s, slower than tfjs; PyTorch ran it at 3.1 TFLOP/s. The skinny kernel is
 *     not yet measured on a GPU (bench/gpu/run-gpu.sh's kernel table has the row).
 *   - tiny products (at most 64 outputs and K <= 64) use 'simple': they are launch-bound, and
 *     the blocked kernel costs seconds of shader compilation on lavapipe for nothing.
 */
export function planGemm(ctx: GpuContext, M: number, N: number, K: number, batch: number, transB = false): GemmPlan {
  if (M * N <= 64 && K <= 64) return { variant: 'simple', rows: rowsFor('simple', M), splitK: 1 };
  if (ctx.kernelTarget === 'cpu') {
    const skinny = M <= SKINNY_MAX_ROWS && transB && K % 4 === 0 && K >= SKINNY_CPU_MIN_K;
    if (skinny) return { variant: 'skinny', rows: rowsFor('skinny', M), splitK: 1 };
    const longRows = !transB && M <= CPU_SPLIT_MAX_ROWS && N * 4 >= CPU_SPLIT_MIN_ROW_BYTES;
    return { variant: 'blocked', rows: rowsFor('blocked', M), splitK: longRows && batch === 1 ? Math.max(1, Math.floor(K / CPU_SPLIT_K_ROWS)) : 1 };
  }
  if (M <= SKINNY_MAX_ROWS) {
    // Enough invocations to keep a large GPU's memory busy, each range at least a full pass of a
    // workgroup's invocations over K.
    const [invocations, minK] = transB ? [Math.ceil(N / SKINNY_COLUMNS) * 32 * SKINNY_COLUMNS, 4 * 32] : [Math.ceil(N / 4), 32];
    const wanted = batch === 1 ? Math.ceil(SKINNY_TARGET_INVOCATIONS / invocations) : 1;
    return { variant: 'skinny', rows: rowsFor('skinny', M), splitK: Math.max(1, Math.min(wanted, Math.floor(K / minK))) };
  }
  const groups = Math.ceil(M / TILE) * Math.ceil(N / TILE) * batch;
  const wanted = batch === 1 && groups < SPLIT_BELOW_WORKGROUPS ? Math.ceil(TARGET_WORKGROUPS / groups) : 1;
  return { variant: 'tiled', rows: rowsFor('tiled', M), splitK: Math.max(1, Math.min(wanted, Math.floor(K / MIN_K_PER_SPLIT))) };
}

/**
 * Split-K on CPU adapters, for one kind of product: at most CPU_SPLIT_MAX_ROWS rows of C, and a
 * plain B whose rows are 16 KB or longer: a linear layer's input gradient dy·W at batch 1-4
 * (VGG16's fc6 and fc7). A workgroup of the blocked kernel reads 256 bytes of each row of B, a
 * whole row apart, and the next workgroup the next 256 bytes of the same rows. Walking all of K
 * that way ran well below what ranges of 128 rows do, on lavapipe (2 cores):
 *   - in VGG16's training step at 64x64, batch 4 (`profile --model vgg16`, two runs each): the
 *     three layers' dy·W 100-104 ms a step unsplit, 83 in ranges of 512 rows, 67 of 128; whole
 *     steps, alternating in one process, 10 each: median 2508 ms unsplit, 2432 split;
 *   - fc6's alone, timestamped, median of 5 (the second pass included): 156-167 -> 97-104 ms, at
 *     batch 1 and 2 as at 4; bench/matmul.ts (wall clock, best of 3): fc6 5.2 -> 6.4 GFLOP/s,
 *     fc7 7.0 -> 8.5.
 * Not split where it did not pay: rows of 4 KB (no gain), 8 rows of C (fc6 1.35x faster, fc7 7%
 * slower), 16 or 32 (1.4-1.5x slower: more arithmetic per value read). Why short ranges help is
 * not established: the neighbouring reads still cached, or their pages still in the TLB. On
 * SwiftShader the same split gave fc6 +17% and fc7 -6% (timestamped).
 */
const CPU_SPLIT_MAX_ROWS = 4;
const CPU_SPLIT_MIN_ROW_BYTES = 16384;
const CPU_SPLIT_K_ROWS = 128;

/**
 * Split-K on GPUs (tiled): a product with fewer workgroups than a large GPU has compute units (132 on an
 * H100) is split into about TARGET_WORKGROUPS, each summing at least MIN_K_PER_SPLIT terms.
 */
const SPLIT_BELOW_WORKGROUPS = 128;
const TARGET_WORKGROUPS = 512;
const MIN_K_PER_SPLIT = 256;

/**
 * Skinny products: at most this many rows. Above it the tiled kernel's 64-row tiles waste less
 * than the skinny kernel's re-reading of B for every 8 rows costs.
 */
const SKINNY_MAX_ROWS = 8;
/** Columns of C per workgroup of the skinny kernel with a transposed B (see SKINNY_LAYOUT). */
const SKINNY_COLUMNS = 8;

/**
 * How the skinny kernel with a transposed B spreads a workgroup's 8 columns over invocations:
 * `lanes` invocations walk K side by side, each every `lanes`-th quad, and meet in workgroup
 * memory at the end; `columns` columns per invocation, `groups` such sets of lanes.
 *   GPU: a warp of 32 per column, so that adjacent invocations read adjacent quads of a row.
 *   CPU adapter: one SIMD row of 8 lanes for all 8 columns, each lane 8 columns. The lanes'
 *   loads of a row are adjacent too, and of A's rows, shared by the 8 columns. On lavapipe,
 *   VGG16's fc6 and fc7 at batch 4 ran 1.3-1.6x as fast as with the blocked kernel (whose 8
 *   lanes read 64 rows of the weight, 16 bytes of each at a time).
 */
interface SkinnyLayout {
  lanes: number;
  groups: number;
  columns: number;
}
const SKINNY_LAYOUT: Record<KernelTarget, SkinnyLayout> = {
  gpu: { lanes: 32, groups: SKINNY_COLUMNS, columns: 1 },
  cpu: { lanes: 8, groups: 1, columns: SKINNY_COLUMNS },
};
/** On CPU adapters, the skinny kernel only from this K: below it the lanes' final sums cost more than they save. */
const SKINNY_CPU_MIN_K = 256;
/** Invocations per workgroup of the skinny kernel with a plain B, 4 columns each. */
const SKINNY_PLAIN_INVOCATIONS = 64;
/** About what an H100/H200 keeps resident (132 compute units x 2048 invocations). */
const SKINNY_TARGET_INVOCATIONS = 2 ** 18;

/** Rows of C per workgroup: as many as M needs up to the kernel's most, so no row is wasted. */
function rowsFor(variant: MatmulVariant, M: number): BlockRows {
  if (variant === 'skinny') return M <= 1 ? 1 : M <= 2 ? 2 : M <= 4 ? 4 : 8;
  return M <= 4 ? 4 : M <= 8 ? 8 : 16;
}

const PARAMS = /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32,
  lda: u32, ldb: u32, ldc: u32,
  a_offset: u32, b_offset: u32, c_offset: u32, bias_offset: u32,
  a_batch: u32, b_batch: u32, c_batch: u32,
  accumulate: u32,
  splits: u32,       // K ranges per batch entry (split-K); 1 when K is not split
  k_per_split: u32,  // terms of K per range, a multiple of 4
}
@group(0) @binding(3) var<uniform> p: Params;

// Workgroups along z are (batch entry, K range) pairs; a result 'slot' is one such pair.
struct Work { batch: u32, k_begin: u32, k_end: u32 }
fn work_of(slot: u32) -> Work {
  let k_begin = (slot % p.splits) * p.k_per_split;
  return Work(slot / p.splits, k_begin, min(p.K, k_begin + p.k_per_split));
}`;

/**
 * How A and B are read and C written: element by element, or as vec4 along their contiguous
 * dimension (when it is 4-aligned). On CPU adapters a per-lane access costs a loop over the lanes;
 * a vec4 moves 4 values per trip.
 */
type Access = 'scalar' | 'vec4';

/** Element loads and the result store, specialised at compile time for the transposes. */
function accessors(transA: boolean, transB: boolean, bias: boolean, aLoad: Access, bLoad: Access, cStore: Access): string {
  const aIndex = `p.a_offset + batch * p.a_batch + ${transA ? 'k * p.lda + m' : 'm * p.lda + k'}`;
  const bIndex = `p.b_offset + batch * p.b_batch + ${transB ? 'n * p.ldb + k' : 'k * p.ldb + n'}`;
  const cIndex = 'p.c_offset + slot * p.c_batch + m * p.ldc + n';
  return /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<${aLoad === 'vec4' ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(1) var<storage, read> b: array<${bLoad === 'vec4' ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read_write> c: array<${cStore === 'vec4' ? 'vec4<f32>' : 'f32'}>;
${bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
fn load_a(batch: u32, m: u32, k: u32) -> f32 {
  let i = ${aIndex};
  return ${aLoad === 'vec4' ? 'a[i / 4u][i % 4u]' : 'a[i]'};
}
// A[m, k..k+3]: four values of a row of A, as one vec4 when A is plain and 4-aligned.
fn load_a4(batch: u32, m: u32, k: u32) -> vec4<f32> {
  return ${aLoad === 'vec4' ? `a[(${aIndex}) / 4u]` : 'vec4(load_a(batch, m, k), load_a(batch, m, k + 1u), load_a(batch, m, k + 2u), load_a(batch, m, k + 3u))'};
}
fn load_b(batch: u32, k: u32, n: u32) -> f32 {
  let i = ${bIndex};
  return ${bLoad === 'vec4' ? 'b[i / 4u][i % 4u]' : 'b[i]'};
}
${
  bLoad === 'vec4'
    ? `// Four consecutive values of B's storage (4-aligned): ${transB ? 'B[k..k+3, n] of a transposed B' : 'B[k, n..n+3]'}.
fn load_b4(batch: u32, k: u32, n: u32) -> vec4<f32> {
  return b[(${bIndex}) / 4u];
}`
    : ''
}
// Slot: the (batch, K range) pair, whose partial products are c_batch apart.
${
  cStore === 'vec4'
    ? `// C[m, n..n+3] (n 4-aligned).
fn store_c4(slot: u32, m: u32, n: u32, value: vec4<f32>) {
  let index = (${cIndex}) / 4u;
  var result = value${bias ? ' + vec4(bias[p.bias_offset + n], bias[p.bias_offset + n + 1u], bias[p.bias_offset + n + 2u], bias[p.bias_offset + n + 3u])' : ''};
  if (p.accumulate != 0u) { result += c[index]; }
  c[index] = result;
}`
    : `fn store_c(slot: u32, m: u32, n: u32, value: f32) {
  let index = ${cIndex};
  var result = value${bias ? ' + bias[p.bias_offset + n]' : ''};
  if (p.accumulate != 0u) { result += c[index]; }
  c[index] = result;
}`
}`;
}

function simpleKernel(): string {
  return /* wgsl */ `
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let m = id.y;
  if (m >= p.M || n >= p.N) { return; }
  let w = work_of(id.z);
  var acc = 0.0;
  for (var k = w.k_begin; k < w.k_end; k++) {
    acc += load_a(w.batch, m, k) * load_b(w.batch, k, n);
  }
  store_c(id.z, m, n, acc);
}`;
}

/**
 * The blocked kernel. On a CPU adapter a workgroup's invocations are the lanes of SIMD registers
 * (8 on lavapipe), and what costs is memory access, not arithmetic:
 *  - a load whose address is the same for every lane (it depends only on the workgroup) is one
 *    scalar load and a broadcast: A's loads, because all lanes share the same ROWS rows;
 *  - a load that differs per lane is a scalar loop over the lanes with a bounds check per value,
 *    about 8 instructions per value: B's loads, each of which then feeds ROWS multiply-adds.
 *    A vec4 load fetches 4 values per lane for one loop, which makes it cheaper per value.
 * Measured on lavapipe at 256^3 and 512^3 (GFLOP per CPU-second, same runs): 4x4 outputs per
 * lane ~1.3, 16x8 ~2.8; vec4 loads of B +35-80% over element loads; 16x16 no faster and 3x
 * slower to compile (~15 s against ~5 s, uncached: LLVM spilling hundreds of accumulators).
 * Lanes along M instead (B's loads the same for every lane, for tall-skinny products): 3x slower.
 */
function blockedKernel(rows: BlockRows, transB: boolean, bLoad: Access, cStore: Access): string {
  // B's next row, B[k, n0..n0+7], as two vec4. Columns past N are clamped (their results are dropped).
  const bRow =
    bLoad === 'vec4' && !transB
      ? 'array(load_b4(batch, k, n0), load_b4(batch, k, min(n0 + 4u, p.N - 4u)))'
      : `array(vec4(${cols(0, (n) => `load_b(batch, k, ${n})`)}), vec4(${cols(4, (n) => `load_b(batch, k, ${n})`)}))`;
  // A transposed B with 4-aligned columns is read as vec4 along K, four rows at a time.
  const fourRowsAtOnce =
    bLoad === 'vec4' && transB
      ? /* wgsl */ `
  for (; k + 4u <= w.k_end; k += 4u) {
    // Column n of a transposed B is contiguous along K: one vec4 per column gives rows k..k+3.
    var column: array<vec4<f32>, 8>;
    for (var j = 0u; j < 8u; j++) { column[j] = load_b4(w.batch, k, min(n0 + j, p.N - 1u)); }
    for (var kk = 0u; kk < 4u; kk++) {
      let row = array(vec4(column[0][kk], column[1][kk], column[2][kk], column[3][kk]),
                      vec4(column[4][kk], column[5][kk], column[6][kk], column[7][kk]));
      multiply_add_row(&acc, w.batch, m0, k + kk, row);
    }
  }`
      : '';
  return /* wgsl */ `
const ROWS = ${rows}u;
alias Block = array<array<vec4<f32>, 2>, ROWS>;

// A workgroup: 8 invocations side by side along N, all on the same ROWS rows of C.
// An invocation: columns n0..n0+7 of those rows, ROWS x 8 sums in registers.
@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>) {
  let w = work_of(group.z);
  let m0 = group.y * ROWS;
  let n0 = (group.x * 8u + local.x) * 8u;
  if (n0 >= p.N) { return; }
  var acc: Block;
  var k = w.k_begin;${fourRowsAtOnce}
  for (; k < w.k_end; k++) {
    multiply_add_row(&acc, w.batch, m0, k, b_row(w.batch, k, n0));
  }
  for (var i = 0u; i < ROWS && m0 + i < p.M; i++) {${
    cStore === 'vec4'
      ? `
    store_c4(group.z, m0 + i, n0, acc[i][0]);
    if (n0 + 4u < p.N) { store_c4(group.z, m0 + i, n0 + 4u, acc[i][1]); }`
      : `
    for (var j = 0u; j < 8u; j++) {
      if (n0 + j < p.N) { store_c(group.z, m0 + i, n0 + j, acc[i][j / 4u][j % 4u]); }
    }`
  }
  }
}

fn b_row(batch: u32, k: u32, n0: u32) -> array<vec4<f32>, 2> {
  return ${bRow};
}

// acc[i] += A[m0 + i, k] * row for the ROWS rows: A's address is the same in every lane.
// Rows past M are clamped to the last row (valid memory; those results are never stored).
fn multiply_add_row(acc: ptr<function, Block>, batch: u32, m0: u32, k: u32, row: array<vec4<f32>, 2>) {
  for (var i = 0u; i < ROWS; i++) {
    let a_ik = load_a(batch, min(m0 + i, p.M - 1u), k);
    (*acc)[i][0] += a_ik * row[0];
    (*acc)[i][1] += a_ik * row[1];
  }
}`;
}

/** Four column indices n0+first .. n0+first+3, clamped to the last column, through `load`. */
function cols(first: number, load: (n: string) => string): string {
  return [0, 1, 2, 3].map((j) => load(`min(n0 + ${first + j}u, p.N - 1u)`)).join(', ');
}

/**
 * The skinny kernel, for products with a handful of rows (a linear layer at batch 1-8; VGG16's
 * classifier at batch 4 reads a 411 MB weight to make 4 x 4096 outputs). Such a product is bound
 * by reading B, not by arithmetic. The tiled kernel computed 64 rows for every 4 real ones, and
 * read a transposed B across its rows, 32 invocations on 32 rows: a 32-byte sector fetched for
 * every 4-byte value. Here adjacent invocations read adjacent addresses of B:
 *   B transposed ([N, K], a linear layer's weight): a workgroup makes 8 columns of C; lanes side
 *     by side each sum every LANES-th quad of K of their columns (SKINNY_LAYOUT: a GPU gives each
 *     column 32 lanes, a CPU adapter 8 lanes for all 8), and their ROWS sums meet in workgroup
 *     memory.
 *   B plain ([K, N]): an invocation owns 4 adjacent columns and walks K alone; split-K gives a
 *     GPU enough of them.
 * A's few rows are read by every invocation alike: they stay in cache.
 */
function skinnyKernel(rows: BlockRows, transB: boolean, bLoad: Access, cStore: Access, layout: SkinnyLayout): string {
  const aRow = (m: string, k: string) => `load_a(w.batch, ${m}, ${k})`;
  if (transB) {
    const { lanes, groups, columns } = layout;
    const step = bLoad === 'vec4'
      ? `for (var k = w.k_begin + 4u * lane; k < w.k_end; k += 4u * LANES) {
    var a4: array<vec4<f32>, ROWS>;
    for (var i = 0u; i < ROWS; i++) { a4[i] = load_a4(w.batch, min(m0 + i, p.M - 1u), k); }
    for (var j = 0u; j < COLUMNS; j++) {
      let b4 = load_b4(w.batch, k, min(n0 + j, p.N - 1u));
      for (var i = 0u; i < ROWS; i++) { acc[j][i] += dot(a4[i], b4); }
    }
  }`
      : `for (var k = w.k_begin + lane; k < w.k_end; k += LANES) {
    for (var j = 0u; j < COLUMNS; j++) {
      let b = load_b(w.batch, k, min(n0 + j, p.N - 1u));
      for (var i = 0u; i < ROWS; i++) { acc[j][i] = fma(${aRow('min(m0 + i, p.M - 1u)', 'k')}, b, acc[j][i]); }
    }
  }`;
    return /* wgsl */ `
const ROWS = ${rows}u;
const LANES = ${lanes}u;       // invocations side by side along K, on the same columns
const COLUMNS = ${columns}u;     // columns of C per invocation
const SUMS = ${SKINNY_COLUMNS * rows}u;  // results per workgroup: ${SKINNY_COLUMNS} columns x ROWS rows
// Each invocation's sums, [column of the workgroup · ROWS + row][lane]; rows of LANES + 1 so
// that the final sums, one invocation per row, read different banks.
var<workgroup> sums: array<array<f32, ${lanes + 1}>, SUMS>;

@compute @workgroup_size(${lanes * groups}, 1, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let w = work_of(group.z);
  let m0 = group.y * ROWS;
  let lane = t % LANES;
  let first = (t / LANES) * COLUMNS;          // this invocation's first column in the workgroup
  let n0 = group.x * ${SKINNY_COLUMNS}u + first;  // past N: clamped duplicates, not stored
  var acc: array<array<f32, ROWS>, COLUMNS>;
  ${step}
  for (var j = 0u; j < COLUMNS; j++) {
    for (var i = 0u; i < ROWS; i++) { sums[(first + j) * ROWS + i][lane] = acc[j][i]; }
  }
  workgroupBarrier();
  for (var r = t; r < SUMS; r += ${lanes * groups}u) {
    var total = 0.0;
    for (var l = 0u; l < LANES; l++) { total += sums[r][l]; }
    let m = m0 + r % ROWS;
    let n = group.x * ${SKINNY_COLUMNS}u + r / ROWS;
    if (m < p.M && n < p.N) { store_c(group.z, m, n, total); }
  }
}`;
  }
  const b4 = bLoad === 'vec4' ? 'load_b4(w.batch, k, n0)' : `vec4(${cols(0, (n) => `load_b(w.batch, k, ${n})`)})`;
  const store = cStore === 'vec4'
    ? 'store_c4(group.z, m0 + i, n0, acc[i]);'
    : 'for (var j = 0u; j < 4u; j++) { if (n0 + j < p.N) { store_c(group.z, m0 + i, n0 + j, acc[i][j]); } }';
  return /* wgsl */ `
const ROWS = ${rows}u;

// An invocation: columns n0..n0+3 of ROWS rows of C, over its range of K.
@compute @workgroup_size(${SKINNY_PLAIN_INVOCATIONS}, 1, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let w = work_of(group.z);
  let m0 = group.y * ROWS;
  let n0 = (group.x * ${SKINNY_PLAIN_INVOCATIONS}u + t) * 4u;
  if (n0 >= p.N) { return; }
  var acc: array<vec4<f32>, ROWS>;
  for (var k = w.k_begin; k < w.k_end; k++) {
    let b4 = ${b4};
    for (var i = 0u; i < ROWS; i++) { acc[i] = fma(vec4(${aRow('min(m0 + i, p.M - 1u)', 'k')}), b4, acc[i]); }
  }
  for (var i = 0u; i < ROWS && m0 + i < p.M; i++) {
    ${store}
  }
}`;
}

const TILE = 64;
const TILE_K = 16;

/**
 * WGSL: which element of a 64x16 slice of an operand invocation element `e` loads, as (i, k):
 * along k when the operand's storage is contiguous along k (A plain, B transposed), else along
 * its other index. Either way 32 adjacent invocations read adjacent addresses (a few 32-byte
 * sectors) instead of 32 rows (a sector per value).
 */
const stagedElement = (alongK: boolean) =>
  alongK ? `vec2(e / ${TILE_K}u, e % ${TILE_K}u)` : `vec2(e % ${TILE}u, e / ${TILE}u)`;

/**
 * vec4s per row k of a staged slice: a slice read along k is stored transposed (16 invocations
 * writing one column), so its rows get one vec4 of padding (paddedRowQuads in wgsl.ts).
 */
const stagedRow = (alongK: boolean) => (alongK ? paddedRowQuads(TILE) : TILE / 4);

function tiledKernel(transA: boolean, transB: boolean): string {
  const [aAlongK, bAlongK] = [!transA, transB];
  return /* wgsl */ `
// A 64x64 tile of C per workgroup of 16x16 invocations, each owning a 4x4 block. Every step
// stages a 64x16 slice of A and a 16x64 slice of B in workgroup memory, so each global value is
// loaded once per workgroup instead of once per output. Both are stored as rows k of vec4s, so
// an invocation reads its 4 rows of A and its 4 columns of B at step k in one load each.
const A_ROW = ${stagedRow(aAlongK)}u;
const B_ROW = ${stagedRow(bAlongK)}u;
var<workgroup> tile_a: array<vec4<f32>, ${TILE_K * stagedRow(aAlongK)}>;  // [k][m / 4]
var<workgroup> tile_b: array<vec4<f32>, ${TILE_K * stagedRow(bAlongK)}>;  // [k][n / 4]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let w = work_of(group.z);
  let tile_m = group.y * ${TILE}u;
  let tile_n = group.x * ${TILE}u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = w.k_begin; k0 < w.k_end; k0 += ${TILE_K}u) {
    // 256 invocations load 1024 values of each slice: 4 each. Out-of-range values are zero.
    for (var e = flat; e < ${TILE * TILE_K}u; e += 256u) {
      let ea = ${stagedElement(aAlongK)};  // (row m, step k) of the slice of A
      let m = tile_m + ea.x;
      let k = k0 + ea.y;
      let a_slot = ea.y * A_ROW * 4u + ea.x;
      tile_a[a_slot / 4u][a_slot % 4u] = select(0.0, load_a(w.batch, min(m, p.M - 1u), min(k, p.K - 1u)), m < p.M && k < w.k_end);
      let eb = ${stagedElement(bAlongK)};  // (column n, step k) of the slice of B
      let n = tile_n + eb.x;
      let kb = k0 + eb.y;
      let b_slot = eb.y * B_ROW * 4u + eb.x;
      tile_b[b_slot / 4u][b_slot % 4u] = select(0.0, load_b(w.batch, min(kb, p.K - 1u), min(n, p.N - 1u)), kb < w.k_end && n < p.N);
    }
    workgroupBarrier();
    for (var k = 0u; k < ${TILE_K}u; k++) {
      ${quadOuterProduct({ tile: 'tile_a', row: 'A_ROW', quads: 1 }, { tile: 'tile_b', row: 'B_ROW', quads: 1 })}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = tile_m + local.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = tile_n + local.x * 4u + j;
      if (m < p.M && n < p.N) { store_c(group.z, m, n, acc[i][j]); }
    }
  }
}`;
}

/** Rows and columns of C that one workgroup of `variant` computes. */
function outputsPerGroup(variant: MatmulVariant, rows: BlockRows, transB: boolean): [number, number] {
  switch (variant) {
    case 'simple':
      return [8, 8];
    case 'blocked':
      return [rows, 64];
    case 'skinny':
      return [rows, transB ? SKINNY_COLUMNS : 4 * SKINNY_PLAIN_INVOCATIONS];
    case 'tiled':
      return [TILE, TILE];
  }
}

interface KernelKey {
  variant: MatmulVariant;
  rows: BlockRows;
  transA: boolean;
  transB: boolean;
  bias: boolean;
  aLoad: Access;
  bLoad: Access;
  cStore: Access;
  /** Whose layout the skinny kernel takes (SKINNY_LAYOUT). */
  target: KernelTarget;
}

const source = cached(buildSource);
function buildSource(key: KernelKey) {
  const { variant, rows, transA, transB, bias, aLoad, bLoad, cStore, target } = key;
  const vec4 = (aLoad === 'vec4' ? 'A' : '') + (bLoad === 'vec4' ? 'B' : '') + (cStore === 'vec4' ? 'C' : '');
  const layout = SKINNY_LAYOUT[target];
  // Rows per workgroup, and for the skinny kernel's CPU layout, columns per invocation: skinny4x8.
  const shape = variant === 'blocked' ? `${rows}` : variant === 'skinny' ? `${rows}${transB && layout.columns > 1 ? `x${layout.columns}` : ''}` : '';
  const name = `matmul.${variant}${shape}.${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${vec4 ? `.vec4${vec4}` : ''}${bias ? '.bias' : ''}`;
  const body = {
    simple: simpleKernel,
    blocked: () => blockedKernel(rows, transB, bLoad, cStore),
    skinny: () => skinnyKernel(rows, transB, bLoad, cStore, layout),
    tiled: () => tiledKernel(transA, transB),
  }[variant]();
  return { name, code: PARAMS + accessors(transA, transB, bias, aLoad, bLoad, cStore) + body };
}

/**
 * Split-K's second pass: C = sum of the partial products (+ bias) (+ C when accumulating).
 * One invocation per output; the partials of one output are M*N apart.
 */
const sumPartialsSource = cached(buildSumPartialsSource);
function buildSumPartialsSource(bias: boolean) {
  return {
    name: `matmul.sum_partials${bias ? '.bias' : ''}`,
    code: /* wgsl */ `
struct Params { M: u32, N: u32, ldc: u32, c_offset: u32, bias_offset: u32, splits: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${bias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;' : ''}
${linearIndex}
${entry1d} {
  let i = linear_index(wg, groups, local);
  if (i >= p.M * p.N) { return; }
  var total = 0.0;
  for (var s = 0u; s < p.splits; s++) { total += partials[s * p.M * p.N + i]; }
  let n = i % p.N;
  let index = p.c_offset + (i / p.N) * p.ldc + n;
  ${bias ? 'total += bias[p.bias_offset + n];' : ''}
  if (p.accumulate != 0u) { total += c[index]; }
  c[index] = total;
}`,
  };
}

interface Operand {
  tensor: Tensor;
  trans: boolean;
  rows: number; // rows and columns of the stored matrix
  cols: number;
  batchStride: number;
}

/**
 * Runs the GEMM for 2-D or batched 3-D operands (a 2-D operand is shared by every batch).
 * When an operand is too large for one binding (VGG16's 25088x4096 FC weight on a 128 MiB
 * adapter), the product is split along a dimension whose slices are contiguous in that operand:
 * M for A or C, N for a transposed B, K for a plain B (the K slices accumulate).
 */
export function runGemm(a: Tensor, b: Tensor, options: GemmOptions = {}): Tensor {
  const ctx = a.ctx;
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const [batchA, rowsA, colsA] = as3d(a);
  const [batchB, rowsB, colsB] = as3d(b);
  const M = transA ? colsA : rowsA;
  const K = transA ? rowsA : colsA;
  const KB = transB ? colsB : rowsB;
  const N = transB ? rowsB : colsB;
  const batch = Math.max(batchA, batchB);
  if (K !== KB || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
    throw new ShapeError(
      `matmul: [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''} · [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''}: inner sizes ${K} and ${KB} differ or batches do not match`,
    );
  }
  if (options.bias && options.bias.size !== N) {
    throw new ShapeError(`matmul: bias of shape [${options.bias.shape.join(', ')}] for ${N} output columns`);
  }
  const outShape = a.ndim === 3 || b.ndim === 3 ? [batch, M, N] : [M, N];
  const c = options.accumulateInto ?? Tensor.empty(ctx, outShape, 'float32');
  if (c.size !== batch * M * N) throw new ShapeError(`matmul: result [${c.shape.join(', ')}] for a [${outShape.join(', ')}] product`);
  const A: Operand = { tensor: a, trans: transA, rows: rowsA, cols: colsA, batchStride: batchA === 1 ? 0 : rowsA * colsA };
  const B: Operand = { tensor: b, trans: transB, rows: rowsB, cols: colsB, batchStride: batchB === 1 ? 0 : rowsB * colsB };

  for (const slice of splitForBindings(ctx, A, B, c, M, N, K, batch)) {
    const plan = planGemm(ctx, slice.M, slice.N, slice.K, batch, transB);
    const variant = options.variant ?? plan.variant;
    const rows = rowsFor(variant, slice.M);
    const splits = batch === 1 ? fitSplits(ctx, options.splitK ?? plan.splitK, slice) : 1;
    const partials = splits > 1 ? Tensor.empty(ctx, [splits, slice.M, slice.N], 'float32', 'matmul.partials') : null;
    // vec4 access needs 4-aligned rows, batches and offsets; along N, a multiple of 4 columns.
    const bAligned = colsB % 4 === 0 && B.batchStride % 4 === 0 && slice.bOffset % 4 === 0 && (transB || slice.N % 4 === 0);
    const cAligned = slice.N % 4 === 0 && (partials !== null || (N % 4 === 0 && slice.cOffset % 4 === 0));
    // The skinny kernel with a transposed B writes one value of C per column: no vec4 to store,
    // and reads A's rows along K, as vec4 when they are 4-aligned (as B's vec4 needs K to be).
    const vec4Loads = variant === 'blocked' || variant === 'skinny';
    const skinnyT = variant === 'skinny' && transB;
    const aAligned = !transA && colsA % 4 === 0 && A.batchStride % 4 === 0 && slice.aOffset % 4 === 0;
    const aLoad: Access = skinnyT && bAligned && aAligned ? 'vec4' : 'scalar';
    const bLoad: Access = vec4Loads && bAligned ? 'vec4' : 'scalar';
    const cStore: Access = vec4Loads && cAligned && !skinnyT ? 'vec4' : 'scalar';
    const accumulate = options.accumulateInto !== undefined || slice.k0 > 0;
    const bias = options.bias;
    const kernel = source({ variant, rows, transA, transB, bias: bias !== undefined && !partials, aLoad, bLoad, cStore, target: ctx.kernelTarget });
    const [perM, perN] = outputsPerGroup(variant, rows, transB);
    const kPerSplit = Math.ceil(slice.K / splits / 4) * 4;
    const buffers: Record<string, Binding> = { a: slice.a, b: slice.b, c: partials ?? slice.c };
    if (bias && !partials) buffers.bias = bias;
    launch(ctx, kernel, {
      buffers,
      uniforms: {
        M: slice.M, N: slice.N, K: slice.K,
        lda: colsA, ldb: colsB, ldc: partials ? slice.N : N,
        a_offset: slice.aOffset, b_offset: slice.bOffset,
        c_offset: partials ? 0 : slice.cOffset, bias_offset: slice.n0,
        a_batch: A.batchStride, b_batch: B.batchStride, c_batch: slice.M * slice.N,
        accumulate: !partials && accumulate ? 1 : 0,
        splits, k_per_split: kPerSplit,
      },
      workgroups: [Math.ceil(slice.N / perN), Math.ceil(slice.M / perM), batch * splits],
      flops: 2 * batch * slice.M * slice.N * slice.K,
    });
    if (partials) {
      const sumBuffers: Record<string, Binding> = { partials, c: slice.c };
      if (bias) sumBuffers.bias = bias;
      launch(ctx, sumPartialsSource(bias !== undefined), {
        buffers: sumBuffers,
        uniforms: { M: slice.M, N: slice.N, ldc: N, c_offset: slice.cOffset, bias_offset: slice.n0, splits, accumulate: accumulate ? 1 : 0 },
        workgroups: groupsFor(slice.M * slice.N, WORKGROUP_1D),
      });
      partials.dispose();
    }
  }
  return c;
}

/** The split-K count actually used: at most one range per 4 terms, partials within one binding. */
function fitSplits(ctx: GpuContext, wanted: number, slice: Slice): number {
  const byK = Math.max(1, Math.floor(slice.K / 4));
  const byBinding = Math.max(1, Math.floor(ctx.maxBindingBytes / (4 * slice.M * slice.N)));
  return Math.max(1, Math.min(Math.floor(wanted), byK, byBinding));
}

function as3d(t: Tensor): [number, number, number] {
  if (t.ndim === 2) return [1, t.shape[0]!, t.shape[1]!];
  if (t.ndim === 3) return [t.shape[0]!, t.shape[1]!, t.shape[2]!];
  throw new ShapeError(`matmul takes 2-D or 3-D tensors, got '${t.name}' of shape [${t.shape.join(', ')}]`);
}

interface Slice {
  a: Binding;
  b: Binding;
  c: Binding;
  M: number;
  N: number;
  K: number;
  n0: number;
  k0: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
}

function fits(ctx: GpuContext, t: Tensor): boolean {
  return t.byteSize <= ctx.maxBindingBytes;
}

function splitForBindings(ctx: GpuContext, A: Operand, B: Operand, c: Tensor, M: number, N: number, K: number, batch: number): Slice[] {
  const whole: Slice = { a: A.tensor, b: B.tensor, c, M, N, K, n0: 0, k0: 0, aOffset: 0, bOffset: 0, cOffset: 0 };
  const aFits = fits(ctx, A.tensor);
  const bFits = fits(ctx, B.tensor);
  const cFits = fits(ctx, c);
  if (aFits && bFits && cFits) return [whole];
  const refuse = (t: Tensor): never => {
    throw new BindingLimitError(t.name, t.byteSize, ctx.maxBindingBytes, 'maxStorageBufferBindingSize', 'matmul (this split is not supported)');
  };
  if (batch > 1) refuse(!aFits ? A.tensor : !bFits ? B.tensor : c);

  // Split along M: rows of C, and rows of a non-transposed A, are contiguous.
  if (bFits && (aFits || !A.trans)) {
    return rowChunks(ctx, M, aFits ? [N] : [N, K]).map(({ row0, rows }) => ({
      ...whole,
      M: rows,
      c: sliceOf(c, row0 * N, rows * N),
      a: aFits ? A.tensor : sliceOf(A.tensor, row0 * K, rows * K),
      aOffset: aFits ? (A.trans ? row0 : row0 * K) : 0,
    }));
  }
  // Split along N: rows of a transposed B ([N, K] storage) are contiguous.
  if (aFits && cFits && B.trans) {
    return rowChunks(ctx, N, [K]).map(({ row0, rows }) => ({
      ...whole,
      b: sliceOf(B.tensor, row0 * K, rows * K),
      N: rows,
      n0: row0,
      cOffset: row0,
    }));
  }
  // Split along K: rows of a plain B ([K, N] storage) are contiguous; slices accumulate into C.
  if (aFits && cFits && !B.trans) {
    return rowChunks(ctx, K, [N]).map(({ row0, rows }) => ({
      ...whole,
      b: sliceOf(B.tensor, row0 * N, rows * N),
      K: rows,
      k0: row0,
      aOffset: A.trans ? row0 * M : row0,
    }));
  }
  return refuse(!aFits ? A.tensor : !bFits ? B.tensor : c);
}

function sliceOf(tensor: Tensor, offset: number, count: number): Binding {
  return { tensor, offset, count };
}
