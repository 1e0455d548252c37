// One error class per kind of failure, so callers (and tests) can tell them apart.

/** No usable WebGPU adapter: nothing installed, or only Dawn's `null` backend, which computes nothing. */
export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** Operand shapes that do not fit together; the message shows every shape involved. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/**
 * A setting outside what it may be (a probability above 1, a batch of 0 images, a negative
 * learning rate); the message names the setting and its range. A RangeError, as JavaScript's own,
 * but one the command line prints as a message: it is the caller's to fix, not a bug.
 */
export class OptionRangeError extends RangeError {
  override name = 'OptionRangeError';
}

/**
 * What the caller gave cannot be used as it is: a run folder that holds another run, a module path
 * the model does not have, weights trained on other classes than the data's. The message says
 * what, and how to go on.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/**
 * The GPU device can run nothing more, and everything on it (tensors, weights, optimizer state)
 * is gone: runtime/device-watch.ts. A new context starts afresh.
 */
export abstract class GpuFailureError extends Error {
  /** The same failure, its message followed by `note`: what a caller knows (which checkpoint survives). */
  abstract withNote(note: string): GpuFailureError;
}

const noted = (message: string, note?: string) => (note ? `${message}; ${note}` : message);

/** The device was lost: a driver reset, a browser's GPU process crashing, device.destroy() from elsewhere. */
export class DeviceLostError extends GpuFailureError {
  override name = 'DeviceLostError';
  constructor(
    /** GPUDeviceLostInfo's reason: 'unknown', or 'destroyed'. */
    readonly reason: string,
    /** GPUDeviceLostInfo's message. */
    readonly detail: string,
    note?: string,
  ) {
    super(noted(`the GPU device was lost (${reason}${detail ? `: ${detail}` : ''}); what was on it is gone, and nothing more runs on it`, note));
  }

  withNote(note: string): DeviceLostError {
    return new DeviceLostError(this.reason, this.detail, note);
  }
}

/**
 * A wait on the GPU took longer than GpuContextOptions.gpuTimeoutMs: a hung kernel or driver. The
 * wait stays pending for ever; in Node, Dawn's polls for it then no longer hold the process
 * (runtime/dawn-poll.ts), so a program that caught this still ends.
 */
export class GpuTimeoutError extends GpuFailureError {
  override name = 'GpuTimeoutError';
  constructor(
    readonly timeoutMs: number,
    note?: string,
  ) {
    super(noted(`the GPU has not finished its work after ${timeoutMs / 1000} s, the limit on a wait (--gpu-timeout, gpuTimeoutMs): a hung kernel or driver, and nothing more runs on this device`, note));
  }

  withNote(note: string): GpuTimeoutError {
    return new GpuTimeoutError(this.timeoutMs, note);
  }
}

/** An operation was given a tensor of a dtype it does not accept. */
export class DTypeError extends Error {
  override name = 'DTypeError';
}

/** A tensor was used after `dispose()` (or after the scope that owned it ended). */
export class DisposedTensorError extends Error {
  override name = 'DisposedTensorError';
}

/**
 * A tensor is larger than what one shader binding (`maxStorageBufferBindingSize`) or one buffer
 * (`maxBufferSize`) may hold, and the kernel asked to bind it cannot split it.
 */
export class BindingLimitError extends Error {
  override name = 'BindingLimitError';
  constructor(
    readonly tensorName: string,
    readonly byteSize: number,
    readonly limit: number,
    readonly limitName: string,
    where: string,
  ) {
    super(
      `${where}: tensor '${tensorName}' needs ${formatBytes(byteSize)} (${byteSize} bytes) in one binding, ` +
        `but this adapter's ${limitName} is ${formatBytes(limit)} (${limit} bytes)`,
    );
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export const SOFTWARE_ADAPTER_HELP =
  'Install a software adapter: on Debian 12, `bash scripts/setup-system.sh` adds lavapipe ' +
  '(mesa-vulkan-drivers from bookworm-backports) and Chromium (which ships SwiftShader). ' +
  'Select one with WGT_ADAPTER=lavapipe|swiftshader. See README.md, "Two commands".';
