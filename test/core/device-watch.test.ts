import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { DeviceWatch } from '../../src/runtime/device-watch.js';
import { DeviceLostError, GpuTimeoutError } from '../../src/runtime/errors.js';

/** A device with nothing but the promise DeviceWatch reads, lost when `lose` is called. */
function fakeDevice() {
  let lose!: (info: { reason: string; message: string }) => void;
  const lost = new Promise<GPUDeviceLostInfo>((resolve) => (lose = (info) => resolve(info as GPUDeviceLostInfo)));
  return { device: { lost } as GPUDevice, lose: (message = 'the GPU process exited') => lose({ reason: 'unknown', message }) };
}
const never = () => new Promise<never>(() => {});
const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const abortedAfter = (ms: number) => new Promise<never>((_, reject) => setTimeout(() => reject(new DOMException('', 'AbortError')), ms));

describe('DeviceWatch', () => {
  it('a wait past the limit fails with GpuTimeoutError, and so does everything after it', async () => {
    const { device } = fakeDevice();
    const watch = new DeviceWatch(device, 50);
    await expect(watch.bound(later(5, 'done'))).resolves.toBe('done');
    const error = await watch.bound(never()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuTimeoutError);
    expect((error as Error).message).toMatch(/has not finished its work after 0\.05 s, the limit on a wait.*a hung kernel or driver/);
    expect(watch.hung).toBe(true);
    await expect(watch.bound(later(1, 'done'))).rejects.toBe(error);
    expect(() => watch.throwIfFailed()).toThrow(error as Error);
  });

  it('without a limit, a long wait is only a long wait', async () => {
    const watch = new DeviceWatch(fakeDevice().device);
    await expect(watch.bound(later(120, 'done'))).resolves.toBe('done');
  });

  it("a lost device's bare AbortError becomes the loss, even when the loss is reported just after it", async () => {
    const { device, lose } = fakeDevice();
    const watch = new DeviceWatch(device);
    setTimeout(() => lose(), 30); // after the readback's rejection at 10 ms
    const error = await watch.bound(abortedAfter(10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceLostError);
    expect((error as DeviceLostError).reason).toBe('unknown');
    expect((error as Error).message).toBe('the GPU device was lost (unknown: the GPU process exited); what was on it is gone, and nothing more runs on it');
  });

  it('a wait that ends well on a lost device (onSubmittedWorkDone resolves) is no success', async () => {
    const { device, lose } = fakeDevice();
    const watch = new DeviceWatch(device);
    lose();
    await new Promise((resolve) => setTimeout(resolve, 0));
    await expect(watch.bound(Promise.resolve('done'))).rejects.toBeInstanceOf(DeviceLostError);
  });

  it('any other failure is passed on as it is', async () => {
    const watch = new DeviceWatch(fakeDevice().device);
    const other = new Error('mapAsync: the buffer is already mapped');
    await expect(watch.bound(Promise.reject(other))).rejects.toBe(other);
    expect(watch.failure).toBeNull();
  });

  it('a device its context destroys is no failure', async () => {
    const { device, lose } = fakeDevice();
    const watch = new DeviceWatch(device);
    watch.close();
    lose('destroyed');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(watch.failure).toBeNull();
  });

  it('on a real kernel that never ends: the wait fails at the limit, a new context works, and the process ends by itself', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/hung-kernel.ts'], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, WGT_GPU_TIMEOUT: '1' },
    });
    expect(r.signal, `killed: the process did not end\n${r.stdout}`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const waited = Number(/GpuTimeoutError after (\d+) ms/.exec(r.stdout)?.[1]);
    expect(waited, r.stdout).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(5000);
    expect(r.stdout).toMatch(/then a submit: GpuTimeoutError\ndestroy returned\na new context read \[1, 2, 3, 4\]\n$/);
  }, 90_000);
});
