/**
 * Per-dispatch GPU timings from `timestamp-query`. While profiling, the recorder gives every
 * dispatch its own compute pass with a begin and end timestamp; `collect()` turns the resolved
 * query values into one record per dispatch.
 */
export interface KernelTiming {
  name: string;
  /** Start and end on the GPU clock, in nanoseconds. */
  startNs: number;
  endNs: number;
  /** The floating-point operations the dispatch computes (2 per multiply-add), where its launch says. */
  flops?: number;
  /** The layer it ran for (runtime/dispatch-label.ts), where one was set. */
  layer?: string;
}

/** A timed pass: its dispatch's kernel, the work its launch declared, and its layer. */
interface Pass {
  name: string;
  flops: number | undefined;
  layer: string | undefined;
}

// Dispatches per submit that can be timed: two queries each, and WebGPU caps a query set at 4096.
const CAPACITY = 2048;

export class KernelProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private passes: Pass[] = [];
  /** Resolved timestamps not read yet, one readback per submit. */
  private pending: { readback: GPUBuffer; passes: Pass[] }[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY * 2 });
    this.resolveBuffer = device.createBuffer({
      size: CAPACITY * 2 * 8,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  /** The timestamp writes for the pass that will hold dispatch `name`, or undefined when full. */
  passTimestamps(name: string, flops?: number, layer?: string): GPUComputePassTimestampWrites | undefined {
    if (this.passes.length >= CAPACITY) return undefined;
    const index = this.passes.length;
    this.passes.push({ name, flops, layer });
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  /**
   * Records the query resolution into `encoder`; the timings are read by `collect`, not mapped
   * now: a pending mapAsync would keep Dawn's Node binding spinning a core through the whole
   * profiled step, and on a software adapter that core is the kernels' (completion-wait.ts).
   */
  resolve(encoder: GPUCommandEncoder): (() => void) | undefined {
    const count = this.passes.length;
    if (count === 0) return undefined;
    const passes = this.passes;
    this.passes = [];
    const readback = this.device.createBuffer({ size: count * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, count * 2, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, readback, 0, count * 16);
    return () => this.pending.push({ readback, passes });
  }

  /** Forgets the passes given timestamps since the last resolve: a dry run drops them unsubmitted. */
  discard(): void {
    this.passes = [];
  }

  /** Every timing recorded since the last call, in dispatch order. Call once the GPU is idle. */
  async collect(): Promise<KernelTiming[]> {
    const batches = await Promise.all(
      this.pending.map(async ({ readback, passes }) => {
        await readback.mapAsync(GPUMapMode.READ);
        const stamps = new BigUint64Array(readback.getMappedRange().slice(0));
        readback.destroy();
        return passes.map(({ name, flops, layer }, i) => ({
          name,
          startNs: Number(stamps[2 * i]),
          endNs: Number(stamps[2 * i + 1]),
          ...(flops === undefined ? {} : { flops }),
          ...(layer === undefined ? {} : { layer }),
        }));
      }),
    );
    this.pending = [];
    return batches.flat();
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
  }
}
