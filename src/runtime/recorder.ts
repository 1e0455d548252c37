import type { CompiledKernel } from './pipelines.js';
import { packUniforms } from './pipelines.js';
import { UniformArena } from './uniform-arena.js';
import { BindGroupCache } from './bind-group-cache.js';
import { foldWorkgroups } from './workgroups.js';
import type { KernelProfiler } from './profiler.js';
import { dispatchLabel } from './dispatch-label.js';
import type { BufferPool } from './buffer-pool.js';
import { CompletionWait } from './completion-wait.js';
import type { DeviceWatch } from './device-watch.js';
import { ObjectIds } from './object-ids.js';

/** Writes up to this size into a buffer in use are staged and copied in order, not flushed. */
const STAGED_WRITE_BYTES = 4096;
/**
 * Readbacks up to this size keep their staging buffer for the next one (a training loop reads
 * its losses again and again); larger ones are rare (a checkpoint, saved weights) and free it:
 * kept, VGG16's held 536 MiB of host memory for the rest of a run after its first checkpoint.
 */
const KEPT_STAGING_BYTES = 16 * 2 ** 20;

/** Bytes read back from the GPU in place (Recorder.readMapped), and how to give them back. */
export interface MappedRead {
  readonly bytes: ArrayBuffer;
  release(): void;
}

const FNV_OFFSET = 0x811c9dc5;
/**
 * What a copy and a clear fold into the work's hash before their size (a dispatch folds its
 * kernel's id, from 1 up): a submission of a 392 MiB readback and one of 4 bytes are different
 * kinds of work to the completion wait, which predicts each kind's time from its last.
 */
const COPY_MARK = 0;
const CLEAR_MARK = 0xffffffff;
/** Folds 32-bit values into a running hash (FNV-1a's step, a word at a time). */
function fnv1a(hash: number, ...values: number[]): number {
  for (const value of values) hash = Math.imul(hash ^ value, 0x01000193) >>> 0;
  return hash;
}

/** A range of a GPU buffer bound to one kernel binding. */
export interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export interface RecorderStats {
  submits: number;
  dispatches: number;
  readbacks: number;
  /** Dispatches per kernel name since the counters were last reset. */
  perKernel: Map<string, number>;
}

/**
 * The one place that records and submits GPU work. Every dispatch of a training step goes into
 * one command encoder (one compute pass) and reaches the GPU in one `queue.submit`, when a
 * result is read back or `flush()` is called. Nothing is read back unless asked.
 */
export class CommandRecorder {
  /** Recorded commands, encoded at flush() once the tensor pool has given every tensor a buffer. */
  private commands: (() => void)[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Buffers that pending commands touch: a CPU write to one of them must wait for a flush. */
  private readonly pendingBuffers = new Set<GPUBuffer>();
  private readonly uniforms: UniformArena;
  /** Bind groups of earlier steps, reused when a dispatch binds exactly the same ranges. */
  readonly bindGroups: BindGroupCache;
  profiler: KernelProfiler | null = null;
  /**
   * Record and drop: flush() discards the commands instead of submitting them. Allocation happens
   * at record time, so this replays a step's memory use without running it (bench/memory.ts:
   * VGG16 at 224x224 batch 32 on a CPU adapter). Results are garbage while it is set.
   */
  dryRun = false;
  /** The first error WebGPU reported; every later readback throws it. */
  failed: Error | null = null;
  readonly stats: RecorderStats = { submits: 0, dispatches: 0, readbacks: 0, perKernel: new Map() };
  /** When to start polling for the GPU's completion (completion-wait.ts). */
  readonly completion: CompletionWait;
  /** What the pending commands are, as a hash of their kernels and grids: the completion wait's key. */
  private workHash = FNV_OFFSET;
  private readonly kernelIds = new ObjectIds();

  constructor(
    private readonly device: GPUDevice,
    /** Tensors' buffers: what commands bind may be placeholders until the pool plans (flush). */
    private readonly pool: BufferPool,
    private readonly readbackPool: BufferPool,
    private readonly maxWorkgroupsPerDimension: number,
    uniformAlignment: number,
    /** A lost or hung device: every submit and wait throws it. */
    private readonly watch: DeviceWatch,
    sleepBeforePoll = false,
  ) {
    this.uniforms = new UniformArena(device, uniformAlignment);
    this.bindGroups = new BindGroupCache(device);
    this.completion = new CompletionWait(sleepBeforePoll);
  }

  dispatch(
    kernel: CompiledKernel,
    buffers: Record<string, BufferRange>,
    uniforms: Record<string, number | readonly number[]>,
    workgroups: readonly [number, number, number],
    /** What the dispatch computes, for the profiler's rates (2 per multiply-add); absent where not counted. */
    flops?: number,
  ): void {
    const entries: GPUBindGroupEntry[] = kernel.bindings.map((binding) => {
      if (binding.kind === 'uniform') {
        const bytes = packUniforms(binding.uniform!, uniforms, kernel.name);
        return { binding: binding.binding, resource: this.uniforms.push(bytes) };
      }
      const range = buffers[binding.name];
      if (!range) throw new Error(`kernel ${kernel.name}: buffer '${binding.name}' was not bound`);
      this.pendingBuffers.add(range.buffer);
      return { binding: binding.binding, resource: range };
    });
    for (const name of Object.keys(buffers)) {
      if (!kernel.bindings.some((b) => b.name === name)) throw new Error(`kernel ${kernel.name}: it has no binding named '${name}'`);
    }
    const [x, y, z] = foldWorkgroups(workgroups, this.maxWorkgroupsPerDimension);
    if (x * y * z === 0) return;
    // The layer is read now: the command runs at the flush, when the label has moved on.
    const layer = this.profiler ? dispatchLabel() : undefined;
    this.commands.push(() => {
      const real = entries.map((entry) => {
        const range = entry.resource as GPUBufferBinding;
        return { binding: entry.binding, resource: { ...range, buffer: this.pool.real(range.buffer) } };
      });
      const bindGroup = this.bindGroups.get(kernel.layout, real);
      const pass = this.computePass(kernel.name, flops, layer);
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      if (this.profiler) this.endPass();
    });
    this.workHash = fnv1a(this.workHash, this.kernelIds.of(kernel), x, y, z);
    this.stats.dispatches++;
    this.stats.perKernel.set(kernel.name, (this.stats.perKernel.get(kernel.name) ?? 0) + 1);
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.pendingBuffers.add(src).add(dst);
    this.workHash = fnv1a(this.workHash, COPY_MARK, size);
    this.commands.push(() => {
      this.endPass();
      this.commandEncoder().copyBufferToBuffer(this.pool.real(src), srcOffset, this.pool.real(dst), dstOffset, size);
    });
  }

  /** Zeroes a byte range of a buffer (a recorded command, ordered with the dispatches). */
  clear(buffer: GPUBuffer, offset: number, size: number): void {
    this.pendingBuffers.add(buffer);
    this.workHash = fnv1a(this.workHash, CLEAR_MARK, size);
    this.commands.push(() => {
      this.endPass();
      this.commandEncoder().clearBuffer(this.pool.real(buffer), offset, size);
    });
  }

  /**
   * Writes CPU data into a buffer, after any pending command that uses that buffer. A small
   * write into a buffer that pending commands use (backward's seed gradient lands in a pooled
   * buffer the forward pass just released), or into a tensor whose buffer is not chosen yet, is
   * staged in the uniform arena and recorded as a copy, so that it keeps its place in the command
   * stream without a submit of its own. A large one submits what is pending first if commands
   * use the buffer; a large one into a new tensor has the pool place that tensor at once.
   */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    const pending = this.pendingBuffers.has(buffer);
    if ((pending || !this.pool.exists(buffer)) && data.byteLength <= STAGED_WRITE_BYTES) {
      const staged = this.uniforms.push(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
      this.copy(staged.buffer, staged.offset, buffer, offset, data.byteLength);
      return;
    }
    if (pending) this.flush();
    // A new tensor filled from the CPU (an upload) gets its buffer now, without a submit.
    this.device.queue.writeBuffer(this.pool.placeNow(buffer), offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Submits everything recorded so far (one `queue.submit`). The tensor pool places the
   * submission's tensors first (buffer-pool.ts `plan`); then the commands are encoded.
   */
  flush(): void {
    this.watch.throwIfFailed();
    this.pool.plan();
    if (this.commands.length === 0) return;
    const commands = this.commands;
    this.commands = [];
    for (const encode of commands) encode();
    this.endPass();
    const encoder = this.commandEncoder();
    if (this.dryRun) this.profiler?.discard(); // its passes will never run
    const afterSubmit = this.profiler?.resolve(encoder);
    this.uniforms.upload(this.device.queue);
    const commandBuffer = encoder.finish();
    if (!this.dryRun) {
      this.device.queue.submit([commandBuffer]);
      this.completion.submitted(this.workHash.toString(36));
    }
    afterSubmit?.();
    this.encoder = null;
    this.workHash = FNV_OFFSET;
    this.pendingBuffers.clear();
    this.stats.submits++;
  }

  /** Copies a buffer range back to the CPU. This submits pending work and waits for the GPU. */
  async read(range: BufferRange): Promise<ArrayBuffer> {
    const mapped = await this.readMapped(range);
    try {
      return mapped.bytes.slice(0);
    } finally {
      mapped.release();
    }
  }

  /**
   * The same read without the copy: the bytes are the staging buffer's mapped range, valid until
   * `release()` (which unmaps it and detaches them). For a large read used once, as a file writer
   * uses each tensor of a checkpoint: copying 392 MiB out of a mapping takes 0.25 s on lavapipe.
   */
  async readMapped(range: BufferRange): Promise<MappedRead> {
    const staging = this.readbackPool.acquire(range.size);
    this.copy(range.buffer, range.offset, staging, 0, range.size);
    this.flush();
    this.stats.readbacks++;
    let released = false;
    const unmap = () => {
      if (released) return; // a second release must not hand the pool the same buffer twice
      released = true;
      staging.unmap();
      if (range.size > KEPT_STAGING_BYTES) this.readbackPool.discard(staging);
      else this.readbackPool.release(staging);
    };
    await this.completion.wait(() => this.watch.bound(staging.mapAsync(GPUMapMode.READ, 0, range.size)));
    if (this.failed) {
      unmap();
      throw this.failed;
    }
    return { bytes: staging.getMappedRange(0, range.size), release: unmap };
  }

  /** Resolves when the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.completion.wait(() => this.watch.bound(this.device.queue.onSubmittedWorkDone()));
    if (this.failed) throw this.failed;
  }

  resetStats(): void {
    this.stats.submits = 0;
    this.stats.dispatches = 0;
    this.stats.readbacks = 0;
    this.stats.perKernel.clear();
  }

  private commandEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(name: string, flops?: number, layer?: string): GPUComputePassEncoder {
    if (!this.pass) {
      const timestampWrites = this.profiler?.passTimestamps(name, flops, layer);
      this.pass = this.commandEncoder().beginComputePass(timestampWrites ? { timestampWrites, label: name } : {});
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
