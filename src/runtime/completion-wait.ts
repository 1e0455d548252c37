/**
 * Sleeps through most of the GPU's expected work before asking WebGPU when it is done.
 *
 * Why: while any of its promises (onSubmittedWorkDone, mapAsync) is pending, Dawn's Node binding
 * polls the device from a setImmediate loop, so one CPU core spins until the GPU finishes. On a
 * software adapter (lavapipe, SwiftShader) the kernels run on the same CPU, and that core is
 * taken from them: on a 2-core machine a 64-channel 64x64 conv layer (batch 4) took 145-168 ms
 * behind the spinning poll and 85-100 ms when the wait first slept (scratch measurement, 28 Nov).
 * A browser runs the GPU in another process and does not spin, so it does not sleep
 * (GpuContextOptions.sleepBeforePoll).
 *
 * How long to sleep is learned: a training loop submits the same work again and again, so each
 * submission is keyed by its dispatches, copies and clears (recorder.ts), and a kind's last
 * measured time predicts the next.
 * Unknown work is not slept on. The sleep stops short of the prediction by a margin, and the poll
 * after it measures the rest. Time spent polling counts at a discount: behind Dawn's stock,
 * spinning poll the work ran slower (a whole VGG16 step on 2-core lavapipe: 6.5 s against 4.0);
 * paced (below) it does not, and the discount only keeps the sleep short of the work. When the
 * first poll after a sleep answers, the GPU had finished during the sleep by an unknown amount:
 * the prediction is dropped, and the next run of that kind is measured afresh. Sleeping too long
 * costs the whole excess; too short, only a slower end of the work: the discount and the margin
 * err on the short side. Simulated (test/core/completion-wait.test.ts), a repeated step costs
 * 1.04-1.10x its work where polling slows it 1.6-2x, and follows a step that got twice as fast or
 * slow within a few runs. What is left to the poll is paced (dawn-poll.ts): one poll a
 * millisecond, not a spinning core.
 *
 * An overstated prediction is common: lavapipe compiles a kernel when it is first dispatched, not
 * when its pipeline is made, so with an empty shader cache (a fresh machine, or kernels new since
 * the last run) the first run of a kind takes about a second more per new kernel, 10-50x what
 * the next runs take. The wait used to shrink an overslept prediction by a fixed factor, and only
 * when the poll answered within 1 ms, which a paced poll never does: a 16 ms weight gradient was
 * slept on for 700 ms after its first run, then 4-5% less each run.
 */
import { dawnPollsSoFar, pollDuring } from './dawn-poll.js';

/** Fraction of a prediction left to the poll, so that a run slightly faster than the last is not overslept. */
const MARGIN = 0.05;
/** Sleeps shorter than this are not worth a timer (timers are ~1 ms coarse). */
const MIN_SLEEP_MS = 2;
/** Where Dawn's polls are not counted (a browser): a wait answered within this long found the work already done. */
const AT_ONCE_MS = 1;
/** Kinds of work remembered; the least recently learned is forgotten past this. */
const MAX_KINDS = 1024;
/**
 * What time measured while polling is taken to be worth: behind a spinning poll (2-core lavapipe)
 * the work ran at 4.0 / 6.5 of its speed for a whole step; behind a paced one, at full speed, so
 * the sleep settles at about 0.9 of the work and the pace covers the rest.
 */
const SPUN_DISCOUNT = 0.5;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface Submission {
  key: string;
  at: number;
}

export class CompletionWait {
  /** Last measured duration of each kind of submission, in ms. */
  private readonly durations = new Map<string, number>();
  /** Submitted since the last completed wait. */
  private inFlight: Submission[] = [];
  /** When the work in flight should be done (NaN: unknown). */
  private expectedIdleAt = 0;
  /** When the last beforePoll() returned, if it slept. */
  private sleptUntil: number | null = null;

  constructor(
    readonly enabled: boolean,
    private readonly clock: Clock = realClock,
  ) {}

  /** Notes a queue.submit of work identified by `key`. */
  submitted(key: string): void {
    const at = this.clock.now();
    this.inFlight.push({ key, at });
    // The queue runs submissions in order: this one starts when the previous ones are done.
    this.expectedIdleAt = Math.max(this.expectedIdleAt, at) + (this.durations.get(key) ?? NaN);
  }

  /**
   * Waits for `completion` (a promise that resolves when the GPU is done: onSubmittedWorkDone, a
   * mapAsync): sleeps first if the work in flight is predicted to run on, then, when enabled,
   * polls at a paced rate rather than spinning (dawn-poll.ts), and learns from the time taken.
   */
  async wait<T>(completion: () => Promise<T>): Promise<T> {
    await this.beforePoll();
    const before = dawnPollsSoFar();
    const result = await pollDuring(completion, this.enabled);
    const after = dawnPollsSoFar();
    this.completed(before === null || after === null ? undefined : after - before);
    return result;
  }

  /** Call before registering a completion promise: sleeps if the work in flight is predicted to run on. */
  async beforePoll(): Promise<void> {
    if (!this.enabled || this.inFlight.length === 0) return;
    const first = this.inFlight[0]!.at;
    const margin = MARGIN * (this.expectedIdleAt - first);
    const sleep = this.expectedIdleAt - margin - this.clock.now();
    if (Number.isNaN(sleep) || sleep < MIN_SLEEP_MS) return; // NaN: some work in flight is unknown
    await this.clock.sleep(sleep);
    this.sleptUntil = this.clock.now();
  }

  /**
   * Call when the completion promise resolved: everything submitted so far is done. `polls`: how
   * many of Dawn's polls it took (dawnPollsSoFar), where they are counted.
   */
  completed(polls?: number): void {
    const first = this.inFlight[0];
    if (first) {
      const now = this.clock.now();
      const slept = this.sleptUntil === null ? 0 : this.sleptUntil - first.at;
      const overslept = this.sleptUntil !== null && (polls === undefined ? now - this.sleptUntil < AT_ONCE_MS : polls <= 1);
      if (overslept) this.forget();
      else this.learn(slept + SPUN_DISCOUNT * (now - first.at - slept)); // time spent polling at a discount
    }
    this.inFlight = [];
    this.expectedIdleAt = 0;
    this.sleptUntil = null;
  }

  /**
   * Explains `span`, the time from the first submission in flight to the end of the last, by
   * updating one kind of work: the one kind not seen before, or else the kind that accounts for
   * most of the predicted time (a trainer's steps, beside the small uploads and readbacks that
   * share a wait with them). The GPU was idle at the first submit (the last wait saw everything
   * done), and the submissions are taken to run back to back: where the GPU idled between them,
   * the learned time is too long, and an oversleep corrects it. With two unknown kinds nothing
   * is learned.
   */
  private learn(span: number): void {
    const { counts, share, unknown, dominant } = this.kindsInFlight();
    if (unknown.length > 1) return;
    const target = unknown[0] ?? dominant;
    const others = [...counts.keys()].filter((key) => key !== target).reduce((sum, key) => sum + share(key), 0);
    this.durations.delete(target); // re-inserted last: the map's order is oldest-learned first
    this.durations.set(target, Math.max(0, span - others) / counts.get(target)!);
    if (this.durations.size > MAX_KINDS) this.durations.delete(this.durations.keys().next().value!);
  }

  /** Drops the prediction of the kind that learn() would update: it slept past the work by an unknown amount. */
  private forget(): void {
    this.durations.delete(this.kindsInFlight().dominant);
  }

  /**
   * The kinds of work in flight: how many of each, their predicted time (0 if unknown), those not
   * seen before, and the one that accounts for most of the predicted time.
   */
  private kindsInFlight() {
    const counts = new Map<string, number>();
    for (const { key } of this.inFlight) counts.set(key, (counts.get(key) ?? 0) + 1);
    const share = (key: string) => counts.get(key)! * (this.durations.get(key) ?? 0);
    const keys = [...counts.keys()];
    return {
      counts,
      share,
      unknown: keys.filter((key) => !this.durations.has(key)),
      dominant: keys.reduce((a, b) => (share(b) > share(a) ? b : a)),
    };
  }

  /** The prediction for a kind of submission, in ms (tests, diagnostics). */
  predictedMs(key: string): number | undefined {
    return this.durations.get(key);
  }
}
