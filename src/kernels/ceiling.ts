// What the adapter can do at best, measured by kernels that do nothing else: multiply-adds (WGSL's
// fma) in independent chains held in registers (no memory traffic); a copy (each value read once and
// written once); a read (each value read once, one sum per invocation written). A kernel's GFLOP/s
// or GB/s means little alone: 30 GFLOP/s is a quarter of a 2-core software adapter and a fraction
// of a percent of a GPU. These rates are the yardstick that `profile --ceiling` and
// `npm run bench` give each kernel's rate as a share of.
import { Tensor } from '../autograd/tensor.js';
import type { GpuContext } from '../runtime/context.js';
import { median } from '../runtime/median.js';
import { launch } from './launch.js';

export interface Ceilings {
  /** The best of the multiply-add probes, in GFLOP/s (2 per multiply-add). */
  fmaGflops: number;
  /** The copy's rate, in GB/s (bytes read plus bytes written). */
  copyGbps: number;
  /** The read's rate, in GB/s (a CPU adapter's host often reads faster than it copies). */
  readGbps: number;
  /** Each multiply-add probe: vec4 chains per invocation, its dispatch and its median time. */
  fma: { chains: number; invocations: number; iterations: number; ms: number; gflops: number }[];
  /** How the copy and the read were measured. */
  copy: StreamRun;
  read: StreamRun;
}

/**
 * A memory probe's best run: bytes of the buffer, the workgroups striding over it (the fastest of
 * those tried), passes over it per timed run (a GPU reads 256 MiB in well under a millisecond),
 * the run's median time.
 */
export interface StreamRun {
  bytes: number;
  workgroups: number;
  repeats: number;
  ms: number;
}

const WORKGROUP = 64;

/**
 * The multiply-add probe's constants: each chain steps a = a·m + b `unroll` times per loop
 * iteration (written out, so that the loop's own work is negligible), from start values
 * (i mod 1024)·1e-4 + chain + component / 4 for invocation i.
 */
export const FMA_PROBE = { m: 0.999, b: 0.001, unroll: 4 } as const;
const UNROLL = FMA_PROBE.unroll;

/**
 * WGSL: each invocation runs `chains` independent chains a = a·m + b on vec4s, UNROLL times per
 * iteration. m and b come from a uniform, so the compiler cannot fold them, and the chains' sum is
 * stored, so it cannot drop them. With m just below 1 the values settle near b / (1 − m): no
 * overflow, no denormals.
 */
function fmaSource(chains: number) {
  const each = (f: (i: number) => string, separator: string) => Array.from({ length: chains }, (_, i) => f(i)).join(separator);
  const step = each((i) => `a${i} = fma(a${i}, m, b);`, ' ');
  return {
    name: `ceiling.fma${chains}`,
    code: /* wgsl */ `
struct Params { iterations: u32, m: f32, b: f32 }
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  let start = f32(i % 1024u) * 1e-4;
  let m = vec4<f32>(p.m);
  let b = vec4<f32>(p.b);
  ${each((i) => `var a${i} = vec4<f32>(start + ${i}.0, start + ${i}.25, start + ${i}.5, start + ${i}.75);`, '\n  ')}
  for (var k = 0u; k < p.iterations; k++) {
    ${Array.from({ length: UNROLL }, () => step).join('\n    ')}
  }
  out[i] = ${each((i) => `a${i}`, ' + ')};
}`,
  };
}

const copySource = {
  name: 'ceiling.copy',
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * ${WORKGROUP}u;
  for (var i = id.x; i < arrayLength(&dst); i += stride) {
    dst[i] = src[i];
  }
}`,
};

const readSource = {
  name: 'ceiling.read',
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sums: array<vec4<f32>>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * ${WORKGROUP}u;
  let first = id.x;
  var sum = vec4<f32>(0.0);
  for (var i = first; i < arrayLength(&src); i += stride) {
    sum += src[i];
  }
  sums[first] = sum;
}`,
};

/**
 * Records one multiply-add probe: every invocation of `out` ([invocations, 4], a multiple of 64)
 * runs `chains` vec4 chains for `iterations` loop iterations and stores their sum.
 */
export function recordFmaProbe(out: Tensor, chains: number, iterations: number): void {
  const invocations = out.shape[0]!;
  launch(out.ctx, fmaSource(chains), {
    buffers: { out },
    uniforms: { iterations, m: FMA_PROBE.m, b: FMA_PROBE.b },
    workgroups: checkedGroups(out.ctx, invocations / WORKGROUP),
  });
}

/** Records the copy probe: dst = src (as many floats, a multiple of 4), by `workgroups` workgroups striding over it. */
export function recordCopyProbe(src: Tensor, dst: Tensor, workgroups: number): void {
  launch(src.ctx, copySource, { buffers: { src, dst }, workgroups: checkedGroups(src.ctx, workgroups) });
}

/**
 * Records the read probe: sums[i] = the sum of the vec4s of src that invocation i of `workgroups`
 * workgroups strides over (sums needs 4 floats per invocation, 64 invocations per workgroup).
 */
export function recordReadProbe(src: Tensor, sums: Tensor, workgroups: number): void {
  if (sums.size < workgroups * WORKGROUP * 4) throw new RangeError(`ceiling read probe: ${workgroups} workgroups need ${workgroups * WORKGROUP * 4} sums, not ${sums.size}`);
  launch(src.ctx, readSource, { buffers: { src, sums }, workgroups: checkedGroups(src.ctx, workgroups) });
}

/** `count` workgroups along x: the probes index their invocations by x alone, so it must fit one dimension. */
function checkedGroups(ctx: GpuContext, count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > ctx.limits.maxComputeWorkgroupsPerDimension) {
    throw new RangeError(`ceiling probe: ${count} workgroups (a whole number up to ${ctx.limits.maxComputeWorkgroupsPerDimension})`);
  }
  return count;
}

/** Wall time of one recorded run, from recording to the GPU's completion. */
async function timeRun(ctx: GpuContext, run: () => void): Promise<number> {
  const t0 = performance.now();
  run();
  await ctx.recorder.sync();
  return performance.now() - t0;
}

/**
 * Times `run(n)` with n doubled from `first` until one run takes `targetMs` (or n reaches `most`),
 * after an untimed run(1) that compiles the pipeline (and touches a buffer's pages): that n, and the
 * median of `samples` runs of it.
 */
async function lengthened(ctx: GpuContext, run: (n: number) => () => void, first: number, most: number, targetMs: number, samples: number): Promise<{ n: number; ms: number }> {
  await timeRun(ctx, run(1));
  let n = first;
  while ((await timeRun(ctx, run(n))) < targetMs && n < most) n *= 2;
  const times: number[] = [];
  for (let s = 0; s < samples; s++) times.push(await timeRun(ctx, run(n)));
  return { n, ms: median(times) };
}

export interface CeilingOptions {
  /** Timed samples of each probe, of which the median is kept. Default 3. */
  samples?: number;
  /** Each timed run is lengthened (more iterations, more copies) until it takes at least this long: its wall time includes a submit and a wait. Default 50 ms. */
  targetMs?: number;
}

/**
 * Measures the ceilings on `ctx`'s adapter: about 4 s on a 2-core software adapter, and a few
 * on a GPU too, since each of the 11 configurations is timed three times at 50 ms or more.
 * Wall-clock timing: each run is long enough for a submit and a wait to be a small part of it.
 */
export async function measureCeilings(ctx: GpuContext, options: CeilingOptions = {}): Promise<Ceilings> {
  const samples = options.samples ?? 3;
  const targetMs = options.targetMs ?? 50;
  const hardware = !ctx.adapter.isSoftware;
  // Enough invocations to fill the adapter: a GPU holds a few hundred thousand at once, a
  // software adapter a few dozen SIMD lanes.
  const invocations = hardware ? 1 << 20 : 1 << 12;

  // More chains hide more latency but need more registers: the best of three is the ceiling.
  const fma: Ceilings['fma'] = [];
  const out = Tensor.empty(ctx, [invocations, 4], 'float32', 'ceiling.out');
  try {
    for (const chains of [4, 8, 16]) {
      const { n: iterations, ms } = await lengthened(ctx, (n) => () => recordFmaProbe(out, chains, n), 16, 1 << 24, targetMs, samples);
      const flops = 2 * 4 * UNROLL * chains * invocations * iterations;
      fma.push({ chains, invocations, iterations, ms, gflops: flops / (ms * 1e6) });
    }
  } finally {
    out.dispose();
  }

  // The memory probes: a buffer as large as one binding allows, up to 256 MiB (beyond a GPU's
  // caches; a software adapter's host may have a last-level cache as large, which its figures
  // then include).
  const bytes = Math.min(256 * 2 ** 20, Math.floor(ctx.maxBindingBytes / 16) * 16);
  // How many workgroups stride over the buffer changes the rate severalfold on lavapipe (a copy
  // of 128 MiB: 2.7 GB/s with 1024, 14.4 with 16384): the fastest of a few counts is kept.
  const counts = (hardware ? [1024, 4096, 16384, 65535] : [256, 1024, 4096, 16384])
    .filter((n) => n <= bytes / 16 / WORKGROUP && n <= ctx.limits.maxComputeWorkgroupsPerDimension);
  const src = Tensor.empty(ctx, [bytes / 4], 'float32', 'ceiling.src');
  const dst = Tensor.empty(ctx, [bytes / 4], 'float32', 'ceiling.dst');
  const sums = Tensor.empty(ctx, [Math.max(...counts) * WORKGROUP * 4], 'float32', 'ceiling.sums');
  let copy: StreamRun;
  let read: StreamRun;
  try {
    const stream = async (pass: (workgroups: number) => void): Promise<StreamRun> => {
      let best: StreamRun | null = null;
      for (const workgroups of counts) {
        const passes = (n: number) => () => {
          for (let r = 0; r < n; r++) pass(workgroups);
        };
        const { n: repeats, ms } = await lengthened(ctx, passes, 1, 1 << 12, targetMs, samples);
        if (!best || repeats / ms > best.repeats / best.ms) best = { bytes, workgroups, repeats, ms };
      }
      return best!;
    };
    copy = await stream((workgroups) => recordCopyProbe(src, dst, workgroups));
    read = await stream((workgroups) => recordReadProbe(src, sums, workgroups));
  } finally {
    for (const t of [src, dst, sums]) t.dispose();
  }
  const rate = (r: StreamRun, passes: number) => (passes * r.bytes * r.repeats) / (r.ms * 1e6);
  return { fmaGflops: Math.max(...fma.map((r) => r.gflops)), copyGbps: rate(copy, 2), readGbps: rate(read, 1), fma, copy, read };
}

/** A rate as a share of the ceiling of its unit, as "24%" or "0.8%"; null where there is none. */
export function shareOfCeiling(ceilings: Ceilings | null, rate: number | null, unit: 'GFLOP/s' | 'GB/s' | string): string | null {
  if (!ceilings || rate === null) return null;
  // A kernel's GB/s counts what it reads and writes: measured against the faster of the two probes.
  const ceiling = unit === 'GFLOP/s' ? ceilings.fmaGflops : unit === 'GB/s' ? Math.max(ceilings.copyGbps, ceilings.readGbps) : null;
  if (!ceiling) return null;
  const share = (100 * rate) / ceiling;
  return share >= 10 ? `${share.toFixed(0)}%` : `${share.toFixed(1)}%`;
}

/** One line for a report: "118 GFLOP/s of multiply-adds, 3.39 GB/s copying, 5.80 GB/s reading". */
export function describeCeilings(c: Ceilings): string {
  const rate = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  return `${rate(c.fmaGflops)} GFLOP/s of multiply-adds, ${rate(c.copyGbps)} GB/s copying, ${rate(c.readGbps)} GB/s reading`;
}
