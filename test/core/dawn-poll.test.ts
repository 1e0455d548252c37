// Paced polls (src/runtime/dawn-poll.ts): for the length of a wait, Dawn's Node binding schedules
// its polls through a 1 ms timer instead of setImmediate, and the global is put back afterwards.
// What happens to the polls of a wait that timed out: test/core/device-watch.test.ts, in a process
// of its own.
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { pollDuring, pacing } from '../../src/runtime/dawn-poll.js';
import { randn } from '../../src/ops/creation.js';
import { matmul } from '../../src/ops/index.js';

const stock = globalThis.setImmediate;

describe('pollDuring', () => {
  it('stands in for setImmediate while waits are pending, overlapping or failing, and puts it back', async () => {
    let release!: () => void;
    const first = pollDuring(() => new Promise<void>((resolve) => (release = resolve)), true);
    expect(pacing()).toBe(true);
    expect(globalThis.setImmediate).not.toBe(stock);
    await expect(pollDuring(async () => Promise.reject(new Error('lost')), true)).rejects.toThrow('lost');
    expect(globalThis.setImmediate).not.toBe(stock); // the first is still pending
    release();
    await first;
    expect(pacing()).toBe(false);
    expect(globalThis.setImmediate).toBe(stock);
  });

  it("passes everyone else's callbacks to setImmediate as they came, a promise's resolve function too", async () => {
    const passed: unknown[] = [];
    const counting = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      passed.push(callback);
      return stock(callback, ...args);
    }) as typeof setImmediate;
    globalThis.setImmediate = counting;
    try {
      let release!: () => void;
      const wait = pollDuring(() => new Promise<void>((resolve) => (release = resolve)), true);
      const named = () => {};
      await new Promise<void>((resolve) => {
        setImmediate(named);
        setImmediate(named.bind(null));
        setImmediate(resolve);
      });
      expect(passed).toHaveLength(3);
      expect(passed[0]).toBe(named);
      release();
      await wait;
      expect(globalThis.setImmediate).toBe(counting);
    } finally {
      globalThis.setImmediate = stock;
    }
  });

  it("is the poll Dawn uses: a paced wait schedules none of Dawn's polls through setImmediate, a stock one hundreds", async () => {
    const ctx = await testContext();
    let immediates = 0;
    const counting = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      immediates++;
      return stock(callback, ...args);
    }) as typeof setImmediate;
    const a = randn([384, 384], 1);
    const b = randn([384, 384], 2);
    matmul(a, b).dispose(); // compiles the kernel: both waits below are for the products alone
    await ctx.recorder.sync();
    /** Polls scheduled through the global setImmediate while waiting for a few products, and the wait's length. */
    const measure = async (wait: (done: () => Promise<void>) => Promise<void>) => {
      const products = Array.from({ length: 6 }, () => matmul(a, b));
      ctx.recorder.flush();
      globalThis.setImmediate = counting;
      immediates = 0;
      const start = performance.now();
      try {
        await wait(() => ctx.device.queue.onSubmittedWorkDone());
      } finally {
        globalThis.setImmediate = stock;
      }
      for (const p of products) p.dispose();
      return { immediates, ms: performance.now() - start };
    };
    const spun = await measure((done) => done());
    const paced = await measure((done) => pollDuring(done, true));
    console.log(`stock poll: ${spun.immediates} polls in ${spun.ms.toFixed(0)} ms; paced: ${paced.immediates} through setImmediate in ${paced.ms.toFixed(0)} ms`);
    expect(spun.ms).toBeGreaterThan(20); // long enough for a spinning poll to show
    expect(spun.immediates).toBeGreaterThan(100);
    expect(paced.immediates).toBe(0);
    a.dispose();
    b.dispose();
  });
});
