/**
 * Runs a wait on the GPU with Dawn's polling paced to one poll per millisecond.
 *
 * While a WebGPU promise is pending, Dawn's Node binding polls the device from a setImmediate
 * callback that schedules itself again: as fast as the event loop turns, one CPU core spinning
 * until the GPU is done. It looks `setImmediate` up on the global object each time it schedules
 * (dawn/node/binding/AsyncRunner.cpp), so for the length of a wait a 1 ms timer can stand in for
 * it. On a software adapter the kernels run on the same CPU, and the core goes back to them; the
 * answer comes at most about a millisecond later. completion-wait.ts sleeps through most of a wait
 * first; this covers the rest, the part its predictions leave to the poll. Measured on 2-core
 * lavapipe (alternating blocks of steps in one process, 50 steps each): the small VGG's full step
 * 1661 -> 1535 ms and its frozen-base step 494 -> 446 ms (medians); VGG16's frozen-base step at
 * 64x64 1694 -> 1633 ms.
 *
 * Waits may overlap (two readbacks at once): the stand-in is installed by the first and the
 * original put back by the last. Where there is no global setImmediate (a browser, which polls
 * from another process and never spins) the wait runs as it is.
 */
export async function pacedPoll<T>(wait: () => Promise<T>): Promise<T> {
  const global = globalThis as { setImmediate?: ImmediateScheduler };
  if (typeof global.setImmediate !== 'function') return wait();
  if (active++ === 0) {
    original = global.setImmediate;
    global.setImmediate = pollEveryMillisecond;
  }
  try {
    return await wait();
  } finally {
    if (--active === 0) global.setImmediate = original!;
  }
}

type ImmediateScheduler = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

/** How many paced waits are pending, and the setImmediate they stand in for. */
let active = 0;
let original: ImmediateScheduler | null = null;

const pollEveryMillisecond: ImmediateScheduler = (callback, ...args) => setTimeout(callback, 1, ...args);

/** Whether a paced wait is pending (tests). */
export const pacing = (): boolean => active > 0;
