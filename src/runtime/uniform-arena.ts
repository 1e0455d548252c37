/**
 * Per-dispatch uniform values for one submit, packed into a few reusable GPU buffers.
 *
 * Each dispatch gets a 256-byte-aligned slice; the slices are written with one `writeBuffer` per
 * chunk right before the submit that reads them. Chunks are reused by the next submit: queue
 * order guarantees the previous submit has read them before they are overwritten.
 */
const CHUNK_BYTES = 64 * 1024;

interface Chunk {
  buffer: GPUBuffer;
  staging: Uint8Array<ArrayBuffer>;
  used: number;
}

export class UniformArena {
  private readonly chunks: Chunk[] = [];
  private current = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly alignment: number,
  ) {}

  /** Copies `bytes` into the arena and returns where the kernel should bind them. */
  push(bytes: ArrayBuffer): { buffer: GPUBuffer; offset: number; size: number } {
    const size = bytes.byteLength;
    let chunk = this.chunks[this.current];
    if (!chunk || chunk.used + size > CHUNK_BYTES) {
      if (chunk) this.current++;
      chunk = this.chunks[this.current] ??= this.newChunk();
    }
    const offset = chunk.used;
    chunk.staging.set(new Uint8Array(bytes), offset);
    chunk.used = Math.ceil((offset + size) / this.alignment) * this.alignment;
    return { buffer: chunk.buffer, offset, size };
  }

  /** Uploads what was pushed since the last call; call just before `queue.submit`. */
  upload(queue: GPUQueue): void {
    for (let i = 0; i <= this.current && i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (chunk.used > 0) queue.writeBuffer(chunk.buffer, 0, chunk.staging, 0, chunk.used);
      chunk.used = 0;
    }
    this.current = 0;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  private newChunk(): Chunk {
    const buffer = this.device.createBuffer({
      size: CHUNK_BYTES,
      // COPY_SRC: small CPU writes staged here are copied to their tensor (CommandRecorder.write).
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      label: 'uniform-arena',
    });
    return { buffer, staging: new Uint8Array(CHUNK_BYTES), used: 0 };
  }
}
