import { describe, expect, it } from 'vitest';
import { CompletionWait, type Clock } from '../../src/runtime/completion-wait.js';

// The wait's learning, against a simulated clock and a simulated software adapter: its work goes
// at full speed while the host sleeps and SPIN times slower while the host polls (Dawn's poll
// spins a core the kernels need; 2-core lavapipe measured about 1.6). Polls come once every PACE
// ms, as dawn-poll.ts paces them: the first finds work already done after one PACE (more than the
// 1 ms the wait once took as "at once"), and the wait is told how many polls it took.
const SPIN = 1.6;
const PACE = 1.1;

function simulation() {
  let now = 0;
  let remaining = 0; // ms of GPU work left, at full speed
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      remaining = Math.max(0, remaining - ms);
    },
  };
  const wait = new CompletionWait(true, clock);
  /** Submits the given work (kind, ms) back to back, then waits; returns the wall time. */
  async function run(...work: [string, number][]): Promise<number> {
    const start = now;
    for (const [kind, ms] of work) {
      remaining += ms;
      wait.submitted(kind);
    }
    await wait.beforePoll();
    const polls = remaining > 0 ? 1 + Math.ceil((remaining * SPIN) / PACE) : 1;
    now += remaining > 0 ? remaining * SPIN : PACE;
    remaining = 0;
    wait.completed(polls);
    return now - start;
  }
  /** `count` runs of one submission of `ms`; their wall times. */
  async function repeat(count: number, ms: number, kind = 'step'): Promise<number[]> {
    const walls: number[] = [];
    for (let i = 0; i < count; i++) walls.push(await run([kind, ms]));
    return walls;
  }
  return { wait, run, repeat };
}

describe('completion wait', () => {
  it('polls at once on work it has not seen, and discounts the time it measured behind the spinning poll', async () => {
    const { wait, repeat } = simulation();
    expect(await repeat(1, 100)).toEqual([160]);
    expect(wait.predictedMs('step')).toBeCloseTo(80); // half of 160
  });

  it('sleeps through most of a repeated step: close to the work itself, never below it', async () => {
    const { repeat } = simulation();
    const walls = await repeat(10, 100);
    for (const wall of walls.slice(2)) {
      expect(wall).toBeGreaterThanOrEqual(100);
      expect(wall).toBeLessThan(110); // polling throughout: 160
    }
  });

  it('follows work that got faster (overslept: measured afresh) and slower', async () => {
    const { repeat } = simulation();
    await repeat(5, 100);
    const faster = await repeat(8, 50);
    for (const wall of faster.slice(3)) expect(wall).toBeLessThan(65);
    const slower = await repeat(8, 200);
    for (const wall of slower.slice(3)) expect(wall).toBeLessThan(250); // polling throughout: 320
  });

  it('measures afresh after a sleep that outlasted the work: a first run that compiled does not cost the next ones', async () => {
    // lavapipe compiles a kernel at its first dispatch: with an empty shader cache a 16 ms kernel's
    // first run took about 700 ms, and the wait then slept 700 ms on each next run, 4-5% less each time.
    const { wait, repeat } = simulation();
    await repeat(1, 700);
    const after = await repeat(10, 16);
    expect(after[0]).toBeGreaterThan(300); // slept on the first run's time: the one run it costs
    expect(wait.predictedMs('step')).toBeLessThan(20);
    for (const wall of after.slice(1)) expect(wall).toBeLessThan(30);
  });

  it('learns from a run of the same work in flight, and sleeps through the run', async () => {
    // A trainer that reads its loss every 3 steps: three submits, then one wait.
    const { wait, run } = simulation();
    const three: [string, number][] = [['step', 100], ['step', 100], ['step', 100]];
    expect(await run(...three)).toBe(480);
    expect(wait.predictedMs('step')).toBeCloseTo(80); // half of 480, over 3
    for (let i = 0; i < 3; i++) await run(...three);
    expect(await run(...three)).toBeLessThan(320);
  });

  it('learns an unseen kind of work beside known ones from what the known ones do not explain', async () => {
    const { wait, run } = simulation();
    await run(['read', 1]);
    const read = wait.predictedMs('read')!;
    await run(['step', 100], ['step', 100], ['read', 1]); // one unseen kind: it takes the rest
    expect(wait.predictedMs('step')).toBeCloseTo((0.5 * 201 * SPIN - read) / 2);
    expect(wait.predictedMs('read')).toBe(read);
    await run(['eval', 30], ['other', 5]); // two unseen kinds cannot be told apart
    expect(wait.predictedMs('eval')).toBeUndefined();
    expect(wait.predictedMs('other')).toBeUndefined();
  });

  it('forgets the least recently learned kind past 1024 kinds', async () => {
    const { wait, repeat } = simulation();
    for (let i = 0; i < 1025; i++) await repeat(1, 10, `kind ${i}`);
    expect(wait.predictedMs('kind 0')).toBeUndefined();
    expect(wait.predictedMs('kind 1')).toBeDefined();
    expect(wait.predictedMs('kind 1024')).toBeDefined();
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

describe("who sleeps: GpuContextOptions.sleepBeforePoll", () => {
  it("'software' sleeps on a software adapter (this machine's), false and true as told", async () => {
    const { GpuContext, createNodeGpu } = await import('../../src/node.js');
    for (const [option, expected] of [['software', true], [false, false], [true, true]] as const) {
      const ctx = await GpuContext.create(await createNodeGpu(), { sleepBeforePoll: option });
      try {
        expect(ctx.adapter.isSoftware).toBe(true);
        expect(ctx.recorder.completion.enabled, String(option)).toBe(expected);
      } finally {
        ctx.destroy();
      }
    }
  });
});

describe('what counts as the same work', () => {
  it('a readback is keyed by its size: a 4 MiB one and a 4-byte one are different kinds of work, two of one size the same', async () => {
    // Keyed alike, the small reads of a checkpoint were slept on for as long as its 392 MiB one took.
    const { initNode, Tensor } = await import('../../src/node.js');
    const ctx = await initNode();
    try {
      const [large, small] = [Tensor.zeros(ctx, [2 ** 20]), Tensor.zeros(ctx, [1])];
      await ctx.recorder.sync();
      const keys: string[] = [];
      const submitted = ctx.recorder.completion.submitted.bind(ctx.recorder.completion);
      ctx.recorder.completion.submitted = (key) => {
        keys.push(key);
        submitted(key);
      };
      for (const t of [large, small, large, small]) await t.read();
      expect(keys).toHaveLength(4);
      expect(keys[0]).not.toBe(keys[1]);
      expect(keys.slice(2)).toEqual(keys.slice(0, 2));
    } finally {
      ctx.destroy();
    }
  });
});
