import type { GpuContext } from '../runtime/context.js';
import { Tensor } from '../autograd/tensor.js';
import { BindingLimitError, ShapeError } from '../runtime/errors.js';
import { launch, rowChunks, type Binding } from './launch.js';

/**
 * Batched GEMM: C[b] = op(A[b]) · op(B[b]) (+ bias) (+ C[b] when accumulating), where op() is an
 * optional transpose read straight from the untransposed storage (no copy), BLAS-style: every
 * operand has an offset and a leading dimension, so a slice of a larger matrix is just numbers.
 *
 * Three kernels, chosen per adapter and shape (see `chooseVariant`):
 *   simple  - one output per invocation: the baseline, best for tiny matrices.
 *   blocked - a 4x4 block of outputs per invocation held in registers, no workgroup memory and
 *             no barriers: what wins on CPU adapters (lavapipe, SwiftShader), where barriers are
 *             expensive and each invocation is a SIMD lane.
 *   tiled   - 64x64 tiles staged through workgroup memory, 4x4 outputs per invocation: the
 *             classic GPU kernel, which cuts global memory traffic 16-fold.
 */
export type MatmulVariant = 'simple' | 'blocked' | 'tiled';

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  /** Added to every row of the result (length N): a linear layer's bias. */
  bias?: Tensor;
  /** Accumulate into this tensor instead of allocating a new result. */
  accumulateInto?: Tensor;
  variant?: MatmulVariant;
}

const PARAMS = /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32,
  lda: u32, ldb: u32, ldc: u32,
  a_offset: u32, b_offset: u32, c_offset: u32, bias_offset: u32,
  a_batch: u32, b_batch: u32, c_batch: u32,
  accumulate: u32,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;`;

/** Element loads and the result store, specialised at compile time for the transposes. */
function accessors(transA: boolean, transB: boolean, bias: boolean): string {
  return /* wgsl */ `
${bias ? '@group(0) @binding(4) var<storage, read> bias: array<f32>;' : ''}
fn load_a(batch: u32, m: u32, k: u32) -> f32 {
  return a[p.a_offset + batch * p.a_batch + ${transA ? 'k * p.lda + m' : 'm * p.lda + k'}];
}
fn load_b(batch: u32, k: u32, n: u32) -> f32 {
  return b[p.b_offset + batch * p.b_batch + ${transB ? 'n * p.ldb + k' : 'k * p.ldb + n'}];
}
fn store_c(batch: u32, m: u32, n: u32, value: f32) {
  let index = p.c_offset + batch * p.c_batch + m * p.ldc + n;
  var result = value${bias ? ' + bias[p.bias_offset + n]' : ''};
  if (p.accumulate != 0u) { result += c[index]; }
  c[index] = result;
}`;
}

function simpleKernel(): string {
  return /* wgsl */ `
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n = id.x;
  let m = id.y;
  if (m >= p.M || n >= p.N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += load_a(id.z, m, k) * load_b(id.z, k, n);
  }
  store_c(id.z, m, n, acc);
}`;
}

function blockedKernel(): string {
  return /* wgsl */ `
// Each invocation owns rows m0..m0+3 and columns n0..n0+3 of C. Loads past the edge are clamped
// to the last row/column (valid memory, results discarded) so the inner loop has no branches.
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let n0 = id.x * 4u;
  let m0 = id.y * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let batch = id.z;
  let ms = min(vec4<u32>(m0, m0 + 1u, m0 + 2u, m0 + 3u), vec4<u32>(p.M - 1u));
  let ns = min(vec4<u32>(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4<u32>(p.N - 1u));
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < p.K; k++) {
    let bk = vec4<f32>(load_b(batch, k, ns.x), load_b(batch, k, ns.y), load_b(batch, k, ns.z), load_b(batch, k, ns.w));
    acc[0] += load_a(batch, ms.x, k) * bk;
    acc[1] += load_a(batch, ms.y, k) * bk;
    acc[2] += load_a(batch, ms.z, k) * bk;
    acc[3] += load_a(batch, ms.w, k) * bk;
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.N) { store_c(batch, m, n0 + j, acc[i][j]); }
    }
  }
}`;
}

const TILE = 64;
const TILE_K = 16;

function tiledKernel(): string {
  return /* wgsl */ `
// A 64x64 tile of C per workgroup of 16x16 invocations, each owning a 4x4 block. Every step
// stages a 64x16 slice of A and a 16x64 slice of B in workgroup memory, so each global value is
// loaded once per workgroup instead of once per output.
var<workgroup> tile_a: array<array<f32, ${TILE_K}>, ${TILE}>;
var<workgroup> tile_b: array<array<f32, ${TILE}>, ${TILE_K}>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) flat: u32) {
  let batch = group.z;
  let tile_m = group.y * ${TILE}u;
  let tile_n = group.x * ${TILE}u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += ${TILE_K}u) {
    // 256 invocations load 1024 values of each slice: 4 each. Out-of-range values are zero.
    for (var e = flat; e < ${TILE * TILE_K}u; e += 256u) {
      let row = e / ${TILE_K}u;
      let col = e % ${TILE_K}u;
      let m = tile_m + row;
      let k = k0 + col;
      tile_a[row][col] = select(0.0, load_a(batch, min(m, p.M - 1u), min(k, p.K - 1u)), m < p.M && k < p.K);
      let kb = k0 + e / ${TILE}u;
      let n = tile_n + e % ${TILE}u;
      tile_b[e / ${TILE}u][e % ${TILE}u] = select(0.0, load_b(batch, min(kb, p.K - 1u), min(n, p.N - 1u)), kb < p.K && n < p.N);
    }
    workgroupBarrier();
    for (var k = 0u; k < ${TILE_K}u; k++) {
      let bk = vec4<f32>(tile_b[k][local.x * 4u], tile_b[k][local.x * 4u + 1u], tile_b[k][local.x * 4u + 2u], tile_b[k][local.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += tile_a[local.y * 4u + i][k] * bk;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = tile_m + local.y * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let n = tile_n + local.x * 4u + j;
      if (m < p.M && n < p.N) { store_c(batch, m, n, acc[i][j]); }
    }
  }
}`;
}

const KERNELS: Record<MatmulVariant, { code: () => string; outputsPerGroup: [number, number] }> = {
  simple: { code: simpleKernel, outputsPerGroup: [8, 8] },
  blocked: { code: blockedKernel, outputsPerGroup: [32, 32] },
  tiled: { code: tiledKernel, outputsPerGroup: [TILE, TILE] },
};

function source(variant: MatmulVariant, transA: boolean, transB: boolean, bias: boolean) {
  const flags = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${bias ? '.bias' : ''}`;
  return { name: `matmul.${variant}.${flags}`, code: PARAMS + accessors(transA, transB, bias) + KERNELS[variant].code() };
}

export function chooseVariant(ctx: GpuContext, M: number, N: number, K: number): MatmulVariant {
  if (M * N <= 64 && K <= 64) return 'simple';
  if (ctx.adapter.isSoftware) return 'blocked';
  return M >= 32 && N >= 32 ? 'tiled' : 'blocked';
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
  const variant = options.variant ?? chooseVariant(ctx, M, N, K);
  const kernel = source(variant, transA, transB, options.bias !== undefined);
  const A: Operand = { tensor: a, trans: transA, rows: rowsA, cols: colsA, batchStride: batchA === 1 ? 0 : rowsA * colsA };
  const B: Operand = { tensor: b, trans: transB, rows: rowsB, cols: colsB, batchStride: batchB === 1 ? 0 : rowsB * colsB };

  for (const slice of splitForBindings(ctx, A, B, c, M, N, K, batch)) {
    const [perM, perN] = KERNELS[variant].outputsPerGroup;
    const buffers: Record<string, Binding> = { a: slice.a, b: slice.b, c: slice.c };
    if (options.bias) buffers.bias = options.bias;
    launch(ctx, kernel, {
      buffers,
      uniforms: {
        M: slice.M, N: slice.N, K: slice.K,
        lda: colsA, ldb: colsB, ldc: N,
        a_offset: slice.aOffset, b_offset: slice.bOffset, c_offset: slice.cOffset, bias_offset: slice.n0,
        a_batch: A.batchStride, b_batch: B.batchStride, c_batch: M * N,
        accumulate: options.accumulateInto || slice.k0 > 0 ? 1 : 0,
      },
      workgroups: [Math.ceil(slice.N / perN), Math.ceil(slice.M / perM), batch],
    });
  }
  return c;
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
