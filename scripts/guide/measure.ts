// Measuring a training step from outside the engine: GPU time per dispatch from the profiler
// (timestamp-query), split into the step's parts by dispatch counts, and the bytes of the buffer
// pool's buffers that are handed out.
import type { GpuContext } from '../../src/runtime/context.js';
import type { KernelTiming } from '../../src/runtime/profiler.js';
import type { BufferPool } from '../../src/runtime/buffer-pool.js';

export interface ProfiledPart {
  name: string;
  timings: KernelTiming[];
  /** Σ of the dispatches' GPU durations, in ms. */
  gpuMs: number;
}

/**
 * Runs `step` with every dispatch timed. `step` calls `mark(name)` at the end of each of its
 * parts (e.g. 'forward', 'backward', 'update'); the dispatches since the previous mark are that
 * part's. Returns null when the adapter cannot time kernels.
 */
export async function profileStep(ctx: GpuContext, step: (mark: (name: string) => void) => void): Promise<ProfiledPart[] | null> {
  if (!ctx.hasFeature('timestamp-query')) return null;
  ctx.startProfiling();
  const marks: { name: string; dispatches: number }[] = [];
  let last = ctx.recorder.stats.dispatches;
  step((name) => {
    marks.push({ name, dispatches: ctx.recorder.stats.dispatches - last });
    last = ctx.recorder.stats.dispatches;
  });
  const timings = await ctx.stopProfiling();
  let at = 0;
  return marks.map(({ name, dispatches }) => {
    const part = timings.slice(at, at + dispatches);
    at += dispatches;
    return { name, timings: part, gpuMs: part.reduce((s, t) => s + (t.endNs - t.startNs), 0) / 1e6 };
  });
}

/** Bytes of the pool's buffers currently handed out, and the most seen since `resetPeak()`. */
export interface LiveBytes {
  readonly live: number;
  readonly peak: number;
  resetPeak(): void;
}

const trackers = new WeakMap<BufferPool, LiveBytes>();

/** Follows `pool.acquire` / `pool.release` (buffer sizes are the pool's bucket sizes). */
export function trackLiveBytes(pool: BufferPool): LiveBytes {
  const existing = trackers.get(pool);
  if (existing) return existing;
  const state = { live: 0, peak: 0 };
  const acquire = pool.acquire.bind(pool);
  const release = pool.release.bind(pool);
  pool.acquire = (byteSize) => {
    const buffer = acquire(byteSize);
    state.live += buffer.size;
    state.peak = Math.max(state.peak, state.live);
    return buffer;
  };
  pool.release = (buffer) => {
    state.live -= buffer.size;
    release(buffer);
  };
  const tracker: LiveBytes = {
    get live() {
      return state.live;
    },
    get peak() {
      return state.peak;
    },
    resetPeak() {
      state.peak = state.live;
    },
  };
  trackers.set(pool, tracker);
  return tracker;
}
