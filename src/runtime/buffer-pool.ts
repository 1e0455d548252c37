import { planBuffers, type PlannedTensor } from './memory-plan.js';

export interface PoolStats {
  /** Buffers ever created by this pool. */
  created: number;
  /** Acquisitions served from the free lists. */
  reused: number;
  /** Buffers currently handed out. */
  live: number;
  /** Buffers waiting in the free lists. */
  free: number;
  /** Bytes of all buffers the pool holds (live and free). */
  bytesAllocated: number;
  /** Highest bytesAllocated seen. */
  peakBytesAllocated: number;
}

/** What a planning pool hands out until the submission is planned. */
class PlannedBuffer {
  constructor(
    readonly size: number,
    readonly label: string,
  ) {}
}

/** A tensor of the submission being recorded, placed when it is planned. */
interface Pending extends PlannedTensor {
  handle: PlannedBuffer;
}

/** Plans of this many distinct submissions are remembered, so that a repeated step repeats its placement. */
const REMEMBERED_PLANS = 16;

const MIN_BUCKET = 256;
const STEPS_PER_OCTAVE = 8;

export function bucketSize(byteSize: number): number {
  if (byteSize <= MIN_BUCKET) return MIN_BUCKET;
  const octave = 2 ** Math.floor(Math.log2(byteSize));
  const step = octave / STEPS_PER_OCTAVE;
  const rounded = Math.ceil(byteSize / step) * step;
  return Math.ceil(rounded / MIN_BUCKET) * MIN_BUCKET;
}

/**
 * Reuses GPU buffers by size bucket so that a training loop, once warm, creates no new buffers.
 *
 * Buckets are 8 steps per power of two (at most 12.5% rounding waste), which keeps a VGG16's
 * 411 MB weight from being rounded up to 512 MB as a power-of-two pool would.
 *
 * A bucket hands out its oldest free buffer (the lowest serial number), not the last released:
 * then a step that makes the same requests as the previous one gets the same buffers, whatever
 * order the previous step released them in, and its bind groups can be reused
 * (bind-group-cache.ts). Last-in-first-out let the assignment drift from step to step.
 *
 * A planning pool (the tensor pool, unless `GpuContextOptions.memoryPlan` is false) hands out
 * placeholders instead, and chooses the real buffers when the submission that uses them is
 * complete (`plan()`, which the recorder calls before it encodes): by then it knows when each
 * tensor was released, and memory-plan.ts packs them into fewer bytes. The recorder resolves
 * placeholders with `real()` as it encodes; a placeholder must never reach WebGPU itself. An
 * upload into a new tensor cannot wait for the plan: `placeNow()` places that one at once.
 */
export class BufferPool {
  private readonly freeLists = new Map<number, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private readonly serials = new WeakMap<GPUBuffer, number>();
  /** Buffers handed out, per size. */
  private readonly liveCounts = new Map<number, number>();
  readonly stats: PoolStats = { created: 0, reused: 0, live: 0, free: 0, bytesAllocated: 0, peakBytesAllocated: 0 };
  /** Told of every hand-out and return, with the buffer's (bucket) size: for memory analyses (bench/memory.ts). */
  observer: ((event: 'acquire' | 'release', size: number) => void) | null = null;

  /** Tensors handed out since the last plan(), in order. */
  private pending: Pending[] = [];
  private readonly pendingOf = new Map<PlannedBuffer, Pending>();
  /** Real buffers released since the last plan(), and when. */
  private readonly releasedAt = new Map<GPUBuffer, number>();
  /** Position in this submission's sequence of hand-outs and returns. */
  private clock = 0;
  private readonly realOf = new WeakMap<PlannedBuffer, GPUBuffer>();
  /** Per submission (its sequence of sizes), the buffers each tensor got last time. */
  private readonly lastPlans = new Map<string, GPUBuffer[]>();

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly maxBufferSize: number,
    private readonly label: string,
    /** Hand out placeholders and place them in plan() (see the class comment). */
    readonly planning = false,
  ) {}

  acquire(byteSize: number): GPUBuffer {
    // Small exact-ish buckets; the largest buffers are never rounded past the adapter's limit.
    const size = Math.min(bucketSize(byteSize), Math.max(this.maxBufferSize, byteSize));
    this.stats.live++;
    this.liveCounts.set(size, (this.liveCounts.get(size) ?? 0) + 1);
    this.observer?.('acquire', size);
    if (this.planning) {
      const handle = new PlannedBuffer(size, `${this.label}:${size}`);
      const pending: Pending = { handle, size, start: this.clock++, end: null };
      this.pending.push(pending);
      this.pendingOf.set(handle, pending);
      return handle as unknown as GPUBuffer;
    }
    const reused = this.freeLists.get(size)?.pop();
    if (!reused) return this.create(size);
    this.stats.reused++;
    this.stats.free--;
    return reused;
  }

  release(buffer: GPUBuffer): void {
    const pending = this.pendingOf.get(buffer as unknown as PlannedBuffer);
    if (pending) {
      pending.end = this.clock++;
      this.pendingOf.delete(pending.handle);
      this.countRelease(pending.size);
      return;
    }
    const real = this.real(buffer);
    const size = this.sizes.get(real);
    if (size === undefined) throw new Error(`BufferPool(${this.label}): released a buffer it did not create`);
    this.addFree(real);
    if (this.planning) this.releasedAt.set(real, this.clock++);
    this.countRelease(size);
  }

  /** The GPU buffer behind what acquire() returned; a placeholder must have been placed (plan, placeNow). */
  real(buffer: GPUBuffer): GPUBuffer {
    if (!(buffer instanceof PlannedBuffer)) return buffer;
    const real = this.realOf.get(buffer);
    if (!real) throw new Error(`BufferPool(${this.label}): a ${buffer.size}-byte tensor's buffer was asked for before its submission was planned`);
    return real;
  }

  /**
   * Places one placeholder at once, outside the plan: a tensor that the CPU fills before any
   * command uses it (an upload) should not wait for the submission to end. `queue.writeBuffer`
   * lands before the submission's commands, so only a buffer that was free before the
   * submission began is safe to fill: one released since may still be read by its commands.
   */
  placeNow(buffer: GPUBuffer): GPUBuffer {
    const pending = this.pendingOf.get(buffer as unknown as PlannedBuffer);
    if (!pending) return this.real(buffer);
    this.pendingOf.delete(pending.handle);
    this.pending.splice(this.pending.indexOf(pending), 1);
    const list = this.freeLists.get(pending.size) ?? [];
    let free: GPUBuffer | undefined;
    for (let i = list.length - 1; i >= 0 && !free; i--) if (!this.releasedAt.has(list[i]!)) free = list[i]; // oldest first, as acquire
    const real = free ? this.removeFree(free) : this.create(pending.size);
    if (free) this.stats.reused++;
    this.realOf.set(pending.handle, real);
    return real;
  }

  /** False for a placeholder not planned yet: its buffer does not exist. */
  exists(buffer: GPUBuffer): boolean {
    return !(buffer instanceof PlannedBuffer) || this.realOf.has(buffer);
  }

  /**
   * Gives every placeholder handed out since the last call a real buffer: free buffers are
   * reused where the tensors' lifetimes allow, and new ones are made for the rest
   * (memory-plan.ts). A tensor still held keeps its buffer; the others' buffers are free again.
   */
  plan(): void {
    const tensors = this.pending;
    this.pending = [];
    this.pendingOf.clear();
    const releasedAt = new Map(this.releasedAt);
    this.releasedAt.clear();
    this.clock = 0;
    if (tensors.length === 0) return;
    // Free buffers, smallest and oldest first: the order the planner prefers among equals.
    const arena = [...this.freeLists.values()]
      .flat()
      .sort((a, b) => this.sizes.get(a)! - this.sizes.get(b)! || this.serials.get(a)! - this.serials.get(b)!);
    // Where each tensor went the last time a submission made the same requests.
    const key = tensors.map((t) => t.size).join(',');
    const last = this.lastPlans.get(key);
    const arenaIndex = new Map(arena.map((buffer, i) => [buffer, i]));
    tensors.forEach((t, i) => (t.hint = last ? arenaIndex.get(last[i]!) : undefined));
    const { placement, newSizes } = planBuffers(
      arena.map((buffer) => ({ size: this.sizes.get(buffer)!, freeFrom: releasedAt.get(buffer) ?? -Infinity })),
      tensors,
    );
    const buffers = [...arena, ...newSizes.map((size) => this.addFree(this.create(size)))];
    const placed = placement.map((at) => buffers[at]!);
    tensors.forEach((t, i) => {
      this.realOf.set(t.handle, placed[i]!);
      if (t.end === null) this.removeFree(placed[i]!);
      if (placement[i]! < arena.length) this.stats.reused++;
    });
    this.lastPlans.delete(key);
    this.lastPlans.set(key, placed);
    if (this.lastPlans.size > REMEMBERED_PLANS) this.lastPlans.delete(this.lastPlans.keys().next().value!);
  }

  private create(size: number): GPUBuffer {
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label}:${size}` });
    this.sizes.set(buffer, size);
    this.serials.set(buffer, this.stats.created);
    this.stats.created++;
    this.stats.bytesAllocated += size;
    this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
    return buffer;
  }

  private countRelease(size: number): void {
    this.stats.live--;
    this.liveCounts.set(size, this.liveCounts.get(size)! - 1);
    this.observer?.('release', size);
  }

  private addFree(buffer: GPUBuffer): GPUBuffer {
    const size = this.sizes.get(buffer)!;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    // Sorted by serial, descending: pop() takes the oldest.
    const serial = this.serials.get(buffer)!;
    let at = list.length;
    while (at > 0 && this.serials.get(list[at - 1]!)! < serial) at--;
    list.splice(at, 0, buffer);
    this.stats.free++;
    return buffer;
  }

  private removeFree(buffer: GPUBuffer): GPUBuffer {
    const list = this.freeLists.get(this.sizes.get(buffer)!)!;
    list.splice(list.indexOf(buffer), 1);
    this.stats.free--;
    return buffer;
  }

  /** Free buffers per size: size in bytes -> count. */
  freeBySize(): Map<number, number> {
    return new Map([...this.freeLists].filter(([, list]) => list.length > 0).map(([size, list]) => [size, list.length]));
  }

  /** Buffers handed out per size: size in bytes -> count. */
  liveBySize(): Map<number, number> {
    return new Map([...this.liveCounts].filter(([, n]) => n > 0));
  }

  /** Gives back a real buffer acquire() returned, destroying it rather than keeping it for reuse. */
  discard(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined) throw new Error(`BufferPool(${this.label}): discarded a buffer it did not create`);
    this.sizes.delete(buffer);
    this.stats.bytesAllocated -= size;
    this.countRelease(size);
    buffer.destroy();
  }

  /** Destroys every free buffer (live ones stay). Useful between unrelated workloads. */
  trim(): void {
    for (const list of this.freeLists.values()) {
      for (const buffer of list) {
        this.stats.bytesAllocated -= this.sizes.get(buffer) ?? 0;
        buffer.destroy();
      }
    }
    this.stats.free = 0;
    this.freeLists.clear();
    this.lastPlans.clear();
  }
}
