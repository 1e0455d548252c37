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
  /** Submits `submits` times back to back, then waits; returns the wall time. */
  async function run(key = 'step', submits = 1): Promise<number> {
    const start = now;
    let busy = 0;
    for (let i = 0; i < submits; i++) {
      busy += nextGpuMs();
      wait.submitted(key);
    }
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

  it('learns from a run of the same work in flight, and sleeps through the run', async () => {
    // A trainer that reads its loss every 3 steps: three submits, then one wait.
    const { wait, run, slept } = simulation(100);
    expect(await run('step', 3)).toBe(300);
    expect(wait.predictedMs('step')).toBe(100);
    expect(await run('step', 3)).toBe(300);
    expect(slept()).toBeCloseTo(270);
  });

  it('learns an unseen kind of work beside known ones from what the known ones do not explain', async () => {
    const times: Record<string, number> = { step: 100, read: 1 };
    let now = 0;
    const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
    const wait = new CompletionWait(true, clock);
    const cycle = async (keys: string[]) => {
      const start = now;
      for (const key of keys) wait.submitted(key);
      await wait.beforePoll();
      now = Math.max(now + 0.2, start + keys.reduce((sum, key) => sum + times[key]!, 0));
      wait.completed();
    };
    await cycle(['read']);
    await cycle(['step', 'step', 'read']); // one unseen kind: it takes the rest, (201 - 1) / 2
    expect(wait.predictedMs('step')).toBeCloseTo(100);
    times.step = 120;
    await cycle(['step', 'step', 'read']); // all known: the dominant kind absorbs the change
    expect(wait.predictedMs('step')).toBeCloseTo(120);
    expect(wait.predictedMs('read')).toBe(1);
    await cycle(['eval', 'other']); // two unseen kinds cannot be told apart
    expect(wait.predictedMs('eval')).toBeUndefined();
    expect(wait.predictedMs('other')).toBeUndefined();
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
