/**
 * Small, honest timing helpers for GPU benchmarks.
 *
 * Every timed sample ends with a caller-supplied GPU sync (for WebGPU:
 * `queue.submit` of anything pending, then `await queue.onSubmittedWorkDone()`,
 * or a read-back such as tfjs's `await tensor.data()`), so a sample measures the
 * work, not only the CPU enqueue. Warm-up runs (pipeline compilation, buffer
 * pool growth) are excluded. Report the median; the min is the "best case".
 */

import { median } from '../../src/runtime/median.js';

export interface TimingOptions {
  /** Awaited after the run(s) of each sample, inside the timed region. Required: no sync, no honest number. */
  sync: () => unknown | Promise<unknown>;
  /** Untimed runs first (each followed by sync). Default 2. */
  warmup?: number;
  /** Timed samples. Default 5. */
  reps?: number;
  /** Runs per sample before the one sync; the sample is divided by it. Default 1. */
  itersPerSample?: number;
  /** Stop taking samples once this much time was spent timing (at least one sample is always taken). */
  budgetMs?: number;
}

export interface TimingResult {
  medianMs: number;
  minMs: number;
  meanMs: number;
  maxMs: number;
  /** Per-run times (sample time / itersPerSample), in the order taken. */
  samplesMs: number[];
  warmup: number;
  itersPerSample: number;
}

export { median };

/**
 * Half the range of `samples` as a fraction of their median: 0.04 when they lie within ±4% of it.
 * A report prints it beside the median, so that a difference smaller than the noise reads as one.
 */
export function halfRange(samples: readonly number[]): number | null {
  if (samples.length < 2) return null;
  return (Math.max(...samples) - Math.min(...samples)) / (2 * median(samples));
}

export function summarize(samplesMs: number[], warmup: number, itersPerSample: number): TimingResult {
  return {
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    meanMs: samplesMs.reduce((a, b) => a + b, 0) / samplesMs.length,
    maxMs: Math.max(...samplesMs),
    samplesMs,
    warmup,
    itersPerSample,
  };
}

/**
 * Times `run` (sync or async): `warmup` untimed runs, then up to `reps` samples,
 * each = `itersPerSample` runs + one `sync()`, wall clock (performance.now()).
 */
export async function timeIt(run: () => unknown | Promise<unknown>, opts: TimingOptions): Promise<TimingResult> {
  const warmup = opts.warmup ?? 2;
  const reps = Math.max(1, opts.reps ?? 5);
  const k = Math.max(1, opts.itersPerSample ?? 1);
  for (let i = 0; i < warmup; i++) {
    await run();
    await opts.sync();
  }
  const samples: number[] = [];
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) await run();
    await opts.sync();
    samples.push((performance.now() - t0) / k);
    if (opts.budgetMs !== undefined && performance.now() - start > opts.budgetMs) break;
  }
  return summarize(samples, warmup, k);
}

/** Sync for raw WebGPU work: everything already submitted to the device's queue has finished. */
export function deviceSync(device: GPUDevice): () => Promise<void> {
  return () => device.queue.onSubmittedWorkDone();
}

/** GFLOP/s from a FLOP count and milliseconds. */
export const gflops = (flops: number, ms: number): number => flops / (ms * 1e6);
/** GB/s (1e9 bytes) from a byte count and milliseconds. */
export const gbps = (bytes: number, ms: number): number => bytes / (ms * 1e6);

// ---------------------------------------------------------------------------
// Adapter description: every figure must name its adapter.

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
  features: string[];
  /** Every numeric member of adapter.limits. */
  limits: Record<string, number>;
}

/** Plain-object snapshot of a GPUSupportedLimits (its members are prototype getters). */
export function limitsToObject(limits: GPUSupportedLimits): Record<string, number> {
  const names = new Set<string>();
  for (const k in limits) names.add(k);
  for (let p: object | null = Object.getPrototypeOf(limits); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) names.add(k);
  }
  const out: Record<string, number> = {};
  for (const k of [...names].sort()) {
    const v = (limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info as GPUAdapterInfo & {
    isFallbackAdapter?: boolean;
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const d: AdapterDescription = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    features: [...adapter.features].map(String).sort(),
    limits: limitsToObject(adapter.limits),
  };
  if (info.isFallbackAdapter !== undefined) d.isFallbackAdapter = info.isFallbackAdapter;
  if (info.subgroupMinSize !== undefined) d.subgroupMinSize = info.subgroupMinSize;
  if (info.subgroupMaxSize !== undefined) d.subgroupMaxSize = info.subgroupMaxSize;
  return d;
}

/** One line naming the adapter and its key limits, for table captions. */
export function adapterLine(d: AdapterDescription): string {
  const mib = (x: number | undefined) => (x === undefined ? '?' : `${Math.round(x / 2 ** 20)} MiB`);
  return (
    `${d.description || d.device} [vendor=${d.vendor}, arch=${d.architecture}, device=${d.device}]; ` +
    `maxStorageBufferBindingSize=${mib(d.limits.maxStorageBufferBindingSize)}, ` +
    `maxBufferSize=${mib(d.limits.maxBufferSize)}, ` +
    `maxComputeInvocationsPerWorkgroup=${d.limits.maxComputeInvocationsPerWorkgroup ?? '?'}, ` +
    `f16=${d.features.includes('shader-f16')}, timestamps=${d.features.includes('timestamp-query')}`
  );
}
