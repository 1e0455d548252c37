import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { Mlp, readAll } from './helpers.js';
import { tensor } from '../../src/ops/creation.js';
import { Linear } from '../../src/nn/linear.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { StateDictError } from '../../src/nn/state-dict.js';
import { skipInit, withSeed } from '../../src/nn/init.js';

describe('Module', () => {
  it('names parameters by path, in registration order, and sets each tensor name to its path', async () => {
    await testContext();
    const m = new Mlp();
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toEqual(['body.1.weight', 'body.1.bias', 'body.3.weight', 'body.3.bias', 'head.weight', 'head.bias']);
    for (const [n, p] of m.namedParameters()) {
      expect(p.name).toBe(n);
      expect(p.requiresGrad).toBe(true);
    }
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'body', 'body.0', 'body.1', 'body.2', 'body.3', 'head']);
    expect(m.getSubmodule('body.3')).toBe(m.body.at(3));
    expect(() => m.getSubmodule('body.9')).toThrow(/no submodule 'body.9'/);
    expect(String(m)).toContain('(1): Linear(in_features=8, out_features=16, bias=True)');
    m.dispose();
  });

  it('switches train/eval recursively', async () => {
    await testContext();
    const m = new Mlp();
    m.eval();
    expect(m.namedModules().every(([, x]) => !x.training)).toBe(true);
    m.train();
    expect(m.namedModules().every(([, x]) => x.training)).toBe(true);
    m.dispose();
  });

  it("initialises Linear as PyTorch: U(±1/√in) for weight and bias, reproducibly from a seed", async () => {
    await testContext();
    const a = withSeed(5, () => new Linear(400, 300));
    const b = withSeed(5, () => new Linear(400, 300));
    const w = (await a.weight.read()) as Float32Array;
    expect(Array.from(await b.weight.read())).toEqual(Array.from(w));
    const bound = 1 / Math.sqrt(400);
    expect(w.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(bound);
    // U(-b, b) has variance b²/3; 120,000 samples pin it to about 1%.
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance / (bound * bound / 3)).toBeCloseTo(1, 1);
    expect(((await a.bias!.read()) as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(bound);
    a.dispose();
    b.dispose();
  });

  it('keeps BatchNorm counters on the CPU and exports them as int64 (bigint)', async () => {
    await testContext();
    const bn = new BatchNorm2d(4);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.stateDict().get('num_batches_tracked')).toBe(0n);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const x = tensor(Array.from({ length: 2 * 4 * 3 * 3 }, (_, i) => Math.sin(i)), [2, 4, 3, 3]);
    bn.forward(x).dispose();
    bn.forward(x).dispose();
    expect(bn.stateDict().get('num_batches_tracked')).toBe(2n);
    bn.eval();
    bn.forward(x).dispose();
    expect(bn.numBatchesTracked.value).toBe(2);
    expect(Array.from(await bn.runningVar.read()).every((v) => v !== 1)).toBe(true);
    // Counters load from numbers or bigints; a tensor in their place is refused by name.
    bn.loadStateDict(new Map([...bn.stateDict(), ['num_batches_tracked', 7n]]));
    expect(bn.numBatchesTracked.value).toBe(7);
    expect(() => bn.loadStateDict(new Map([...bn.stateDict(), ['num_batches_tracked', bn.runningMean]]))).toThrow(
      /num_batches_tracked: a counter \(int64 scalar\) cannot take a floating-point value/,
    );
    expect(bn.numBatchesTracked.value).toBe(7);
    x.dispose();
    bn.dispose();
  });
});

describe('stateDict / loadStateDict', () => {
  it('copies another model state into this one, keeping the parameter objects', async () => {
    await testContext();
    const a = withSeed(1, () => new Mlp());
    const b = withSeed(2, () => new Mlp());
    const before = b.parameters();
    const report = b.loadStateDict(a.stateDict());
    expect(report.loadedKeys).toHaveLength(6);
    expect(b.parameters()).toEqual(before);
    expect(await readAll(b)).toEqual(await readAll(a));
    a.dispose();
    b.dispose();
  });

  it('refuses missing, unexpected and mis-shaped keys by name, all at once, and changes nothing', async () => {
    await testContext();
    const target = withSeed(3, () => new Mlp(3));
    const source = withSeed(4, () => new Mlp(5));
    const snapshot = await readAll(target);
    const dict = source.stateDict();
    dict.delete('body.1.bias');
    dict.set('extra.weight', dict.get('head.bias')!);
    let error: StateDictError | undefined;
    try {
      target.loadStateDict(dict);
    } catch (e) {
      error = e as StateDictError;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect(error!.missingKeys).toEqual(['body.1.bias']);
    expect(error!.unexpectedKeys).toEqual(['extra.weight']);
    expect(error!.mismatches.map((m) => m.key)).toEqual(['head.weight', 'head.bias']);
    expect(error!.message).toContain('head.weight: size mismatch: the source has [5, 16], the model has [3, 16]');
    expect(error!.message).toContain('nothing was changed');
    expect(await readAll(target)).toEqual(snapshot);

    // Not strict: missing and unexpected keys are reported, not refused; shapes still are.
    dict.set('head.weight', target.stateDict().get('head.weight')!);
    dict.set('head.bias', target.stateDict().get('head.bias')!);
    const report = target.loadStateDict(dict, { strict: false });
    expect(report.missingKeys).toEqual(['body.1.bias']);
    expect(report.unexpectedKeys).toEqual(['extra.weight']);
    target.dispose();
    source.dispose();
  });

  it('builds without initialising under skipInit (for models about to be loaded)', async () => {
    await testContext();
    const m = skipInit(() => new Mlp());
    expect(m.namedParameters()).toHaveLength(6);
    m.dispose();
  });
});
