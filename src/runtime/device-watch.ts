import { abandonPendingPolls } from './dawn-poll.js';
import { DeviceLostError, GpuTimeoutError, type GpuFailureError } from './errors.js';

/**
 * Turns a GPU that stops working into an error that says so, at the next wait on it.
 *
 * Two ways a device stops:
 *   lost  - a driver reset, a browser's GPU process crashing, `device.destroy()` called from
 *           elsewhere. WebGPU then treats every call as valid and does nothing: a readback fails
 *           with a bare AbortError, `onSubmittedWorkDone` resolves as if all were well, and a
 *           training loop that reads nothing back would go on "training" on a dead device.
 *   hung  - a kernel or driver that never finishes. A wait on it never returns. Only a limit on
 *           the wait (GpuContextOptions.gpuTimeoutMs) turns that into an error; in Node, Dawn then
 *           polls the hung queue in the background without holding the process (dawn-poll.ts).
 *
 * Either way everything on the device is gone, so the first failure sticks: every later submit
 * and wait throws it. A trainer's last checkpoint (after an epoch, or inside one on a schedule)
 * is what survives (train/run-node.ts says so in its message).
 */
export class DeviceWatch {
  /** Why the device can run nothing more; null while it works. */
  failure: GpuFailureError | null = null;
  private closing = false;
  /** Settles once the device is lost (whoever lost it). */
  private readonly lost: Promise<void>;

  constructor(
    private readonly device: GPUDevice,
    /** How long a wait on the GPU may take; undefined: no limit. */
    readonly timeoutMs?: number,
  ) {
    this.lost = device.lost.then((info) => {
      if (this.closing) return; // destroyed by its own context
      this.failure ??= new DeviceLostError(info.reason, info.message);
      console.error(`webgpu-transfer: GPU device lost (${info.reason}): ${info.message}`); // now, not at the next wait
    });
  }

  /** The context destroys its device on purpose: that loss is no failure. */
  close(): void {
    this.closing = true;
  }

  /** Whether the device's queue may never finish: destroying the device would wait for it. */
  get hung(): boolean {
    return this.failure instanceof GpuTimeoutError;
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * `completion` (a promise that settles when the GPU is done: a mapAsync, onSubmittedWorkDone)
   * within the time limit, and the device's loss in place of whatever a lost device answered.
   */
  async bound<T>(completion: Promise<T>): Promise<T> {
    if (this.failure) {
      completion.catch(() => {}); // a lost device's answer, no longer asked for
      throw this.failure;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = this.timeoutMs;
    const expired = new Promise<never>((_, reject) => {
      if (limit === undefined) return;
      timer = setTimeout(() => {
        this.failure ??= new GpuTimeoutError(limit);
        // `completion` may never settle: waiting for it must not keep a Node process alive (only
        // a few seconds at its end, in case the work was just slow).
        abandonPendingPolls(() => this.device.queue.onSubmittedWorkDone());
        reject(this.failure);
      }, limit);
    });
    try {
      const result = await Promise.race([completion, expired]);
      this.throwIfFailed(); // onSubmittedWorkDone resolves on a lost device
      return result;
    } catch (error) {
      // A lost device rejects a pending mapAsync with an AbortError, which may come just before
      // `device.lost` settles: give the loss a moment to be seen before blaming anything else.
      if (!this.failure) await Promise.race([this.lost, new Promise((resolve) => setTimeout(resolve, LOSS_GRACE_MS))]);
      throw this.failure ?? error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How long a failed wait waits for `device.lost` to explain it. */
const LOSS_GRACE_MS = 100;
