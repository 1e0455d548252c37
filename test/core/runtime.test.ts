import { beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { matmulRef, randomArray } from '../helpers/reference.js';
import {
  GpuContext, createNodeGpu, tensor, zeros, add, mul, matmul, linear, sum, scale, relu, backward, zeroGrad, tidy, noGrad,
  BindingLimitError, DisposedTensorError, DTypeError, ShapeError, WebGpuUnavailableError, Tensor,
} from '../../src/node.js';
import { launch } from '../../src/kernels/launch.js';
import { runUnary } from '../../src/kernels/elementwise.js';
import { foldWorkgroups } from '../../src/runtime/workgroups.js';
import { bucketSize } from '../../src/runtime/buffer-pool.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testContext();
});

describe('adapter', () => {
  it('reports what it is, with limits and features', () => {
    expect(ctx.adapter.description || ctx.adapter.device).toBeTruthy();
    expect(ctx.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(ctx.maxBindingBytes).toBe(ctx.limits.maxStorageBufferBindingSize);
  });
  it("refuses Dawn's null backend with a message on how to install an adapter", async () => {
    const { create } = await import('webgpu');
    await expect(GpuContext.create(create(['backend=null']))).rejects.toThrow(WebGpuUnavailableError);
    await expect(GpuContext.create(create(['backend=null']))).rejects.toThrow(/setup-system\.sh/);
  });
  it('refuses a missing WebGPU', async () => {
    await expect(GpuContext.create(undefined)).rejects.toThrow(/no navigator\.gpu/);
  });
});

describe('errors', () => {
  it('a shape mismatch names both shapes', () => {
    const a = tensor([1, 2, 3], [3]);
    const b = tensor([1, 2], [2]);
    expect(() => add(a, b)).toThrow(ShapeError);
    expect(() => add(a, b)).toThrow('[3] and [2]');
    expect(() => matmul(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 2, 3, 4], [2, 2]))).toThrow(/\[2, 3\].*\[2, 2\]/);
  });
  it('use after dispose is a clear error', () => {
    const a = tensor([1, 2], [2], { name: 'activations' });
    a.dispose();
    expect(() => relu(a)).toThrow(DisposedTensorError);
    expect(() => relu(a)).toThrow(/'activations'.*after dispose/);
  });
  it('a wrong dtype is refused', () => {
    const labels = tensor([0, 1], [2], { dtype: 'int32', name: 'labels' });
    expect(() => relu(labels)).toThrow(DTypeError);
    expect(() => relu(labels)).toThrow(/'labels' is int32/);
    expect(() => (labels.requiresGrad = true)).toThrow(/only float32/);
  });
  it('an invalid kernel is not silently skipped: the next readback throws', async () => {
    const own = await GpuContext.create(await createNodeGpu());
    const x = tensor([1, 2], [2], { ctx: own });
    launch(own, { name: 'broken', code: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = undefined_thing; }' }, { buffers: { x }, workgroups: 1 });
    await expect(x.read()).rejects.toThrow(/WebGPU reported an error/);
    own.destroy();
  });
});

describe('large tensors and binding limits', () => {
  // A context that pretends one binding holds 4 KiB (1024 floats): the same code paths as
  // VGG16's 411 MB FC weight on a 128 MiB adapter, with small tensors.
  let small: GpuContext;
  beforeAll(async () => {
    small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 4096 });
  });

  it('element-wise ops process a large tensor in slices', async () => {
    const n = 5000;
    const values = randomArray(n, 3);
    const x = tensor(values, [n], { ctx: small });
    const y = await runUnary('scale', x, 2).read();
    expectClose(y, values.map((v) => 2 * v), 1e-6, 1e-6);
    const z = await add(x, x).read();
    expectClose(z, values.map((v) => 2 * v), 1e-6, 1e-6);
  });

  it('linear splits a weight larger than one binding (forward and both gradients)', async () => {
    // W is [out=48, in=40] = 1920 floats > 1024: split along N in forward, along K for dx, M for dW.
    const [batch, inF, outF] = [3, 40, 48];
    const xv = Float64Array.from(Float32Array.from(randomArray(batch * inF, 1)));
    const wv = Float64Array.from(Float32Array.from(randomArray(outF * inF, 2)));
    const x = tensor(xv, [batch, inF], { ctx: small, requiresGrad: true });
    const w = tensor(wv, [outF, inF], { ctx: small, requiresGrad: true, name: 'fc.weight' });
    const y = linear(x, w);
    expectClose(await y.read(), matmulRef(xv, [batch, inF], wv, [outF, inF], false, true), 1e-4, 1e-5, 'forward');
    backward(sum(y));
    const ones = new Float64Array(batch * outF).fill(1);
    expectClose(await x.grad!.read(), matmulRef(ones, [batch, outF], wv, [outF, inF]), 1e-4, 1e-5, 'dx');
    expectClose(await w.grad!.read(), matmulRef(ones, [batch, outF], xv, [batch, inF], true, false), 1e-4, 1e-5, 'dW');
  });

  it('refuses, naming the tensor, its size and the limit, when it cannot split', () => {
    // A batched product whose operand exceeds one binding: no contiguous split exists.
    const a = tensor(new Float32Array(2 * 2 * 1100), [2, 2, 1100], { ctx: small, name: 'batched' });
    const b = tensor(new Float32Array(2 * 1100 * 2), [2, 1100, 2], { ctx: small });
    let error: unknown;
    try {
      matmul(a, b);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BindingLimitError);
    expect(String(error)).toMatch(/'batched' needs 17\.2 KiB \(17600 bytes\).*maxStorageBufferBindingSize is 4\.00 KiB \(4096 bytes\)/);
  });
});

describe('runtime mechanics', () => {
  it('folds more than 65,535 workgroups into y and z', () => {
    expect(foldWorkgroups([100, 1, 1], 65535)).toEqual([100, 1, 1]);
    const [x, y, z] = foldWorkgroups([200_000, 1, 1], 65535);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y * z).toBeGreaterThanOrEqual(200_000);
    expect(() => foldWorkgroups([65535, 65535, 65535 * 2], 65535)).toThrow();
  });

  it('a 1-D kernel over more than 65,535 workgroups covers every element', async () => {
    const n = 65_536 * 64 + 100; // > 65,535 workgroups of 64
    const y = await runUnary('add_scalar', zeros([n]), 1).read();
    expect(y.length).toBe(n);
    expect(y.every((v) => v === 1)).toBe(true);
  });

  it('buckets sizes with at most 12.5% waste', () => {
    for (const n of [1, 255, 257, 1000, 4096, 411_041_792, 102_760_448 + 4]) {
      const b = bucketSize(n);
      expect(b).toBeGreaterThanOrEqual(n);
      expect(b % 256).toBe(0);
      if (n > 256) expect(b / n).toBeLessThanOrEqual(1.125 + 256 / n);
    }
  });

  it('compiles each kernel once', () => {
    const before = ctx.pipelines.size;
    const x = tensor([1, 2, 3], [3]);
    relu(x);
    const after = ctx.pipelines.size;
    relu(x);
    relu(tensor([4], [1]));
    expect(ctx.pipelines.size).toBe(after);
    expect(after - before).toBeLessThanOrEqual(1);
  });

  it('counts the kernels it compiles and what createComputePipeline took, in the order of first use', () => {
    const source = { name: 'test.compile_count', code: '@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n@compute @workgroup_size(1) fn main() { x[0] = 1.0; }' };
    const { compiled, compileMs } = ctx.pipelines.stats;
    const kernel = ctx.pipelines.get(source);
    expect(kernel.compileMs).toBeGreaterThan(0);
    expect(ctx.pipelines.stats).toEqual({ compiled: compiled + 1, compileMs: compileMs + kernel.compileMs });
    expect(ctx.pipelines.kernels().at(-1)).toBe(kernel);
    expect(ctx.pipelines.get({ ...source })).toBe(kernel);
    expect(ctx.pipelines.stats.compiled).toBe(compiled + 1);
  });

  it('records a step in one submit and reads nothing back unless asked', async () => {
    const w = tensor(randomArray(12, 5), [4, 3], { requiresGrad: true });
    const x = tensor(randomArray(8, 6), [2, 4]);
    await ctx.recorder.sync();
    ctx.recorder.resetStats();
    tidy(() => {
      const loss = sum(relu(matmul(x, w)));
      backward(loss);
      noGrad(() => {
        const updated = add(w, scale(w.grad!, -0.1));
        updated.dispose();
      });
    });
    expect(ctx.recorder.stats.readbacks).toBe(0);
    ctx.recorder.flush();
    expect(ctx.recorder.stats.submits).toBe(1);
    expect(ctx.recorder.stats.dispatches).toBeGreaterThan(4);
  });

  it('a training loop leaks nothing: live buffers and pool size stay flat over 100 steps', async () => {
    const w1 = tensor(randomArray(8 * 16, 1, -0.3, 0.3), [16, 8], { requiresGrad: true });
    const w2 = tensor(randomArray(16 * 2, 2, -0.3, 0.3), [2, 16], { requiresGrad: true });
    const x = tensor(randomArray(32 * 8, 3), [32, 8]);
    const target = tensor(randomArray(32 * 2, 4), [32, 2]);
    const step = () =>
      tidy(() => {
        const out = linear(relu(linear(x, w1)), w2);
        const diff = add(out, scale(target, -1));
        const loss = sum(mul(diff, diff));
        backward(loss);
        noGrad(() => {
          for (const w of [w1, w2]) {
            const next = add(w, scale(w.grad!, -1e-3));
            ctx.recorder.copy(next.buffer, 0, w.buffer, 0, w.byteSize);
          }
        });
        zeroGrad([w1, w2]);
        return loss;
      });
    for (let i = 0; i < 5; i++) step().dispose(); // warm-up
    await ctx.recorder.sync();
    const live = ctx.pool.stats.live;
    const created = ctx.pool.stats.created;
    let first = 0;
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const loss = step();
      if (i === 0) first = await loss.item();
      if (i === 99) last = await loss.item();
      loss.dispose();
    }
    expect(ctx.pool.stats.live).toBe(live);
    expect(ctx.pool.stats.created).toBe(created);
    expect(last).toBeLessThan(first); // it trains
  });

  it('noGrad records no graph', () => {
    const w = tensor([1, 2], [2], { requiresGrad: true });
    const y = noGrad(() => mul(w, w));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const z = mul(w, w);
    expect(z.gradFn?.op).toBe('mul');
  });

  it('an op whose inputs need no gradient saves nothing', () => {
    const a = tensor([1, 2], [2]);
    const before = ctx.pool.stats.live;
    const y = mul(a, a);
    expect(y.gradFn).toBeNull();
    expect(ctx.pool.stats.live).toBe(before + 1); // only the output
    expect(Tensor.prototype).toBeDefined();
  });
});

describe('memory plan', () => {
  it("a tensor's buffer is chosen when its submission is flushed, and the data lands in it", async () => {
    const a = tensor([1, -2, 3], [3]);
    const b = relu(a);
    expect(ctx.pool.exists(b.buffer)).toBe(false);
    ctx.recorder.flush();
    expect(ctx.pool.exists(b.buffer)).toBe(true);
    expect(Array.from(await b.read())).toEqual([1, 0, 3]);
  });

  it('a large upload into a new tensor costs no submit, and never lands in a buffer that pending commands still read', async () => {
    await ctx.recorder.sync();
    const n = 4096; // 16 KiB: written with writeBuffer, not staged
    const first = Float32Array.from({ length: n }, (_, i) => i - 100);
    const second = Float32Array.from({ length: n }, () => -7);
    const submits = ctx.recorder.stats.submits;
    const a = Tensor.fromData(ctx, first, [n], 'float32');
    const y = relu(a); // queued: reads a's buffer
    a.dispose(); // a's buffer is free again, but the queued relu has not read it yet
    const b = Tensor.fromData(ctx, second, [n], 'float32'); // must not take that buffer
    expect(ctx.recorder.stats.submits).toBe(submits);
    expect(Array.from(await y.read())).toEqual(Array.from(first, (v) => Math.max(0, v)));
    expect(Array.from(await b.read())).toEqual(Array.from(second));
  });

  it("a large readback's staging buffer is freed after it, a small one's kept for the next", async () => {
    // A checkpoint's reads (VGG16: 536 MiB of staging) would otherwise be held for the rest of the run.
    const staging = () => ctx.recorder['readbackPool'].stats.bytesAllocated;
    const large = Tensor.fromData(ctx, Float32Array.from({ length: 5 * 2 ** 20 }, (_, i) => i % 1000), [5 * 2 ** 20], 'float32'); // 20 MiB
    const small = tensor([1, 2, 3], [3]);
    await ctx.recorder.sync();
    const before = staging();
    const values = await large.read();
    expect([values[0], values[999], values[values.length - 1]]).toEqual([0, 999, (5 * 2 ** 20 - 1) % 1000]);
    expect(staging()).toBe(before);
    await small.read();
    const kept = staging();
    expect(kept).toBeGreaterThanOrEqual(before);
    await small.read();
    expect(staging()).toBe(kept); // the kept one served the second read
    large.dispose();
    small.dispose();
  });

  it('readMapped() lends the staging buffer\'s mapping, the same values as read(), until release() empties it', async () => {
    const x = tensor([1.5, -2, 3, 0], [4]);
    const copied = await x.read();
    const lent = await x.readMapped();
    expect(Array.from(lent.data)).toEqual(Array.from(copied));
    const readbacks = ctx.recorder.stats.readbacks;
    lent.release();
    lent.release(); // twice: the pool must not get the buffer twice
    expect(lent.data.length).toBe(0); // unmapped: detached, nothing left to misread
    expect(Array.from(await x.read())).toEqual(Array.from(copied)); // the buffer went back to the pool mapped no longer
    expect(ctx.recorder.stats.readbacks).toBe(readbacks + 1);
    const [a, b] = await Promise.all([x.readMapped(), x.readMapped()]);
    expect(a.data.length === 4 && b.data.length === 4).toBe(true); // two live loans: two buffers, both mapped
    a.release();
    b.release();
    x.dispose();
  });

  it('gpuBuffer() hands your own WebGPU code the real buffer, with the value computed', async () => {
    const y = relu(tensor([1, -2, 3, -4], [4]));
    const buffer = y.gpuBuffer();
    expect(ctx.pool.exists(y.buffer)).toBe(true);
    const staging = ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, 16);
    ctx.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    expect(Array.from(new Float32Array(staging.getMappedRange().slice(0)))).toEqual([1, 0, 3, 0]);
    staging.destroy();
  });

  it('a temporary that dies before a larger tensor is born shares its buffer; the pool alone makes two', async () => {
    const created = async (memoryPlan: boolean) => {
      const small = await GpuContext.create(await createNodeGpu(), { memoryPlan });
      const before = small.pool.stats.created;
      const temporary = Tensor.empty(small, [1000]);
      temporary.dispose();
      const large = Tensor.empty(small, [50_000]);
      small.recorder.flush();
      const count = small.pool.stats.created - before;
      large.dispose();
      small.destroy();
      return count;
    };
    expect(await created(true)).toBe(1);
    expect(await created(false)).toBe(2);
  });
});

describe('scopes and the graph', () => {
  it('a forward inside tidy() can be differentiated outside it', async () => {
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const loss = tidy(() => sum(mul(relu(w), w)));
    backward(loss);
    expect(Array.from(await w.grad!.read())).toEqual([2, 4, 6]);
  });

  it("ReLU masks its incoming gradient in place only when no other branch holds it", async () => {
    const ctx = await testContext();
    // add() hands one gradient to both ReLUs: the first must copy (the second still holds it),
    // the second may then overwrite it. Masking the shared one in place would zero x2's gradient
    // where x1 is negative.
    const x1 = tensor([1, -2, 3, -4], [4], { requiresGrad: true });
    const x2 = tensor([-1, 2, 3, 4], [4], { requiresGrad: true });
    const y = mul(add(relu(x1), relu(x2)), tensor([1, 2, 3, 4], [4]));
    const kernels = () => [...ctx.recorder.stats.perKernel].filter(([name]) => name.startsWith('binary.relu_backward'));
    ctx.recorder.resetStats();
    backward(sum(y));
    expect(Array.from(await x1.grad!.read())).toEqual([1, 0, 3, 0]);
    expect(Array.from(await x2.grad!.read())).toEqual([0, 2, 3, 4]);
    expect(kernels()).toEqual([['binary.relu_backward', 1], ['binary.relu_backward.in_place', 1]]);
  });

  it('a graph that tidy() does not return releases what it saved', async () => {
    const ctx = await testContext();
    const w = tensor([1, 2, 3], [3], { requiresGrad: true });
    const before = ctx.pool.stats.live;
    tidy(() => {
      sum(mul(relu(w), w)); // recorded, never differentiated, not returned
    });
    expect(ctx.pool.stats.live).toBe(before);
  });
});
