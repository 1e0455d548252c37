/**
 * Peer benchmarks: tfjs-backend-webgpu 4.22 on the same adapter (and, if wanted, the same
 * GPUDevice) as our engine, in one process. Browser-safe: tfjs-node.ts starts the peer on Dawn in
 * Node, the benchmark page (web/bench.ts) on the browser's WebGPU.
 *
 * Usage:
 *   const peer = await initTfjsWebGPU();                    // Node (tfjs-node.ts): own device on WGT_ADAPTER's adapter
 *   const peer = await initTfjsWebGPU({ adapter, device }); // share the engine's device
 *   const peer = peerOnCurrentBackend(tf, adapter);         // a page, once tfjs's 'webgpu' backend is ready
 *   const r = await benchMatmul(peer, 512, 512, 512);
 *
 * Timing: every sample ends with a full GPU sync (tfjs's pending command encoder
 * is submitted, then `await queue.onSubmittedWorkDone()`), so samples measure
 * the GPU work, not only tfjs's CPU enqueue. tfjs batches up to 15 dispatches
 * per submit (WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE), so without this sync a sample
 * would only time the enqueue. Training steps additionally read the loss back
 * (trainOnBatch does `await loss.data()`).
 *
 * WebGPU validation errors are asynchronous and tfjs does not check for them
 * (an over-limit binding silently yields garbage), so every benchmark runs its
 * first call inside validation / out-of-memory error scopes, watches for
 * uncaptured errors, and returns the error as the result instead of a figure.
 */
import type * as TF from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { CompletionWait } from '../../src/runtime/completion-wait.js';
import { describeAdapter as describeForEngine } from '../../src/runtime/adapter.js';
import { sleepsBeforePoll, type GpuContextOptions } from '../../src/runtime/context.js';
import { errorLine } from '../util/error-line.js';
import { describeAdapter, gbps as toGbps, gflops as toGflops, timeIt, type AdapterDescription, type TimingResult } from '../util/timing.js';

export type Tf = typeof TF;

export interface BenchOpts {
  /** Untimed runs (the first one runs inside error scopes). Default 2. */
  warmup?: number;
  /** Timed samples. Default 5. */
  reps?: number;
  /** Stop sampling after this many ms of timed work (at least one sample). Default 20 000. */
  budgetMs?: number;
}

export interface PeerResult {
  /** e.g. 'matmul', 'conv2d.forward', 'conv2d.inputGrad', 'conv2d.filterGrad', 'batchnorm.train', 'maxpool2x2', 'train.smallvgg.full'. */
  name: string;
  /** Human-readable shape; NCHW-style for convs ('4x64x56x56 -> 64, 3x3 p1'), tfjs runs NHWC. */
  shape: string;
  flops?: number;
  bytes?: number;
  /** Median of the timed samples, ms; null when the benchmark failed. */
  medianMs: number | null;
  minMs: number | null;
  gflops?: number | null;
  gbps?: number | null;
  imagesPerSec?: number | null;
  batch?: number;
  samples: number;
  /** Set when the benchmark failed (the figures are then null). */
  error?: string;
  /** Correctness note (e.g. max abs error against a JS reference). */
  check?: string;
  notes?: string;
  /**
   * tf.memory() after the last training step, model still alive: numBytesInGPU = live tensors
   * (weights, optimizer state, batch); numBytesAllocatedInGPU = tfjs's buffer pool, i.e. about the
   * step's peak, when the pool was trimmed before the benchmark (runTfjsSuite does).
   */
  memory?: { numBytesInGPU: number; numBytesAllocatedInGPU: number; numTensors: number };
  /** 1-minute load average of the machine after the benchmark (others' processes skew software-adapter timings). */
  loadAvg1?: number;
}

// ---------------------------------------------------------------------------
// The peer

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

// ---------------------------------------------------------------------------
// Common runner


/**
 * Runs `run` once inside validation/out-of-memory error scopes (and checks for
 * uncaptured errors); then times it. Returns the timing or an error string.
 */
async function guardedTime(
  peer: TfjsPeer,
  run: () => unknown | Promise<unknown>,
  opts: BenchOpts,
): Promise<{ t: TimingResult } | { error: string }> {
  const before = peer.uncapturedErrors.length;
  try {
    peer.device.pushErrorScope('out-of-memory');
    peer.device.pushErrorScope('validation');
    let thrown: unknown;
    try {
      await run();
      await peer.sync();
    } catch (e) {
      thrown = e;
    }
    const v = await peer.device.popErrorScope();
    const o = await peer.device.popErrorScope();
    if (thrown !== undefined) return { error: `threw: ${errorLine(thrown, 400)}` };
    if (v) return { error: `WebGPU validation error: ${errorLine(v.message, 400)}` };
    if (o) return { error: `WebGPU out-of-memory: ${errorLine(o.message, 400)}` };
    const t = await timeIt(run, {
      sync: peer.repeatedSync(),
      warmup: Math.max(0, (opts.warmup ?? 2) - 1),
      reps: opts.reps ?? 5,
      budgetMs: opts.budgetMs ?? 20_000,
    });
    await peer.sync();
    if (peer.uncapturedErrors.length > before) {
      return { error: `uncaptured WebGPU error: ${errorLine(peer.uncapturedErrors[before], 400)}` };
    }
    return { t };
  } catch (e) {
    return { error: `threw: ${errorLine(e, 400)}` };
  }
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

function memoryOf(tf: Tf): PeerResult['memory'] {
  const m = tf.memory() as ReturnType<Tf['memory']> & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { numBytesInGPU: m.numBytesInGPU ?? 0, numBytesAllocatedInGPU: m.numBytesAllocatedInGPU ?? 0, numTensors: m.numTensors };
}

function kernelResult(
  base: Omit<PeerResult, 'medianMs' | 'minMs' | 'samples'>,
  r: { t: TimingResult } | { error: string },
): PeerResult {
  if ('error' in r) {
    return { ...base, medianMs: null, minMs: null, ...(base.flops ? { gflops: null } : {}), ...(base.bytes ? { gbps: null } : {}), samples: 0, error: r.error };
  }
  const out: PeerResult = { ...base, medianMs: r.t.medianMs, minMs: r.t.minMs, samples: r.t.samplesMs.length };
  if (base.flops) out.gflops = toGflops(base.flops, r.t.medianMs);
  if (base.bytes) out.gbps = toGbps(base.bytes, r.t.medianMs);
  return out;
}

/**
 * One timed kernel case: `setup` makes the case's tensors, passing each through `keep` so that
 * they are freed whatever happens, and returns what one sample runs.
 */
async function timeKernelCase(
  peer: TfjsPeer,
  base: Omit<PeerResult, 'medianMs' | 'minMs' | 'samples'>,
  opts: BenchOpts,
  setup: (keep: <T extends TF.Tensor>(tensor: T) => T) => () => void,
): Promise<PeerResult> {
  const tensors: TF.Tensor[] = [];
  const keep = <T extends TF.Tensor>(tensor: T): T => {
    tensors.push(tensor);
    return tensor;
  };
  try {
    return kernelResult(base, await guardedTime(peer, setup(keep), opts));
  } catch (e) {
    return kernelResult(base, { error: `threw: ${errorLine(e, 400)}` });
  } finally {
    peer.tf.dispose(tensors);
    await peer.sync().catch(() => undefined);
  }
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
// Kernels

/**
 * C[M,N] = A[M,K] @ B[K,N], fp32. FLOPs = 2MKN. The first result is checked
 * against a float64 JS reference on a few sampled output columns.
 */
export async function benchMatmul(peer: TfjsPeer, m: number, k: number, n: number, opts: BenchOpts = {}): Promise<PeerResult> {
  const { tf } = peer;
  const base = {
    name: 'matmul',
    shape: `${m}x${k} @ ${k}x${n}`,
    flops: 2 * m * k * n,
  } as Omit<PeerResult, 'medianMs' | 'minMs' | 'samples'>;
  const bBytes = k * n * 4;
  const bindLimit = peer.adapter.limits.maxStorageBufferBindingSize ?? Infinity;
  if (bBytes > 64 * 2 ** 20) {
    base.notes = `B = ${(bBytes / 1e6).toFixed(0)} MB (${(bBytes / 2 ** 20).toFixed(0)} MiB), binding limit ${(bindLimit / 2 ** 20).toFixed(0)} MiB`;
  }
  let aData: Float32Array | undefined = randomArray(m * k, 7);
  let bData: Float32Array | undefined = randomArray(k * n, 11);
  let a: TF.Tensor2D | undefined;
  let b: TF.Tensor2D | undefined;
  try {
    a = tf.tensor2d(aData, [m, k]);
    b = tf.tensor2d(bData, [k, n]);
    let check: string | undefined;
    const first = await guardedTime(peer, async () => {
      const c = tf.matMul(a!, b!);
      if (check === undefined) {
        // Correctness on a few sampled columns (silent over-limit bindings give garbage).
        const out = (await c.data()) as Float32Array;
        const cols = [0, Math.floor(n / 3), n - 1];
        let maxErr = 0;
        let maxRef = 0;
        for (let i = 0; i < m; i += Math.max(1, Math.floor(m / 4))) {
          for (const j of cols) {
            let s = 0;
            for (let p = 0; p < k; p++) s += aData![i * k + p]! * bData![p * n + j]!;
            maxErr = Math.max(maxErr, Math.abs(s - out[i * n + j]!));
            maxRef = Math.max(maxRef, Math.abs(s));
          }
        }
        const rel = maxErr / Math.max(maxRef, 1e-30);
        check = `max rel err ${rel.toExponential(1)} on sampled outputs`;
        if (!(rel < 1e-3)) check = `WRONG RESULT: ${check}`;
      }
      c.dispose();
    }, opts);
    aData = bData = undefined;
    const res = kernelResult(base, first);
    if (check) res.check = check;
    if (check?.startsWith('WRONG') && !res.error) {
      res.error = check;
      res.medianMs = res.minMs = res.gflops = null;
    }
    return res;
  } catch (e) {
    return kernelResult(base, { error: `threw: ${errorLine(e, 400)}` });
  } finally {
    a?.dispose();
    b?.dispose();
    await peer.sync().catch(() => undefined);
  }
}

export interface ConvShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  /** Square kernel size; stride 1, padding k>>1 ('same'). */
  k: number;
}

export type ConvPass = 'forward' | 'inputGrad' | 'filterGrad';

export const convShapeLabel = (s: ConvShape): string => `${s.n}x${s.cin}x${s.h}x${s.w} -> ${s.cout}, ${s.k}x${s.k} p${s.k >> 1}`;

/**
 * conv2d stride 1 'same' padding, NHWC in tfjs. FLOPs = 2*N*H*W*Cout*Cin*k*k for
 * each pass. forward: tf.conv2d; inputGrad: kernel Conv2DBackpropInput (what
 * tf.grad of conv2d calls, i.e. conv2dTranspose); filterGrad: kernel
 * Conv2DBackpropFilter.
 */
export function benchConv2d(peer: TfjsPeer, pass: ConvPass, s: ConvShape, opts: BenchOpts = {}): Promise<PeerResult> {
  const { tf } = peer;
  const base = {
    name: `conv2d.${pass}`,
    shape: convShapeLabel(s),
    flops: 2 * s.n * s.h * s.w * s.cout * s.cin * s.k * s.k,
  };
  return timeKernelCase(peer, base, opts, (keep) => {
    const x = keep(tf.tensor4d(randomArray(s.n * s.h * s.w * s.cin, 3), [s.n, s.h, s.w, s.cin]));
    const f = keep(tf.tensor4d(randomArray(s.k * s.k * s.cin * s.cout, 5).map((v) => v * 0.05), [s.k, s.k, s.cin, s.cout]));
    const dy = keep(tf.tensor4d(randomArray(s.n * s.h * s.w * s.cout, 9), [s.n, s.h, s.w, s.cout]));
    const engine = tf.engine();
    return () => {
      let out: TF.Tensor | TF.Tensor[];
      if (pass === 'forward') {
        out = tf.conv2d(x, f, 1, 'same');
      } else if (pass === 'inputGrad') {
        out = engine.runKernel('Conv2DBackpropInput', { dy, filter: f }, {
          strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [s.n, s.h, s.w, s.cin],
        } as unknown as TF.NamedAttrMap) as TF.Tensor;
      } else {
        out = engine.runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [s.k, s.k, s.cin, s.cout],
        } as unknown as TF.NamedAttrMap) as TF.Tensor;
      }
      tf.dispose(out);
    };
  });
}

/** NHWC activation shape for the memory-bound ops. */
export interface ActShape {
  n: number;
  h: number;
  w: number;
  c: number;
}
export const actShapeLabel = (s: ActShape): string => `${s.n}x${s.c}x${s.h}x${s.w}`;

/**
 * Training-style batchnorm: tf.moments over N,H,W, then tf.batchNorm with
 * scale/offset. Bytes counted = 3 x |x| x 4 (the minimum: one read for the
 * statistics, one read + one write to normalize); tfjs actually reads x more
 * often (mean, then variance), so GB/s is "effective".
 */
export function benchBatchNorm(peer: TfjsPeer, s: ActShape, opts: BenchOpts = {}): Promise<PeerResult> {
  const { tf } = peer;
  const elems = s.n * s.h * s.w * s.c;
  const base = { name: 'batchnorm.train', shape: actShapeLabel(s), bytes: 3 * elems * 4, notes: 'bytes = 3|x| (stats read, normalize read+write)' };
  return timeKernelCase(peer, base, opts, (keep) => {
    const x = keep(tf.tensor4d(randomArray(elems, 13), [s.n, s.h, s.w, s.c]));
    const gamma = keep(tf.ones([s.c]));
    const beta = keep(tf.zeros([s.c]));
    return () => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.batchNorm(x, mean, variance, beta as TF.Tensor1D, gamma as TF.Tensor1D, 1e-5);
      tf.dispose([mean, variance, y]);
    };
  });
}

/** Max-pool 2x2 stride 2. Bytes = read |x| + write |x|/4, fp32. */
export function benchMaxPool(peer: TfjsPeer, s: ActShape, opts: BenchOpts = {}): Promise<PeerResult> {
  const { tf } = peer;
  const elems = s.n * s.h * s.w * s.c;
  const base = { name: 'maxpool2x2', shape: actShapeLabel(s), bytes: elems * 4 * 1.25 };
  return timeKernelCase(peer, base, opts, (keep) => {
    const x = keep(tf.tensor4d(randomArray(elems, 17), [s.n, s.h, s.w, s.c]));
    return () => tf.dispose(tf.maxPool(x, 2, 2, 'valid'));
  });
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

/**
 * One SGD-momentum(0.9, lr 0.01) step with categorical cross-entropy via
 * `model.trainOnBatch`, on a fixed random batch already on the GPU. Reports
 * images/s from the median step and tf.memory() after the last step.
 */
export async function benchTrainStep(peer: TfjsPeer, spec: TrainSpec, opts: BenchOpts = {}): Promise<PeerResult> {
  const { tf } = peer;
  const name = `train.${spec.model}.${spec.frozenBase ? 'frozenBase' : 'full'}`;
  const shape = `${spec.batch}x3x${spec.size}x${spec.size}, ${spec.classes} classes`;
  let model: TF.Sequential | undefined;
  let optimizer: TF.Optimizer | undefined;
  const tensors: TF.Tensor[] = [];
  try {
    model = buildModel(tf, spec);
    optimizer = tf.train.momentum(0.01, 0.9);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const x = tf.tensor4d(randomArray(spec.batch * spec.size * spec.size * 3, 21), [spec.batch, spec.size, spec.size, 3]);
    const labels = Array.from({ length: spec.batch }, (_, i) => i % spec.classes);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), spec.classes).toFloat();
    tensors.push(x, y);
    let lastLoss = Number.NaN;
    const m = model;
    const run = async (): Promise<void> => {
      const l = await m.trainOnBatch(x, y);
      lastLoss = Array.isArray(l) ? l[0]! : l;
    };
    const r = await guardedTime(peer, run, { warmup: 1, reps: 3, ...opts });
    const trainable = model.trainableWeights.reduce((acc, w) => acc + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
    const total = model.countParams();
    const res = kernelResult({ name, shape, batch: spec.batch, notes: `params ${total}, trainable ${trainable}` }, r);
    if (res.medianMs !== null) {
      res.imagesPerSec = (spec.batch * 1000) / res.medianMs;
      res.check = `loss ${lastLoss.toFixed(4)}${Number.isFinite(lastLoss) ? '' : ' (NOT FINITE)'}`;
    } else {
      res.imagesPerSec = null;
    }
    res.memory = memoryOf(tf);
    return res;
  } catch (e) {
    return { name, shape, batch: spec.batch, medianMs: null, minMs: null, imagesPerSec: null, samples: 0, error: `threw: ${errorLine(e, 400)}` };
  } finally {
    tf.dispose(tensors);
    model?.dispose();
    optimizer?.dispose();
    await peer.sync().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------
// The whole suite

export const MATMUL_SQUARE = [256, 512, 1024] as const;
/** VGG16 classifier.0 at batch 4: 4x25088 @ 25088x4096 (B = 411 MB). */
export const MATMUL_VGG_FC = { m: 4, k: 25088, n: 4096 } as const;
export const CONV_SHAPES: ConvShape[] = [
  { n: 4, cin: 64, h: 56, w: 56, cout: 64, k: 3 },
  { n: 4, cin: 128, h: 28, w: 28, cout: 128, k: 3 },
  { n: 4, cin: 512, h: 14, w: 14, cout: 512, k: 3 },
];
/** VGG16 activation shapes at batch 4 (224 input: first block; then the conv shapes above). */
export const ACT_SHAPES: ActShape[] = [
  { n: 4, h: 224, w: 224, c: 64 },
  { n: 4, h: 56, w: 56, c: 64 },
  { n: 4, h: 28, w: 28, c: 128 },
  { n: 4, h: 14, w: 14, c: 512 },
];

export interface SuiteOptions {
  kernel?: BenchOpts;
  train?: BenchOpts;
  /** Skip the VGG16 training steps (slow on SwiftShader). */
  skipVgg16?: boolean;
  /** Skip the 4x25088 @ 25088x4096 matmul. */
  skipFc?: boolean;
  /** Only the benchmarks whose `${name} ${shape}` matches. */
  only?: RegExp;
  /** Called after each result (progress printing). */
  onResult?: (r: PeerResult, seconds: number) => void;
  /** The machine's load, recorded with each result (Node: the 1-minute load average). */
  load?: () => number;
}

export interface TfjsJob {
  name: string;
  shape: string;
  run: (peer: TfjsPeer) => Promise<PeerResult>;
}

/** The suite as a list of jobs, in a fixed order (kernels, then training steps). */
export function tfjsJobs(o: SuiteOptions = {}): TfjsJob[] {
  const kernel = o.kernel ?? {};
  const train = o.train ?? {};
  const j: TfjsJob[] = [];
  for (const s of MATMUL_SQUARE) j.push({ name: 'matmul', shape: `${s}x${s} @ ${s}x${s}`, run: (p) => benchMatmul(p, s, s, s, kernel) });
  if (!o.skipFc) {
    const { m, k, n } = MATMUL_VGG_FC;
    j.push({ name: 'matmul', shape: `${m}x${k} @ ${k}x${n}`, run: (p) => benchMatmul(p, m, k, n, { ...kernel, warmup: 1 }) });
  }
  for (const s of CONV_SHAPES) {
    for (const pass of ['forward', 'inputGrad', 'filterGrad'] as const) {
      j.push({ name: `conv2d.${pass}`, shape: convShapeLabel(s), run: (p) => benchConv2d(p, pass, s, kernel) });
    }
  }
  for (const s of ACT_SHAPES) j.push({ name: 'batchnorm.train', shape: actShapeLabel(s), run: (p) => benchBatchNorm(p, s, kernel) });
  for (const s of ACT_SHAPES) j.push({ name: 'maxpool2x2', shape: actShapeLabel(s), run: (p) => benchMaxPool(p, s, kernel) });
  const specs: TrainSpec[] = [
    { ...SMALL_VGG, frozenBase: false },
    { ...SMALL_VGG, frozenBase: true },
    ...(o.skipVgg16 ? [] : [{ ...VGG16_64, frozenBase: false }, { ...VGG16_64, frozenBase: true }]),
  ];
  for (const s of specs) {
    j.push({
      name: `train.${s.model}.${s.frozenBase ? 'frozenBase' : 'full'}`,
      shape: `${s.batch}x3x${s.size}x${s.size}, ${s.classes} classes`,
      run: (p) => benchTrainStep(p, s, train),
    });
  }
  return o.only ? j.filter((x) => o.only!.test(`${x.name} ${x.shape}`)) : j;
}

/** Runs every (selected) tfjs peer benchmark on the peer's adapter. */
export async function runTfjsSuite(peer: TfjsPeer, o: SuiteOptions = {}): Promise<PeerResult[]> {
  const out: PeerResult[] = [];
  for (const job of tfjsJobs(o)) {
    await peer.sync();
    trimTfjsBufferPool(peer);
    const t0 = performance.now();
    const r = await job.run(peer);
    if (o.load) r.loadAvg1 = o.load();
    out.push(r);
    o.onResult?.(r, (performance.now() - t0) / 1000);
  }
  return out;
}
