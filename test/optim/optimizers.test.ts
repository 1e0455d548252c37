import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { fixtures, type OptimizerCase } from './fixtures.js';
import { GpuContext, createNodeGpu, randn, tensor, type Tensor } from '../../src/node.js';
import { Adam, AdamW, SGD, type Optimizer, type BaseOptions } from '../../src/optim/index.js';

function makeOptimizer(c: OptimizerCase, params: Tensor[]): Optimizer<BaseOptions> {
  const o = c.options;
  switch (c.optimizer) {
    case 'SGD':
      return new SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay });
    case 'Adam':
      return new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
    case 'AdamW':
      return new AdamW(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
  }
}

describe('optimizers against torch.optim', () => {
  it('match SGD (momentum, dampening, nesterov, weight decay), Adam and AdamW over 5 steps with a changing lr', async () => {
    const ctx = await testContext();
    ctx.recorder.resetStats();
    for (const c of fixtures().optimizers) {
      const params = c.initial.map((f) => tensor(f.data, f.shape, { requiresGrad: true }));
      const optimizer = makeOptimizer(c, params);
      for (const [k, step] of c.steps.entries()) {
        params.forEach((p, i) => (p.grad = tensor(step.grads[i]!.data, step.grads[i]!.shape)));
        optimizer.lr = c.options.lr * c.lr_scale_by_step[k]!;
        optimizer.step();
        optimizer.zeroGrad();
        // float32 against float64: parameters of magnitude ~1 keep a few ulps per step (seen
        // below 4e-7 after 5 steps); Adam divides by √v + eps, which amplifies nothing here.
        for (const [i, p] of params.entries()) expectClose(await p.read(), step.params[i]!.data, 1e-6, 1e-6, `${c.name} step ${k} param ${i}`);
      }
      const state = optimizer.state.get(params[0]!)!;
      for (const [name, expected] of Object.entries(c.final_state)) {
        if (typeof expected === 'number') expect(state.step, `${c.name}: ${name}`).toBe(expected);
        else expectClose(await state.buffers[name]!.read(), expected.data, 1e-6, 1e-5, `${c.name}: ${name}`);
      }
      expect(Object.keys(state.buffers).sort(), c.name).toEqual(Object.keys(c.final_state).filter((k) => k !== 'step').sort());
    }
    // Both kernel widths were checked: the fixtures' [5, 3] and [7] take the scalar kernels, [4, 6] the vec4 ones.
    const kernels = [...ctx.recorder.stats.perKernel.keys()].filter((name) => name.startsWith('optim.'));
    for (const rule of ['sgd_momentum', 'adam', 'adamw']) {
      expect(kernels, rule).toContain(`optim.${rule}`);
      expect(kernels, rule).toContain(`optim.${rule}.vec4`);
    }
  });
});

describe('optimizers', () => {
  it('give frozen parameters and parameters without a gradient no state and no update', async () => {
    const ctx = await testContext();
    const trained = randn([3, 4], 1, { requiresGrad: true, name: 'trained' });
    const frozen = randn([3, 4], 2, { name: 'frozen' }); // requiresGrad false
    const idle = randn([5], 3, { requiresGrad: true, name: 'idle' }); // requires one, has none
    frozen.grad = randn([3, 4], 4); // a stale gradient must not move a frozen parameter
    const before = await Promise.all([frozen.read(), idle.read()]);
    for (const optimizer of [new SGD([trained, frozen, idle], { lr: 0.1, momentum: 0.9 }), new Adam([trained, frozen, idle]), new AdamW([trained, frozen, idle])]) {
      trained.grad = randn([3, 4], 5);
      ctx.recorder.resetStats();
      optimizer.step();
      expect(ctx.recorder.stats.dispatches, optimizer.name).toBe(1);
      expect([...optimizer.state.keys()]).toEqual([trained]);
      optimizer.dispose();
    }
    expect(Array.from(await frozen.read())).toEqual(Array.from(before[0]));
    expect(Array.from(await idle.read())).toEqual(Array.from(before[1]));
  });

  it('update a tensor larger than one binding in slices, equal to the unsliced update', async () => {
    const big = await testContext();
    // 4 KiB bindings: a 5000-element parameter (20 KB) is updated in 5 slices.
    const small = await GpuContext.create(await createNodeGpu(), { maxBindingBytes: 4096 });
    const size = 5000;
    const start = await randn([size], 6, { ctx: big }).read();
    const grads = await Promise.all([7, 8, 9].map((seed) => randn([size], seed, { ctx: big }).read()));
    for (const make of [(p: Tensor) => new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }), (p: Tensor) => new AdamW([p], { lr: 0.01 })]) {
      const results = [];
      for (const ctx of [big, small]) {
        const p = tensor(start, [50, 100], { ctx, requiresGrad: true });
        const optimizer = make(p);
        ctx.recorder.resetStats();
        for (const g of grads) {
          p.grad = tensor(g, [50, 100], { ctx });
          optimizer.step();
        }
        results.push({ dispatches: ctx.recorder.stats.dispatches, values: Array.from(await p.read()) });
        optimizer.dispose();
      }
      expect(results[0]!.dispatches).toBe(3);
      expect(results[1]!.dispatches).toBe(15);
      expect(results[1]!.values).toEqual(results[0]!.values);
    }
    small.destroy();
  });

  it('use each group’s own learning rate', async () => {
    await testContext();
    const head = tensor([1, 1], [2], { requiresGrad: true });
    const base = tensor([1, 1], [2], { requiresGrad: true });
    const optimizer = new SGD([{ params: [head] }, { params: [base], lr: 0.01 }], { lr: 0.1 });
    head.grad = tensor([1, 2], [2]);
    base.grad = tensor([1, 2], [2]);
    optimizer.step();
    expectClose(await head.read(), [0.9, 0.8], 1e-7);
    expectClose(await base.read(), [0.99, 0.98], 1e-7);
    expect(optimizer.lr).toBe(0.1);
    expect(() => new SGD([head, head], { lr: 0.1 })).toThrow(/more than one group/);
    expect(() => new SGD([head], { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => new Adam([head], { betas: [1, 0.9] })).toThrow(RangeError);
  });

  it('save and restore their state: a resumed run continues exactly', async () => {
    await testContext();
    const grads = [1, 2, 3, 4].map((seed) => randn([6], 10 + seed));
    for (const make of [(p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9 }), (p: Tensor[]) => new Adam(p, { lr: 0.05 })]) {
      const p = randn([6], 20, { requiresGrad: true });
      const frozen = randn([2], 21);
      const straight = make([frozen, p]);
      for (const g of grads) {
        p.grad = g;
        straight.step();
      }
      const expected = Array.from(await p.read());

      const q = randn([6], 20, { requiresGrad: true });
      const first = make([frozen, q]);
      for (const g of grads.slice(0, 2)) {
        q.grad = g;
        first.step();
      }
      const saved = await first.stateDict();
      expect(Object.keys(saved.state)).toEqual(['1']); // the frozen parameter 0 has none
      expect(saved.state[1]!.step).toBe(2);
      expect(saved.param_groups[0]!.params).toEqual([0, 1]);
      expect(saved.param_groups[0]!.lr).toBe(first.lr);
      const resumed = make([frozen, q]);
      resumed.loadStateDict(JSON.parse(JSON.stringify(saved, (_, v) => (v instanceof Float32Array ? Array.from(v) : v))));
      for (const g of grads.slice(2)) {
        q.grad = g;
        resumed.step();
      }
      expect(Array.from(await q.read())).toEqual(expected);
    }
  });
});
