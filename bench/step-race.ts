// A training step of ours raced against tfjs's on the same adapter: the two sides' steps
// alternate, so both see the same machine. Browser-safe: the bench (bench/run.ts) runs it in
// Node, the benchmark page (web/bench.ts) in a browser.
import type { GpuContext } from '../src/runtime/context.js';
import type { TfjsPeer } from './peers/tfjs.js';
import { median } from './util/timing.js';
import { errorLine } from './util/error-line.js';
import { expectedMemory, ourStepRunner, peerHasStep, stepName, stepShape, tfjsStepRunner, type MemoryModel, type StepInvariants, type StepRunner, type StepSpec } from './train-step.js';

export interface StepRaceResult {
  name: string;
  shape: string;
  batch: number;
  oursMs: number | null;
  tfjsMs: number | null;
  oursImagesPerSec: number | null;
  tfjsImagesPerSec: number | null;
  /** tfjs step time / ours: above 1, ours is faster. */
  speedup: number | null;
  oursPeakBytes: number | null;
  tfjsPeakBytes: number | null;
  expected: MemoryModel;
  invariants: StepInvariants | null;
  /**
   * CPU time of this process per step (user + system, all threads: lavapipe's and SwiftShader's
   * workers run inside it). On a shared machine wall time follows the other jobs' load; CPU time
   * follows the work, so the ratio of CPU times is the steadier comparison on a software adapter.
   */
  oursCpuMs: number | null;
  tfjsCpuMs: number | null;
  cpuSpeedup: number | null;
  samples: number;
  oursSamplesMs: number[];
  tfjsSamplesMs: number[];
  oursCpuSamplesMs: number[];
  tfjsCpuSamplesMs: number[];
  notes: string[];
  /** Convolution tiles measured per layer before our steps (--tune-kernels). */
  tuned?: string[];
  error?: string;
  tfjsError?: string;
}

/** The median of the samples, or null when a side took none. */
const medianOf = (xs: readonly number[]) => (xs.length ? median(xs) : null);

export interface StepRaceOptions {
  /** Timed steps of each side. */
  reps: number;
  /** Time the convolution tiles on our model's layers first (GPUs). */
  tuneKernels?: boolean;
  /** This process's CPU time in ms (Node's process.cpuUsage), for the CPU-time figures; none in a browser. */
  cpuClock?: () => number;
}

/**
 * Warms each side up (ours two steps: pipelines, optimizer state and the pool settle; tfjs one),
 * then alternates one step of ours with one of tfjs's. A failure on either side is recorded in
 * the result, not thrown.
 */
export async function raceSteps(ctx: GpuContext, peer: TfjsPeer | null, spec: StepSpec, { reps, tuneKernels = false, cpuClock }: StepRaceOptions): Promise<StepRaceResult> {
  const result: StepRaceResult = {
    name: stepName(spec), shape: stepShape(spec), batch: spec.batch, oursMs: null, tfjsMs: null, oursImagesPerSec: null, tfjsImagesPerSec: null,
    speedup: null, oursPeakBytes: null, tfjsPeakBytes: null, expected: expectedMemory(spec), invariants: null,
    oursCpuMs: null, tfjsCpuMs: null, cpuSpeedup: null, samples: 0,
    oursSamplesMs: [], tfjsSamplesMs: [], oursCpuSamplesMs: [], tfjsCpuSamplesMs: [], notes: [],
  };
  let ours: StepRunner | null = null;
  let tfjs: StepRunner | null = null;
  const timed = async (runner: StepRunner, wall: number[], cpu: number[]) => {
    const c0 = cpuClock?.();
    const t0 = performance.now();
    await runner.step();
    wall.push(performance.now() - t0);
    if (cpuClock) cpu.push(cpuClock() - c0!);
  };
  try {
    ours = await ourStepRunner(ctx, spec, tuneKernels);
    if (peer && peerHasStep(spec)) {
      try {
        tfjs = await tfjsStepRunner(peer, spec);
        await tfjs.step();
      } catch (e) {
        result.tfjsError = errorLine(e);
        await tfjs?.dispose();
        tfjs = null;
      }
    }
    for (let i = 0; i < 2; i++) await ours.step();
    for (let r = 0; r < reps; r++) {
      await timed(ours, result.oursSamplesMs, result.oursCpuSamplesMs);
      if (tfjs) {
        try {
          await timed(tfjs, result.tfjsSamplesMs, result.tfjsCpuSamplesMs);
        } catch (e) {
          result.tfjsError = errorLine(e);
          tfjs = null;
        }
      }
    }
    const mine = ours.finish();
    result.oursPeakBytes = mine.peakBytes;
    result.invariants = mine.invariants ?? null;
    if (mine.notes) result.notes.push(`ours: ${mine.notes}`);
    if (mine.tuned) result.tuned = mine.tuned;
    if (tfjs) {
      const theirs = tfjs.finish();
      result.tfjsPeakBytes = theirs.peakBytes;
      if (theirs.notes) result.notes.push(`tfjs: ${theirs.notes}`);
    }
  } catch (e) {
    result.error = errorLine(e);
  } finally {
    await ours?.dispose().catch(() => undefined);
    await tfjs?.dispose().catch(() => undefined);
  }
  result.samples = result.oursSamplesMs.length;
  result.oursMs = medianOf(result.oursSamplesMs);
  result.tfjsMs = medianOf(result.tfjsSamplesMs);
  result.oursImagesPerSec = result.oursMs ? (spec.batch * 1000) / result.oursMs : null;
  result.tfjsImagesPerSec = result.tfjsMs ? (spec.batch * 1000) / result.tfjsMs : null;
  result.speedup = result.oursMs && result.tfjsMs ? result.tfjsMs / result.oursMs : null;
  result.oursCpuMs = medianOf(result.oursCpuSamplesMs);
  result.tfjsCpuMs = medianOf(result.tfjsCpuSamplesMs);
  result.cpuSpeedup = result.oursCpuMs && result.tfjsCpuMs ? result.tfjsCpuMs / result.oursCpuMs : null;
  return result;
}
