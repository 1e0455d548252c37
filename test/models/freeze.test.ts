import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { Mlp } from './helpers.js';
import { freeze, freezeAllButHead, matchSelector, trainableSummary, formatTrainableSummary, unfreeze, unfreezeFrom } from '../../src/models/freeze.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { InputError, Linear, ReLU, Sequential } from '../../src/node.js';

const trainable = (m: Mlp) => m.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);

describe('selectors', () => {
  it('match module paths, globs and regular expressions', () => {
    const names = ['features.0.weight', 'features.2.bias', 'features.24.weight', 'features.26.bias', 'classifier.6.weight', 'layer1.0.conv1.weight'];
    const pick = (s: Parameters<typeof matchSelector>[0]) => names.filter(matchSelector(s));
    expect(pick('features')).toEqual(names.slice(0, 4));
    expect(pick('features.2')).toEqual(['features.2.bias']);
    expect(pick('features.2*')).toEqual(['features.2.bias', 'features.24.weight', 'features.26.bias']);
    expect(pick('features.2?')).toEqual(['features.24.weight', 'features.26.bias']);
    expect(pick('**.bias')).toEqual(['features.2.bias', 'features.26.bias']);
    expect(pick('layer*')).toEqual(['layer1.0.conv1.weight']);
    expect(pick('feat')).toEqual([]);
    expect(pick(/^classifier\.6\./g)).toEqual(['classifier.6.weight']);
  });
});

describe('freeze', () => {
  it('freezes by path and unfreezes by path, from a module on, and all but the head', async () => {
    await testContext();
    const m = new Mlp();
    expect(freeze(m, 'body')).toEqual(['body.1.weight', 'body.1.bias', 'body.3.weight', 'body.3.bias']);
    expect(trainable(m)).toEqual(['head.weight', 'head.bias']);
    unfreeze(m, 'body.3');
    expect(trainable(m)).toEqual(['body.3.weight', 'body.3.bias', 'head.weight', 'head.bias']);
    freeze(m, [/weight$/]);
    expect(trainable(m)).toEqual(['body.3.bias', 'head.bias']);
    unfreezeFrom(m, 'body.2'); // a ReLU: the modules after it in order
    expect(trainable(m)).toEqual(['body.3.weight', 'body.3.bias', 'head.weight', 'head.bias']);
    freezeAllButHead(m);
    expect(trainable(m)).toEqual(['head.weight', 'head.bias']);
    expect(() => freeze(m, 'bdy')).toThrow(/bdy matches no parameter of Mlp/);
    expect(() => unfreezeFrom(m, 'body.7')).toThrow(/no module 'body.7'/);
    m.dispose();
  });

  it('a model without a headPath is told how to name one, and the advice works', async () => {
    await testContext();
    const seq = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
    expect(() => freezeAllButHead(seq)).toThrow(InputError);
    expect(() => freezeAllButHead(seq)).toThrow(/Sequential does not name its head: give it a headPath/);
    Object.assign(seq, { headPath: '2' });
    expect(freezeAllButHead(seq)).toEqual(['0.weight', '0.bias']);
    seq.dispose();
  });

  it('summarises what trains', async () => {
    await testContext();
    const m = new Mlp();
    freezeAllButHead(m);
    const s = trainableSummary(m);
    expect(s.trainable).toEqual({ tensors: 2, numel: 16 * 3 + 3, bytes: 4 * 51 });
    expect(s.frozen.numel).toBe(8 * 16 + 16 + 16 * 16 + 16);
    const text = formatTrainableSummary(s);
    expect(text).toContain('Mlp: 51 of 467 parameters trainable (10.92%)');
    expect(text).toContain('frozen     body.1.weight .. body.3.bias  (4 tensors, 416 parameters)');
    expect(text).toContain('trainable  head.weight .. head.bias  (2 tensors, 51 parameters)');
    m.dispose();
  });

  it("puts a frozen BatchNorm on running statistics in 'frozen-eval' mode, and leaves it to the model in 'follow-model'", async () => {
    await testContext();
    const bn = new BatchNorm2d(4);
    freeze(bn, 'weight', { bnMode: 'frozen-eval' });
    expect(bn.statsFrozen).toBe(false); // bias still trains
    freeze(bn, 'bias');
    expect(bn.statsFrozen).toBe(true);
    expect(bn.training && !bn.usesBatchStats).toBe(true);
    unfreeze(bn, 'bias');
    expect(bn.statsFrozen).toBe(false);
    freeze(bn, '**', { bnMode: 'follow-model' });
    expect(bn.statsFrozen).toBe(false);
    expect(bn.usesBatchStats).toBe(true);
    bn.dispose();
  });
});
