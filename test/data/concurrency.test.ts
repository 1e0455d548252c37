import { describe, expect, it } from 'vitest';
import { concurrencyLimiter, mapAhead, mapConcurrently, SharedExclusiveLock } from '../../src/data/concurrency.js';

const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));

describe('concurrencyLimiter and mapConcurrently', () => {
  it('never runs more than the limit at once and keeps results in order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0, 6], 3, async (ms) => {
      most = Math.max(most, ++running);
      await tick(ms);
      running--;
      return ms * 2;
    });
    expect(results).toEqual([10, 2, 8, 4, 6, 0, 12]);
    expect(most).toBe(3);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => concurrencyLimiter(0)).toThrow(RangeError);
  });
});

describe('SharedExclusiveLock', () => {
  it('runs an exclusive task alone: after the shared ones in flight, before the ones that come later', async () => {
    const lock = new SharedExclusiveLock();
    const events: string[] = [];
    const shared = (name: string, ms: number) =>
      lock.shared(async () => {
        events.push(`${name} start`);
        await tick(ms);
        events.push(`${name} end`);
      });
    const running = [shared('a', 5), shared('b', 10)];
    await tick(0);
    running.push(
      lock.exclusive(async () => {
        events.push('x start');
        await tick(5);
        events.push('x end');
      }),
    );
    running.push(shared('c', 1));
    await Promise.all(running);
    expect(events).toEqual(['a start', 'b start', 'a end', 'b end', 'x start', 'x end', 'c start', 'c end']);
  });

  it('runs exclusive tasks one at a time, and frees the lock when a task throws', async () => {
    const lock = new SharedExclusiveLock();
    let inside = 0;
    let most = 0;
    const exclusive = (fail: boolean) =>
      lock.exclusive(async () => {
        most = Math.max(most, ++inside);
        await tick(2);
        inside--;
        if (fail) throw new Error('failed');
      });
    const outcomes = await Promise.allSettled([exclusive(true), exclusive(false), exclusive(true)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    expect(most).toBe(1);
    await expect(lock.shared(async () => 'free')).resolves.toBe('free');
  });
});

describe('mapAhead', () => {
  it('yields in order, never runs more than `concurrency` at once, reads ahead while the consumer waits', async () => {
    let running = 0;
    let mostRunning = 0;
    const started: number[] = [];
    const slow = async (i: number): Promise<number> => {
      started.push(i);
      running++;
      mostRunning = Math.max(mostRunning, running);
      await new Promise((resolve) => setTimeout(resolve, (7 * i) % 5));
      running--;
      return i * 10;
    };
    const results: number[] = [];
    for await (const result of mapAhead([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], slow, { concurrency: 2, readAhead: 4 })) {
      if (result.ok) results.push(result.value);
      if (results.length === 1) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        // While the consumer held item 0, items 1..4 were started (read-ahead 4) and no more.
        expect(started).toEqual([0, 1, 2, 3, 4]);
      }
    }
    expect(results).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(mostRunning).toBe(2);
  });
});
