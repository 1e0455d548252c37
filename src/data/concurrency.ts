/** Bounded concurrency for file reads and decodes: a limiter, and an ordered map that reads ahead. */

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs the tasks given to it at most `limit` at a time, in the order they were given. */
export function concurrencyLimiter(limit: number): <R>(task: () => Promise<R>) => Promise<R> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let running = 0;
  const waiting: (() => void)[] = [];
  const acquire = async (): Promise<void> => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
  };
  // A finishing task hands its slot straight to the next waiting one.
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return async (task) => {
    await acquire();
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/** Maps every item with at most `limit` calls in flight; results in input order. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const run = concurrencyLimiter(limit);
  return Promise.all(items.map((item) => run(() => map(item))));
}

const settle = <R>(promise: Promise<R>): Promise<Settled<R>> =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

/**
 * Maps items in order, yielding settled results in input order. Calls start up to `readAhead`
 * items before the consumer asks for them (at most `concurrency` running at once), so the work
 * for what comes next goes on while the consumer is busy with what it was given.
 */
export async function* mapAhead<T, R>(
  items: Iterable<T>,
  map: (item: T) => Promise<R>,
  { concurrency, readAhead }: { concurrency: number; readAhead: number },
): AsyncGenerator<Settled<R>> {
  const run = concurrencyLimiter(concurrency);
  const source = items[Symbol.iterator]();
  const started: Promise<Settled<R>>[] = [];
  let exhausted = false;
  const startMore = (): void => {
    while (!exhausted && started.length < readAhead) {
      const next = source.next();
      if (next.done) exhausted = true;
      else started.push(settle(run(() => map(next.value))));
    }
  };
  startMore();
  while (started.length > 0) {
    const result = await started.shift()!;
    startMore();
    yield result;
  }
}

/**
 * Many tasks may hold the lock together (shared), or one alone (exclusive): an exclusive task
 * waits for the shared ones in flight to finish and holds new ones back until it is done.
 */
export class SharedExclusiveLock {
  private sharedCount = 0;
  private exclusiveDone: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;

  async shared<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusiveDone) await this.exclusiveDone;
    this.sharedCount++;
    try {
      return await task();
    } finally {
      this.sharedCount--;
      if (this.sharedCount === 0) this.onDrained?.();
    }
  }

  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusiveDone) await this.exclusiveDone;
    let release!: () => void;
    this.exclusiveDone = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.sharedCount > 0) await new Promise<void>((resolve) => (this.onDrained = resolve));
      this.onDrained = undefined;
      return await task();
    } finally {
      this.exclusiveDone = undefined;
      release();
    }
  }
}
