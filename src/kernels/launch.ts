import type { GpuContext } from '../runtime/context.js';
import type { KernelSource } from '../runtime/pipelines.js';
import type { BufferRange } from '../runtime/recorder.js';
import { Tensor } from '../autograd/tensor.js';

/** A tensor bound whole, or a slice of it (for tensors larger than one binding may be). */
export type Binding = Tensor | { tensor: Tensor; offset: number; count: number };

export interface Launch {
  buffers: Record<string, Binding>;
  uniforms?: Record<string, number | readonly number[]>;
  /** Workgroups in x, y, z (a single number means x). Large x is folded into y/z by the recorder. */
  workgroups: number | readonly [number, number, number];
  /**
   * The floating-point operations this dispatch computes (2 per multiply-add), given by the
   * products (matmul, convolution) so that the profiler can print GFLOP/s beside their times.
   */
  flops?: number;
}

/** Compiles (once) and records one dispatch of `source`. */
export function launch(ctx: GpuContext, source: KernelSource, args: Launch): void {
  const kernel = ctx.pipelines.get(source);
  const buffers: Record<string, BufferRange> = {};
  for (const [name, binding] of Object.entries(args.buffers)) {
    buffers[name] = binding instanceof Tensor ? binding.range(source.name) : binding.tensor.subrange(binding.offset, binding.count, source.name);
  }
  const wg = typeof args.workgroups === 'number' ? ([args.workgroups, 1, 1] as const) : args.workgroups;
  ctx.recorder.dispatch(kernel, buffers, args.uniforms ?? {}, wg, args.flops);
}

/**
 * Splits `total` elements into slices that each fit one binding, starting at offsets the adapter
 * accepts (`minStorageBufferOffsetAlignment`). One slice when the tensor fits.
 */
export function bindingChunks(ctx: GpuContext, total: number): { offset: number; count: number }[] {
  const rows = rowChunks(ctx, total, [1]);
  return rows.map(({ row0, rows: count }) => ({ offset: row0, count }));
}

/**
 * Splits `rows` rows into runs [row0, row0 + rows) such that, for every matrix sharing these
 * rows (one row length each), a run fits one binding and starts on an aligned offset.
 */
export function rowChunks(ctx: GpuContext, rows: number, rowLengths: readonly number[]): { row0: number; rows: number }[] {
  const alignElements = ctx.limits.minStorageBufferOffsetAlignment / 4;
  const maxElements = Math.floor(ctx.maxBindingBytes / 4);
  const longest = Math.max(...rowLengths);
  if (rows * longest <= maxElements) return [{ row0: 0, rows }];
  // A run must start at a multiple of this many rows for every row length to stay aligned.
  const rowAlign = rowLengths.reduce((acc, len) => lcm(acc, alignElements / gcd(alignElements, len)), 1);
  const perRun = Math.floor(Math.floor(maxElements / longest) / rowAlign) * rowAlign;
  if (perRun === 0) throw new Error(`rows of ${longest} elements cannot be split into aligned bindings of ${ctx.maxBindingBytes} bytes`);
  const runs = [];
  for (let row0 = 0; row0 < rows; row0 += perRun) runs.push({ row0, rows: Math.min(perRun, rows - row0) });
  return runs;
}

/** Greatest common divisor (also of the alignments tests size their slices by). */
export function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/**
 * Workgroups for a grid-stride 1-D kernel over `count` elements. GPUs get one invocation per
 * element. CPU adapters pay several microseconds to launch each workgroup (lavapipe about 6 µs,
 * measured in bench/norm.ts), so there a few dozen workgroups loop over the elements instead.
 */
export function groupsFor1d(ctx: GpuContext, count: number, workgroupSize: number): number {
  const one = Math.ceil(count / workgroupSize);
  return ctx.kernelTarget === 'cpu' ? Math.min(one, SOFTWARE_MAX_WORKGROUPS) : one;
}

const SOFTWARE_MAX_WORKGROUPS = 64;

/** Workgroups needed to cover `count` invocations with `workgroupSize` each. */
export function groupsFor(count: number, workgroupSize: number): number {
  return Math.ceil(count / workgroupSize);
}
