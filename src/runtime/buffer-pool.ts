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
 */
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

const MIN_BUCKET = 256;
const STEPS_PER_OCTAVE = 8;

export function bucketSize(byteSize: number): number {
  if (byteSize <= MIN_BUCKET) return MIN_BUCKET;
  const octave = 2 ** Math.floor(Math.log2(byteSize));
  const step = octave / STEPS_PER_OCTAVE;
  const rounded = Math.ceil(byteSize / step) * step;
  return Math.ceil(rounded / MIN_BUCKET) * MIN_BUCKET;
}

export class BufferPool {
  private readonly freeLists = new Map<number, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private readonly serials = new WeakMap<GPUBuffer, number>();
  /** Buffers handed out, per size. */
  private readonly liveCounts = new Map<number, number>();
  readonly stats: PoolStats = { created: 0, reused: 0, live: 0, free: 0, bytesAllocated: 0, peakBytesAllocated: 0 };
  /** Told of every hand-out and return, with the buffer's (bucket) size: for memory analyses (bench/memory.ts). */
  observer: ((event: 'acquire' | 'release', size: number) => void) | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly maxBufferSize: number,
    private readonly label: string,
  ) {}

  acquire(byteSize: number): GPUBuffer {
    // Small exact-ish buckets; the largest buffers are never rounded past the adapter's limit.
    const size = Math.min(bucketSize(byteSize), Math.max(this.maxBufferSize, byteSize));
    const list = this.freeLists.get(size);
    const reused = list?.pop();
    this.stats.live++;
    this.liveCounts.set(size, (this.liveCounts.get(size) ?? 0) + 1);
    if (reused) {
      this.stats.reused++;
      this.stats.free--;
      this.observer?.('acquire', size);
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage: this.usage, label: `${this.label}:${size}` });
    this.sizes.set(buffer, size);
    this.serials.set(buffer, this.stats.created);
    this.stats.created++;
    this.stats.bytesAllocated += size;
    this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
    this.observer?.('acquire', size);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined) throw new Error(`BufferPool(${this.label}): released a buffer it did not create`);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    // Sorted by serial, descending: pop() takes the oldest.
    const serial = this.serials.get(buffer)!;
    let at = list.length;
    while (at > 0 && this.serials.get(list[at - 1]!)! < serial) at--;
    list.splice(at, 0, buffer);
    this.stats.live--;
    this.liveCounts.set(size, this.liveCounts.get(size)! - 1);
    this.stats.free++;
    this.observer?.('release', size);
  }

  /** Free buffers per size: size in bytes -> count. */
  freeBySize(): Map<number, number> {
    return new Map([...this.freeLists].filter(([, list]) => list.length > 0).map(([size, list]) => [size, list.length]));
  }

  /** Buffers handed out per size: size in bytes -> count. */
  liveBySize(): Map<number, number> {
    return new Map([...this.liveCounts].filter(([, n]) => n > 0));
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
  }
}
