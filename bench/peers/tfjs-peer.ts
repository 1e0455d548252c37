/**
 * The browser-safe half of the tfjs peer (bench/peers/tfjs.ts sets it up on Dawn in Node; the
 * benchmark page, web/bench.ts, in a browser): tfjs-backend-webgpu wrapped with the syncs the
 * benchmarks time by, the peer's models for the training step, and its buffer-pool trim.
 */
import type * as TF from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { CompletionWait } from '../../src/runtime/completion-wait.js';
import { describeAdapter as describeForEngine } from '../../src/runtime/adapter.js';
import { sleepsBeforePoll, type GpuContextOptions } from '../../src/runtime/context.js';
import { describeAdapter, type AdapterDescription } from '../util/timing.js';

export type Tf = typeof TF;

export interface TfjsPeer {
  tf: Tf;
  backend: WebGPUBackend;
  device: GPUDevice;
  adapter: AdapterDescription;
  /** WGT_ADAPTER as requested (undefined: Dawn's default). */
  requestedAdapter: string | undefined;
  tfjsVersion: string;
  /** Submits tfjs's pending GPU commands and waits for the queue to drain. */
  sync(): Promise<void>;
  /**
   * A sync for the samples of one repeated measurement, which sleeps through most of the
   * predicted work before polling, as the engine's own waits do (src/runtime/completion-wait.ts):
   * Dawn's spinning poll would take a core from lavapipe's threads, so a kernel comparison would
   * measure the wait instead of the kernels. tfjs's own readbacks (trainOnBatch's loss) still
   * poll the stock way.
   */
  repeatedSync(): () => Promise<void>;
  /** Uncaptured WebGPU errors seen on the device so far. */
  uncapturedErrors: string[];
}

type BackendInternals = {
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
};

/**
 * The peer on tfjs's current backend, which must be 'webgpu' and ready: its device, a sync that
 * submits tfjs's pending commands and waits for the queue, and the uncaptured errors it reports
 * (tfjs checks none). `adapter` is the one the backend's device came from.
 */
export function peerOnCurrentBackend(
  tf: Tf,
  adapter: GPUAdapter,
  options: { sleepBeforePoll?: GpuContextOptions['sleepBeforePoll']; requestedAdapter?: string } = {},
): TfjsPeer {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const device = backend.device;
  const uncapturedErrors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    uncapturedErrors.push(String((ev as GPUUncapturedErrorEvent).error?.message ?? ev));
  });
  const internals = backend as unknown as BackendInternals;
  const submit = (): void => {
    internals.ensureCommandEncoderReady();
    internals.endComputePassEncoder();
    internals.submitQueue();
  };
  const sync = async (): Promise<void> => {
    submit();
    await device.queue.onSubmittedWorkDone();
  };
  // tfjs submits as it records, so what is learned per measurement is the time from its sync to
  // the end of the work: the same on every sample. It sleeps where ours does (the engine's rule).
  const completion = new CompletionWait(sleepsBeforePoll(options.sleepBeforePoll, describeForEngine(adapter, device).isSoftware));
  let measurements = 0;
  const repeatedSync = (): (() => Promise<void>) => {
    const kind = `measurement ${measurements++}`;
    return async () => {
      submit();
      completion.submitted(kind);
      await completion.wait(() => device.queue.onSubmittedWorkDone());
    };
  };
  return {
    tf,
    backend,
    device,
    adapter: describeAdapter(adapter),
    requestedAdapter: options.requestedAdapter,
    tfjsVersion: tf.version.tfjs,
    sync,
    repeatedSync,
    uncapturedErrors,
  };
}

/**
 * Destroys the buffers sitting free in tfjs's buffer pool (tfjs never returns
 * them), so that numBytesAllocatedInGPU measured after a benchmark is that
 * benchmark's pool high-water mark, not the sum over earlier benchmarks.
 * Call after peer.sync(). Returns the bytes released.
 */
export function trimTfjsBufferPool(peer: TfjsPeer): number {
  const bm = (peer.backend as unknown as {
    bufferManager?: { freeBuffers?: Map<string, GPUBuffer[]>; numFreeBuffers: number; numBytesAllocated: number };
  }).bufferManager;
  if (!bm?.freeBuffers) return 0;
  let released = 0;
  for (const list of bm.freeBuffers.values()) {
    for (const b of list) {
      released += b.size;
      b.destroy();
    }
    bm.numFreeBuffers -= list.length;
    list.length = 0;
  }
  bm.numBytesAllocated -= released;
  return released;
}

/** Deterministic pseudo-random floats in [-1, 1) (xorshift32), no tfjs RNG involved. */
export function randomArray(n: number, seed = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

// ---------------------------------------------------------------------------
// Training steps (tfjs-layers trainOnBatch)

export type TrainModel = 'smallvgg' | 'vgg16';

export interface TrainSpec {
  model: TrainModel;
  /** Only the dense head trainable (small VGG: the 2 dense layers; VGG16: the 3). */
  frozenBase: boolean;
  batch: number;
  /** Square input size. */
  size: number;
  classes: number;
}

export const SMALL_VGG: Omit<TrainSpec, 'frozenBase'> = { model: 'smallvgg', batch: 32, size: 32, classes: 2 };
export const VGG16_64: Omit<TrainSpec, 'frozenBase'> = { model: 'vgg16', batch: 4, size: 64, classes: 2 };

/**
 * Builds the model. small VGG: conv 32,32 / 64,64 / 128,128 (3x3 same + relu)
 * with a 2x2 max-pool after each pair, flatten, dense 256 relu, dense classes.
 * VGG16 (torchvision layout, without dropout and without the adaptive avg-pool):
 * 64,64,M,128,128,M,256x3,M,512x3,M,512x3,M, flatten, dense 4096 relu,
 * dense 4096 relu, dense classes. Softmax output (categorical cross-entropy).
 */
export function buildModel(tf: Tf, spec: TrainSpec): TF.Sequential {
  const cfg: (number | 'M')[] =
    spec.model === 'smallvgg'
      ? [32, 32, 'M', 64, 64, 'M', 128, 128, 'M']
      : [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];
  const dense = spec.model === 'smallvgg' ? [256] : [4096, 4096];
  const model = tf.sequential();
  let first = true;
  for (const c of cfg) {
    if (c === 'M') {
      model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    } else {
      model.add(
        tf.layers.conv2d({
          filters: c, kernelSize: 3, padding: 'same', activation: 'relu', trainable: !spec.frozenBase,
          ...(first ? { inputShape: [spec.size, spec.size, 3] } : {}),
        }),
      );
      first = false;
    }
  }
  model.add(tf.layers.flatten());
  for (const u of dense) model.add(tf.layers.dense({ units: u, activation: 'relu' }));
  model.add(tf.layers.dense({ units: spec.classes, activation: 'softmax' }));
  return model;
}
