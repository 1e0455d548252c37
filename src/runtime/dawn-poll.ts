/**
 * How Dawn's Node binding polls the GPU while a wait on it is pending, and the two changes we make.
 *
 * While a WebGPU promise is pending, Dawn's Node binding polls the device from a setImmediate
 * callback that schedules itself again: as fast as the event loop turns, one CPU core spinning
 * until the GPU is done. It looks `setImmediate` up on the global object each time it schedules
 * (dawn/node/binding/AsyncRunner.cpp), so whatever the global is decides how the next poll runs.
 * Where there is no global setImmediate (a browser, which polls from another process and never
 * spins) waits run as they are.
 *
 * Paced: on a software adapter the kernels run on the same CPU, and a spinning core is taken from
 * them. For the length of a paced wait a 1 ms timer stands in for setImmediate; the answer comes
 * at most about a millisecond later. completion-wait.ts sleeps through most of a wait first; this
 * covers the rest, the part its predictions leave to the poll. Measured on 2-core lavapipe
 * (alternating blocks of steps in one process, 50 steps each): the small VGG's full step
 * 1661 -> 1535 ms and its frozen-base step 494 -> 446 ms (medians); VGG16's frozen-base step at
 * 64x64 1694 -> 1633 ms.
 *
 * Abandoned: a wait that timed out (GpuContextOptions.gpuTimeoutMs, a hung kernel) leaves its
 * promise pending for good, and Dawn would poll for it as long as the process lives: a program
 * that caught the GpuTimeoutError would never end. From then on Dawn's polls run on unreferenced
 * handles, which do not keep the process alive, and only every ABANDONED_POLL_MS while no wait is
 * live; a live wait keeps the process alive with a handle of its own. When nothing else is left,
 * the process ends with its exit code (test/core/device-watch.test.ts runs it).
 *
 * The stand-in changes Dawn's polls only (scheduledByDawn): every other callback goes to Node's
 * setImmediate as it came. Waits may overlap (two readbacks at once, a wait on a new context
 * while an old one hangs): the stand-in is installed by the first that needs it and the original
 * put back by the last, or never once a wait was abandoned.
 *
 * A wait past its limit may be on work that is slow, not hung. On a software adapter that work
 * runs on the process's own threads, and a process that exits under them can crash: SwiftShader
 * did, in 2 of 6 runs of a training run stopped by a 1 ms limit (SIGSEGV in its worker thread
 * while exit() ran the process's destructors, where exit code 1 was due). So when the program is
 * done (`beforeExit`), the queues whose waits were abandoned get up to EXIT_GRACE_MS to finish;
 * a hung one holds the process that long and no longer.
 */
export async function pollDuring<T>(wait: () => Promise<T>, paced: boolean): Promise<T> {
  if (typeof global.setImmediate !== 'function') return wait();
  live++;
  if (paced) pacedWaits++;
  if (abandoned && live === 1) keepAlive = setInterval(() => {}, 1 << 30);
  install();
  try {
    return await wait();
  } finally {
    live--;
    if (paced) pacedWaits--;
    if (live === 0) clearInterval(keepAlive);
    install();
  }
}

/**
 * A wait's promise will stay pending for good (it timed out): Dawn's polls for it must not hold
 * the process. `drained` settles once its queue has finished what was submitted to it.
 */
export function abandonPendingPolls(drained?: () => Promise<unknown>): void {
  if (typeof global.setImmediate !== 'function') return;
  if (drained) abandonedQueues.push(drained);
  if (abandoned) return;
  abandoned = true;
  if (live > 0) keepAlive = setInterval(() => {}, 1 << 30);
  install();
  node.process.once('beforeExit', () => void pollDuring(drainAbandonedQueues, true));
  // Left to end on its own, the process would abort in Dawn's teardown, which refuses a promise
  // still pending ("Promise not resolved or rejected"). At 'exit' everything else has run;
  // exiting from there skips the teardown and keeps the process's exit code.
  node.process.once('exit', (code) => node.process.exit(code));
}

/** How long a process that is done waits for the work of queues whose waits timed out. */
const EXIT_GRACE_MS = 5000;
const abandonedQueues: (() => Promise<unknown>)[] = [];

/** The abandoned queues' work finished, or EXIT_GRACE_MS passed. */
async function drainAbandonedQueues(): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, EXIT_GRACE_MS)));
  const finished = Promise.all(abandonedQueues.map((drained) => Promise.resolve().then(drained).catch(() => {})));
  await Promise.race([finished, graceOver]);
  clearTimeout(timer);
}

/**
 * How many of Dawn's polls have run since the process started, or null where Dawn does not poll
 * through setImmediate (a browser). Counted while the stand-in is installed: a paced wait, or any
 * wait after one was abandoned. A wait whose first poll answered found its work already done
 * (completion-wait.ts: it slept too long).
 */
export const dawnPollsSoFar = (): number | null => (typeof global.setImmediate === 'function' ? polls : null);

/** Whether a paced wait is pending (tests). */
export const pacing = (): boolean => pacedWaits > 0;

/** A Node timer or immediate: unreferenced, it does not keep the process alive. */
interface Handle {
  unref(): unknown;
}
type ImmediateScheduler = (callback: (...args: unknown[]) => void, ...args: unknown[]) => Handle;

/** Node's globals as this file uses them; it touches none but setImmediate where there is none (a browser). */
const global = globalThis as { setImmediate?: ImmediateScheduler };
const node = globalThis as unknown as {
  setTimeout(callback: () => void, ms: number): Handle;
  process: { once(event: 'exit' | 'beforeExit', listener: (code: number) => void): unknown; exit(code: number): void };
};
/** The setImmediate our stand-in replaced, while it is installed. */
let original: ImmediateScheduler | null = null;
/** Waits pending, and how many of them paced. */
let live = 0;
let pacedWaits = 0;
/** Dawn's polls run through the stand-in (dawnPollsSoFar). */
let polls = 0;
/** Whether some wait timed out, its promise left pending. */
let abandoned = false;
let keepAlive: ReturnType<typeof setInterval> | undefined;

/** Polls a few times a second for an abandoned wait alone: often enough to see it end, rarely enough to cost nothing. */
const ABANDONED_POLL_MS = 100;

/** Schedules Dawn's polls as the pending waits need, and everyone else's callbacks as Node would. */
const dawnPoll: ImmediateScheduler = (callback, ...args) => {
  if (!scheduledByDawn(callback)) return original!(callback, ...args);
  const poll = () => {
    polls++;
    callback();
  };
  const handle = pacedWaits > 0 ? node.setTimeout(poll, 1)
    : live > 0 ? original!(poll)
    : node.setTimeout(poll, ABANDONED_POLL_MS);
  if (abandoned) handle.unref();
  return handle;
};

/**
 * Dawn's binding schedules a native function with no name and no parameters (`Napi::Function::New`
 * in AsyncRunner.cpp). A JavaScript function is not native; a bound one has a name; a promise's
 * resolve or reject function, the other nameless native one, takes a parameter.
 */
const scheduledByDawn = (callback: (...args: unknown[]) => void): boolean =>
  callback.name === '' && callback.length === 0 && Function.prototype.toString.call(callback).includes('[native code]');

/** Puts the stand-in in place while a wait is paced or any was abandoned, and the original back after. */
function install(): void {
  const needed = pacedWaits > 0 || abandoned;
  if (needed && !original) {
    original = global.setImmediate!;
    global.setImmediate = dawnPoll;
  } else if (!needed && original) {
    global.setImmediate = original;
    original = null;
  }
}
