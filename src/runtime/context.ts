import { BufferPool } from './buffer-pool.js';
import { PipelineCache } from './pipelines.js';
import { CommandRecorder } from './recorder.js';
import { DeviceWatch } from './device-watch.js';
import { KernelProfiler } from './profiler.js';
import { describeAdapter, requestAdapter, requestDevice, type AdapterDescription } from './adapter.js';
import { OptionRangeError } from './errors.js';

export interface GpuContextOptions {
  /**
   * Pretend the adapter binds at most this many bytes per storage binding. Tests use it to
   * exercise the large-tensor paths (VGG16's 411 MB FC weight) with small tensors.
   */
  maxBindingBytes?: number;
  powerPreference?: GPUPowerPreference;
  /**
   * Which family of kernel variants to pick: 'cpu' (few workgroups, register blocking, no
   * workgroup-memory tiles) or 'gpu' (tiled, many workgroups). Default: 'cpu' on a software
   * adapter, else 'gpu'. Forcing 'gpu' on lavapipe runs the GPU variants where a GPU is missing,
   * slowly, to check them (WGT_KERNELS=gpu in Node).
   */
  kernelTarget?: KernelTarget;
  /** Forces the tiled conv2d kernels' tile (channels × pixels × depth), to measure the choice (WGT_CONV_TILE=128x64x16 in Node). */
  convTile?: { channels: 64 | 128; pixels: 64 | 128; depth: 16 | 32 };
  /**
   * The tiled conv2d kernels' reduction order: 'blocks' (default) walks 16-channel blocks where
   * a layer allows, 'plain' always (channel, tap), the order before blocks were introduced; to
   * compare the two on a GPU (WGT_CONV_ORDER=plain in Node). See kernels/conv2d-filter-matrix.ts.
   */
  convOrder?: ConvOrder;
  /**
   * How the 3x3 stride-1 convolutions are computed: 'direct' (default), 'winograd' (F(2x2, 3x3),
   * kernels/conv2d-winograd.ts, wherever it applies), or 'fastest': the convolution tuner
   * (`--tune-kernels`) also times Winograd on each layer and keeps it where it is faster, as
   * cudnn.benchmark chooses among algorithms. Winograd rounds differently from the direct
   * kernels. WGT_CONV_ALGORITHM in Node.
   */
  convAlgorithm?: ConvAlgorithmChoice;
  /**
   * Let the CPU adapters' blocked kernels share the values every lane reads through subgroup
   * broadcasts, where the device has 'subgroups' and one subgroup size (kernels/subgroup-share.ts).
   * Default true; false reads them from workgroup memory in every lane, to compare the two
   * (WGT_SUBGROUPS=off in Node). The results are the same bits either way.
   */
  subgroups?: boolean;
  /**
   * Sleep through most of the GPU's predicted work before waiting on a WebGPU promise, because
   * Dawn's Node binding spins a CPU core while one is pending (runtime/completion-wait.ts).
   * 'software': only on a software adapter, whose kernels run on the cores a spinning poll takes;
   * on a GPU the spin costs the kernels nothing and answers soonest. initNode passes 'software'
   * (WGT_GPU_WAIT=sleep|poll forces either); a browser does not spin (default false).
   */
  sleepBeforePoll?: boolean | 'software';
  /**
   * Choose tensors' buffers when a submission is complete, knowing every tensor's lifetime
   * (runtime/memory-plan.ts), rather than as each is asked for. Default true; false gives the
   * plain bucket pool (WGT_MEMORY=pool in Node), to compare the two.
   */
  memoryPlan?: boolean;
  /**
   * Fill every new tensor with NaN before a kernel writes it (kernels/fill.ts), so that a
   * kernel which reads what it never wrote shows it, as PyTorch's
   * torch.utils.deterministic.fill_uninitialized_memory does. One more dispatch per tensor: for
   * checking kernels, not for training (WGT_FILL_UNINITIALIZED=1 in Node).
   */
  fillUninitialized?: boolean;
  /**
   * How long one wait on the GPU (a readback, a sync) may take before it fails with
   * GpuTimeoutError, in ms; a wait covers the work submitted since the last one, a training step
   * or a few. Default: no limit, as a slow adapter's step may take minutes. For a driver or
   * kernel that hangs (runtime/device-watch.ts); WGT_GPU_TIMEOUT=SECONDS in Node.
   */
  gpuTimeoutMs?: number;
}

export type KernelTarget = 'cpu' | 'gpu';
export type ConvOrder = 'blocks' | 'plain';
export type ConvAlgorithmChoice = 'direct' | 'winograd' | 'fastest';

/**
 * Everything the engine needs from WebGPU, behind one object: the device, what the adapter is
 * and allows, the pipeline cache, the buffer pool and the command recorder.
 */
export class GpuContext {
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly recorder: CommandRecorder;
  /** The per-binding limit kernels must respect (the adapter's, or a smaller forced one). */
  readonly maxBindingBytes: number;
  readonly maxBufferBytes: number;
  /** The kernel variants this context picks (see GpuContextOptions.kernelTarget). */
  readonly kernelTarget: KernelTarget;
  readonly convTile: GpuContextOptions['convTile'];
  readonly convOrder: ConvOrder;
  readonly convAlgorithm: ConvAlgorithmChoice;
  readonly fillUninitialized: boolean;
  /**
   * The size of every subgroup where kernels may rely on it: the device has 'subgroups', the
   * adapter reports a single size, and GpuContextOptions.subgroups is not false. Else null.
   */
  readonly subgroupSize: number | null;
  /** Whether the device still works: its loss, or a wait past gpuTimeoutMs, is kept there and thrown. */
  readonly watch: DeviceWatch;

  private constructor(
    /**
     * Held for the device's lifetime: in Node, Dawn's instance is freed when its JS object is
     * collected, and a device whose instance is gone crashes the process on its next event.
     */
    readonly gpu: GPU,
    readonly device: GPUDevice,
    readonly adapter: AdapterDescription,
    options: GpuContextOptions,
  ) {
    const limits = device.limits;
    this.maxBindingBytes = Math.min(limits.maxStorageBufferBindingSize, options.maxBindingBytes ?? Infinity);
    this.maxBufferBytes = limits.maxBufferSize;
    this.kernelTarget = options.kernelTarget ?? (adapter.isSoftware ? 'cpu' : 'gpu');
    this.convTile = options.convTile;
    this.convOrder = options.convOrder ?? 'blocks';
    this.convAlgorithm = options.convAlgorithm ?? 'direct';
    this.fillUninitialized = options.fillUninitialized ?? false;
    this.subgroupSize = options.subgroups !== false ? fixedSubgroupSize(adapter) : null;
    this.pipelines = new PipelineCache(device, limits.maxStorageBuffersPerShaderStage);
    const storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    this.pool = new BufferPool(device, storageUsage, limits.maxBufferSize, 'tensor', options.memoryPlan ?? true);
    const readbackPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, limits.maxBufferSize, 'readback');
    const timeout = options.gpuTimeoutMs;
    if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) throw new OptionRangeError(`gpuTimeoutMs must be a positive number of milliseconds; got ${timeout}`);
    this.watch = new DeviceWatch(device, timeout);
    this.recorder = new CommandRecorder(
      device, this.pool, readbackPool, limits.maxComputeWorkgroupsPerDimension, limits.minUniformBufferOffsetAlignment,
      this.watch, sleepsBeforePoll(options.sleepBeforePoll, adapter.isSoftware),
    );
    // WebGPU reports invalid shaders and commands asynchronously, and an invalid dispatch is
    // simply skipped. Never let that pass silently: the next readback throws it.
    device.addEventListener('uncapturederror', (event) => {
      const message = (event as GPUUncapturedErrorEvent).error.message;
      console.error(`webgpu-transfer: WebGPU error: ${message}`);
      this.recorder.failed ??= new Error(`WebGPU reported an error; results since then are not valid:\n${message}`);
    });
  }

  static async create(gpu: GPU | undefined, options: GpuContextOptions = {}): Promise<GpuContext> {
    const adapter = await requestAdapter(gpu, options.powerPreference);
    const device = await requestDevice(adapter);
    return new GpuContext(gpu!, device, describeAdapter(adapter, device), options);
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  hasFeature(name: string): boolean {
    return this.device.features.has(name);
  }

  /** Starts timing every dispatch (needs `timestamp-query`); see `stopProfiling`. */
  startProfiling(): void {
    if (!this.hasFeature('timestamp-query')) throw new Error(`this adapter has no 'timestamp-query' feature: kernels cannot be timed`);
    this.recorder.flush();
    this.recorder.profiler ??= new KernelProfiler(this.device);
  }

  async stopProfiling() {
    const profiler = this.recorder.profiler;
    if (!profiler) return [];
    this.recorder.flush(); // while the profiler is attached: the submit resolves its queries
    this.recorder.profiler = null;
    await this.recorder.sync();
    const timings = await profiler.collect();
    profiler.destroy();
    return timings;
  }

  /**
   * Submits what is pending and frees the device. After a failure nothing is submitted, and a hung
   * device is left alone: Dawn's destroy() would wait for its queue, for ever.
   */
  destroy(): void {
    this.watch.close();
    if (this.watch.hung) return;
    if (!this.watch.failure) this.recorder.flush();
    this.device.destroy();
  }
}

let defaultContext: GpuContext | null = null;

/** Makes `ctx` the context that tensor factories use when none is given. */
export function setDefaultContext(ctx: GpuContext | null): void {
  defaultContext = ctx;
}

export function getDefaultContext(): GpuContext {
  if (!defaultContext) {
    throw new Error('No GPU context: call `await initNode()` (Node) or `await initBrowser()` (browser) first');
  }
  return defaultContext;
}

/** The adapter's one subgroup size, where the device has subgroups and the adapter reports a single size. */
function fixedSubgroupSize(adapter: AdapterDescription): number | null {
  const sizes = adapter.subgroupSizes;
  return adapter.features.includes('subgroups') && sizes && sizes.min === sizes.max ? sizes.min : null;
}

/** Whether waits sleep before polling, for a sleepBeforePoll choice on an adapter (software or not). */
export function sleepsBeforePoll(choice: GpuContextOptions['sleepBeforePoll'], isSoftware: boolean): boolean {
  return choice === 'software' ? isSoftware : (choice ?? false);
}
