import type { GpuContext } from '../runtime/context.js';
import type { BufferRange } from '../runtime/recorder.js';
import { BindingLimitError, DisposedTensorError, ShapeError } from '../runtime/errors.js';
import { track } from './scope.js';
import { bumpFrozenGeneration } from './frozen-generation.js';
import type { GradNode } from './graph.js';
import { releaseSaved } from './graph.js';
import { UNINITIALIZED_BITS, runFill } from '../kernels/fill.js';

export type DType = 'float32' | 'int32' | 'uint32';
export type TypedArrayOf<D extends DType> = D extends 'float32' ? Float32Array : D extends 'int32' ? Int32Array : Uint32Array;
/** Data read back in place (Tensor.readMapped): valid until `release()`. */
export interface MappedData<T> {
  readonly data: T;
  release(): void;
}

/** GPU memory shared by a tensor and its views; returned to the pool when the last one lets go. */
class Storage {
  private refs = 1;
  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GPUBuffer,
    readonly byteSize: number,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0) this.ctx.pool.release(this.buffer);
  }

  get shared(): boolean {
    return this.refs > 1;
  }
}

let nextId = 1;

/**
 * A contiguous, row-major float32 (or int32/uint32) array on the GPU, with an optional place in
 * the autograd graph. Views (reshape, share) cost nothing: they share the storage.
 */
export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  /** Gradient accumulated by `backward()` (leaf tensors that require it). */
  grad: Tensor | null = null;
  /** Shown in error messages, e.g. a parameter's name `features.0.weight`. */
  name: string;
  private storage: Storage | null;
  private node: GradNode | null = null;
  private needsGrad = false;

  private constructor(
    readonly ctx: GpuContext,
    storage: Storage,
    shape: readonly number[],
    readonly dtype: DType,
    name?: string,
  ) {
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.name = name ?? `tensor#${this.id}`;
    track(this);
  }

  /** A tensor with uninitialised contents, for kernels to write into (NaN under GpuContextOptions.fillUninitialized). */
  static empty(ctx: GpuContext, shape: readonly number[], dtype: DType = 'float32', name?: string): Tensor {
    const t = Tensor.allocate(ctx, shape, dtype, name);
    if (ctx.fillUninitialized && t.size > 0) runFill(t, UNINITIALIZED_BITS);
    return t;
  }

  private static allocate(ctx: GpuContext, shape: readonly number[], dtype: DType, name?: string): Tensor {
    const byteSize = Math.max(4, shapeSize(shape) * 4);
    if (byteSize > ctx.maxBufferBytes) {
      throw new BindingLimitError(name ?? `[${shape.join(', ')}]`, byteSize, ctx.maxBufferBytes, 'maxBufferSize', 'allocating a tensor');
    }
    return new Tensor(ctx, new Storage(ctx, ctx.pool.acquire(byteSize), byteSize), shape, dtype, name);
  }

  static fromData<D extends DType>(ctx: GpuContext, data: ArrayLike<number>, shape: readonly number[], dtype: D, name?: string): Tensor {
    if (data.length !== shapeSize(shape)) {
      throw new ShapeError(`${data.length} values do not fill a tensor of shape [${shape.join(', ')}] (${shapeSize(shape)} values)`);
    }
    const t = Tensor.allocate(ctx, shape, dtype, name); // every element is written next
    const typed = dtype === 'float32' ? Float32Array.from(data) : dtype === 'int32' ? Int32Array.from(data) : Uint32Array.from(data);
    if (typed.length > 0) ctx.recorder.write(t.buffer, 0, typed);
    return t;
  }

  /** A tensor of zeros, cleared on the GPU: a 411 MB optimizer state never passes through the CPU. */
  static zeros(ctx: GpuContext, shape: readonly number[], dtype: DType = 'float32', name?: string): Tensor {
    const t = Tensor.allocate(ctx, shape, dtype, name); // every element is written next
    ctx.recorder.clear(t.buffer, 0, Math.ceil(t.byteSize / 4) * 4);
    return t;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get byteSize(): number {
    return this.size * 4;
  }

  get isDisposed(): boolean {
    return this.storage === null;
  }

  /** Does backward need to reach this tensor? Leaves: set by the user; others: any input does. */
  get requiresGrad(): boolean {
    return this.needsGrad;
  }

  set requiresGrad(value: boolean) {
    if (this.node) throw new Error(`requiresGrad can only be set on a leaf tensor; '${this.name}' was computed by ${this.node.op}`);
    if (value && this.dtype !== 'float32') throw new Error(`'${this.name}' is ${this.dtype}: only float32 tensors can require a gradient`);
    if (value !== this.needsGrad) bumpFrozenGeneration();
    this.needsGrad = value;
  }

  get gradFn(): GradNode | null {
    return this.node;
  }

  get isLeaf(): boolean {
    return this.node === null;
  }

  /** Used by `record()`: makes this tensor the output of a differentiable operation. */
  attachGradFn(node: GradNode): void {
    this.node = node;
    this.needsGrad = true;
  }

  /**
   * The tensor's buffer, for the recorder's commands. It may be the pool's placeholder until the
   * submission that made the tensor is flushed (buffer-pool.ts): give it to the recorder, not
   * to WebGPU itself; for your own WebGPU code, `gpuBuffer()`.
   */
  get buffer(): GPUBuffer {
    return this.live().buffer;
  }

  /**
   * The real GPU buffer, for WebGPU code of your own (its first `byteSize` bytes are the tensor,
   * row-major). Submits what is recorded first, so the buffer exists and the tensor's value is
   * computed before anything you submit after this.
   */
  gpuBuffer(): GPUBuffer {
    const handle = this.live().buffer;
    this.ctx.recorder.flush();
    return this.ctx.pool.real(handle);
  }

  /** True when no other handle or view shares this tensor's memory: writing over it is safe. */
  get ownsStorage(): boolean {
    return !this.live().shared;
  }

  /** The whole tensor as a binding range, checked against the adapter's binding limit. */
  range(kernelName = 'a kernel'): BufferRange {
    return this.subrange(0, this.size, kernelName);
  }

  /** Elements [offset, offset+count) as a binding range (offset aligned to the adapter's rule). */
  subrange(offset: number, count: number, kernelName = 'a kernel'): BufferRange {
    const storage = this.live();
    const byteOffset = offset * 4;
    // Round up to 16 bytes so vec4 views are legal; pool buffers are multiples of 256 bytes.
    const size = Math.max(16, Math.ceil((count * 4) / 16) * 16);
    if (size > this.ctx.maxBindingBytes) {
      throw new BindingLimitError(this.name, count * 4, this.ctx.maxBindingBytes, 'maxStorageBufferBindingSize', kernelName);
    }
    if (byteOffset % this.ctx.limits.minStorageBufferOffsetAlignment !== 0) {
      throw new Error(`${kernelName}: binding '${this.name}' at element ${offset} breaks the ${this.ctx.limits.minStorageBufferOffsetAlignment}-byte offset alignment`);
    }
    return { buffer: storage.buffer, offset: byteOffset, size: Math.min(size, storage.buffer.size - byteOffset) };
  }

  /** A new handle on the same data and shape (not in the graph). Dispose it independently. */
  share(): Tensor {
    return new Tensor(this.ctx, this.live().retain(), this.shape, this.dtype, this.name);
  }

  /** Same data, another shape (a free view). Differentiable through ops/shape.ts `reshape`. */
  view(shape: readonly number[]): Tensor {
    const resolved = resolveShape(shape, this.size, this.shape);
    return new Tensor(this.ctx, this.live().retain(), resolved, this.dtype, this.name);
  }

  /** Same data, outside the graph. */
  detach(): Tensor {
    return this.share();
  }

  async read(): Promise<TypedArrayOf<this['dtype']>> {
    if (this.size === 0) return new Float32Array(0) as TypedArrayOf<this['dtype']>;
    const bytes = await this.ctx.recorder.read({ buffer: this.buffer, offset: 0, size: this.byteSize });
    return typedView(this.dtype, bytes) as TypedArrayOf<this['dtype']>;
  }

  /**
   * The data without copying it out of the GPU's staging buffer: valid until `release()`, which
   * empties it. For a large tensor used once (a file writer's); `read()` for anything kept.
   */
  async readMapped(): Promise<MappedData<TypedArrayOf<this['dtype']>>> {
    if (this.size === 0) return { data: new Float32Array(0) as TypedArrayOf<this['dtype']>, release: () => {} };
    const { bytes, release } = await this.ctx.recorder.readMapped({ buffer: this.buffer, offset: 0, size: this.byteSize });
    return { data: typedView(this.dtype, bytes) as TypedArrayOf<this['dtype']>, release };
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item() needs a one-element tensor; '${this.name}' has shape [${this.shape.join(', ')}]`);
    return (await this.read())[0]!;
  }

  dispose(): void {
    if (!this.storage) return;
    this.storage.release();
    this.storage = null;
  }

  /** Drops the graph behind this tensor (what it saved for backward) without running backward. */
  releaseGraph(): void {
    const stack = this.node ? [this.node] : [];
    const seen = new Set<GradNode>();
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      releaseSaved(node);
      for (const input of node.inputs) if (input.gradFn) stack.push(input.gradFn);
    }
  }

  toString(): string {
    return `Tensor(${this.name}, [${this.shape.join(', ')}], ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  private live(): Storage {
    if (!this.storage) throw new DisposedTensorError(`tensor '${this.name}' [${this.shape.join(', ')}] was used after dispose()`);
    return this.storage;
  }
}

export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${shownShape(shape)}: sizes are whole numbers of at least 0, got ${d}`);
    size *= d;
  }
  return size;
}

/** A shape for a message, its first 8 sizes at most: arguments passed in the wrong order can make it the data. */
function shownShape(shape: readonly number[]): string {
  return shape.length <= 8 ? `[${shape.join(', ')}]` : `[${Array.from(shape.slice(0, 8)).join(', ')}, ... (${shape.length} sizes)]`;
}

/** Resolves one `-1` in a target shape, as PyTorch's reshape does. */
export function resolveShape(shape: readonly number[], size: number, from: readonly number[]): number[] {
  const inferred = shape.indexOf(-1);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = [...shape];
  if (inferred >= 0) {
    if (shape.lastIndexOf(-1) !== inferred || known === 0 || size % known !== 0) {
      throw new ShapeError(`cannot reshape [${from.join(', ')}] to [${shape.join(', ')}]`);
    }
    out[inferred] = size / known;
  }
  if (shapeSize(out) !== size) throw new ShapeError(`cannot reshape [${from.join(', ')}] (${size} values) to [${shape.join(', ')}]`);
  return out;
}

/** A typed array of `dtype` over `bytes`, not a copy. */
function typedView(dtype: DType, bytes: ArrayBuffer): Float32Array | Int32Array | Uint32Array {
  return dtype === 'float32' ? new Float32Array(bytes) : dtype === 'int32' ? new Int32Array(bytes) : new Uint32Array(bytes);
}
