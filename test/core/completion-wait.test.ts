import { describe, expect, it } from 'vitest';
import { CompletionWait, type Clock } from '../../src/runtime/completion-wait.js';

// The wait's learning, against a simulated clock and a simulated GPU that finishes each
// submission a fixed time after it starts. A poll answers when the GPU is done (or at once, if
// it already is); what a run costs is the time from submit to that answer.
function simulation(gpuMs: number | (() => number)) {
  const nextGpuMs = typeof gpuMs === 'number' ? () => gpuMs : gpuMs;
  let now = 0;
  let slept = 0;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      slept += ms;
      now += ms;
    },
  };
  const wait = new CompletionWait(true, clock);
  /** One submit-then-wait cycle; returns its wall time. */
  async function run(key = 'step'): Promise<number> {
    const start = now;
    const busy = nextGpuMs();
    wait.submitted(key);
    await wait.beforePoll();
    now = Math.max(now + 0.2, start + busy); // the poll: a tick if already done
    wait.completed();
    return now - start;
  }
  return { wait, run, slept: () => slept };
}

describe('completion wait', () => {
  it('does not sleep on work it has not seen, and learns its duration', async () => {
    const { wait, run, slept } = simulation(100);
    expect(await run()).toBe(100);
    expect(slept()).toBe(0);
    expect(wait.predictedMs('step')).toBe(100);
  });

  it('sleeps most of a repeated step, then polls for the rest', async () => {
    const { run, slept } = simulation(100);
    await run();
    expect(await run()).toBe(100);
    expect(slept()).toBeCloseTo(90); // the margin is left to the poll
  });

  it('recovers within a few runs from a first run that overstated the work', async () => {
    // The first run is timed behind Dawn's spinning poll, which slows a software adapter:
    // 160 ms for work that takes 100 once the wait sleeps.
    const durations = [160, 100];
    const { run } = simulation(() => durations.shift() ?? 100);
    const walls: number[] = [];
    for (let i = 0; i < 6; i++) walls.push(await run());
    expect(walls[0]).toBe(160);
    expect(walls[1]).toBeCloseTo(144.2); // overslept: 90% of 160, and a poll tick
    for (const wall of walls.slice(3)) expect(wall).toBeCloseTo(100); // back to the GPU's own time
  });

  it('follows work that got slower', async () => {
    const durations = [50, 100];
    const { wait, run } = simulation(() => durations.shift() ?? 100);
    await run();
    expect(await run()).toBe(100);
    expect(wait.predictedMs('step')).toBe(100);
  });

  it('keeps a prediction per kind of work, and does not learn from several submissions at once', async () => {
    const { wait, run } = simulation(100);
    await run('a');
    wait.submitted('a');
    wait.submitted('b');
    await wait.beforePoll(); // 'b' is unknown, so the end of the work in flight is unknown
    wait.completed();
    expect(wait.predictedMs('a')).toBe(100);
    expect(wait.predictedMs('b')).toBeUndefined();
  });

  it('does nothing when turned off', async () => {
    let sleeps = 0;
    const wait = new CompletionWait(false, { now: () => 0, sleep: async () => void sleeps++ });
    wait.submitted('step');
    wait.completed();
    wait.submitted('step');
    await wait.beforePoll();
    expect(sleeps).toBe(0);
  });
});
