// Loading weight files into a model: strictness, the head option, and the promise that a bad
// file changes nothing. Small in-memory files here; PyTorch's own files in parity.test.ts.
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { Mlp, readAll } from './helpers.js';
import { withSeed } from '../../src/nn/init.js';
import { StateDictError } from '../../src/nn/state-dict.js';
import { loadWeights } from '../../src/models/load-weights.js';
import { stateDictToWrite } from '../../src/models/save-weights.js';
import { inspectWeights, formatWeightInspection } from '../../src/models/inspect.js';
import { bytesSource } from '../../src/models/formats/byte-source.js';
import { openWeights } from '../../src/models/formats/open-weights.js';
import { writeSafetensors } from '../../src/models/formats/safetensors-write.js';
import { writePytorchZip } from '../../src/models/formats/pth-write.js';
import type { TensorToWrite } from '../../src/models/formats/tensor-to-write.js';
import type { Module } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';

async function fileOf(model: Module, edit: (t: Map<string, TensorToWrite>) => void = () => {}, format: 'safetensors' | 'pth' = 'safetensors') {
  const tensors = await stateDictToWrite(model);
  edit(tensors);
  const bytes = format === 'safetensors' ? writeSafetensors(tensors) : writePytorchZip(tensors);
  return openWeights(bytesSource(bytes, `mlp.${format}`));
}

describe('loadWeights', () => {
  it('loads every tensor of a matching file (safetensors and .pth)', async () => {
    await testContext();
    for (const format of ['safetensors', 'pth'] as const) {
      const source = withSeed(1, () => new Mlp());
      const target = withSeed(2, () => new Mlp());
      const report = await loadWeights(target, await fileOf(source, undefined, format));
      expect(report.loadedKeys).toHaveLength(6);
      expect(report.bytesRead).toBe(4 * (16 * 8 + 16 + 16 * 16 + 16 + 3 * 16 + 3));
      expect(await readAll(target)).toEqual(await readAll(source));
      source.dispose();
      target.dispose();
    }
  });

  it('refuses a file with missing, unexpected and mis-shaped keys, naming file, keys and shapes, and changes nothing', async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp(5));
    const target = withSeed(2, () => new Mlp(3));
    const file = await fileOf(source, (t) => {
      t.delete('body.3.weight');
      t.set('body.9.weight', t.get('body.3.bias')!);
    });
    const before = await readAll(target);
    const error = await loadWeights(target, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateDictError);
    const e = error as StateDictError;
    expect(e.message).toMatch(/^cannot load mlp\.safetensors into Mlp; nothing was changed/);
    expect(e.missingKeys).toEqual(['body.3.weight']);
    expect(e.unexpectedKeys).toEqual(['body.9.weight']);
    expect(e.mismatches).toEqual([
      { key: 'head.weight', detail: 'size mismatch: the source has [5, 16], the model has [3, 16]' },
      { key: 'head.bias', detail: 'size mismatch: the source has [5], the model has [3]' },
    ]);
    expect(e.message).toContain(`pass { head: 'skip' }`);
    expect(await readAll(target)).toEqual(before);
    source.dispose();
    target.dispose();
  });

  it("loads a 5-class file under a new 3-class head with head: 'skip', keeping the new head", async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp(5));
    const target = withSeed(2, () => new Mlp(3));
    const head = await readAll(target.head);
    const report = await loadWeights(target, await fileOf(source), { head: 'skip' });
    expect(report.skippedKeys).toEqual(['head.weight', 'head.bias']);
    expect(report.unexpectedKeys).toEqual([]);
    expect(await readAll(target.head)).toEqual(head);
    expect(await readAll(target.body)).toEqual(await readAll(source.body));
    source.dispose();
    target.dispose();
  });

  it('loads a partial file when not strict, and reports what was missing', async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp());
    const target = withSeed(2, () => new Mlp());
    const report = await loadWeights(target, await fileOf(source, (t) => t.delete('head.bias')), { strict: false });
    expect(report.missingKeys).toEqual(['head.bias']);
    expect(report.loadedKeys).toHaveLength(5);
    source.dispose();
    target.dispose();
  });

  it('refuses, strict or not, a file of which no tensor fits: another architecture, its keys listed a few at a time', async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp());
    const target = withSeed(2, () => new Mlp());
    const renamed = await fileOf(source, (t) => {
      for (const [key, value] of [...t]) {
        t.delete(key);
        for (let copy = 0; copy < 3; copy++) t.set(`features.${copy}.${key}`, value); // 18 keys, none the model's
      }
    });
    const before = await readAll(target);
    for (const strict of [true, false]) {
      const error = await loadWeights(target, renamed, { strict }).catch((e: unknown) => e);
      expect(error, `strict ${strict}`).toBeInstanceOf(StateDictError);
      const e = error as StateDictError;
      expect(e.unexpectedKeys).toHaveLength(18);
      expect(e.message).toMatch(/unexpected keys \(18\): features\.0\.body\.1\.weight, .*, and 8 more\n/);
      expect(e.message).toMatch(/None of its 18 tensors fits Mlp: is it another architecture\?/);
    }
    expect(await readAll(target)).toEqual(before);
    source.dispose();
    target.dispose();
  });

  it('finds the state dict inside a checkpoint or a DataParallel model, leaving the rest out', async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp());
    const expected = await readAll(source);
    const wrapped = (prefix: string, extra: Record<string, TensorToWrite> = {}) =>
      fileOf(source, (t) => {
        for (const [key, value] of [...t]) {
          t.delete(key);
          t.set(`${prefix}${key}`, value);
        }
        for (const [key, value] of Object.entries(extra)) t.set(key, value);
      });
    const momentum: TensorToWrite = { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) };
    for (const [prefix, extra] of [['state_dict.', {}], ['model.', { 'optimizer.state.0.momentum_buffer': momentum }], ['module.', {}], ['model.module.', {}]] as const) {
      const target = withSeed(2, () => new Mlp());
      const report = await loadWeights(target, await wrapped(prefix, extra));
      expect(report.wrapper, prefix).toBe(prefix);
      expect(report.loadedKeys, prefix).toHaveLength(6);
      expect(report.unexpectedKeys, prefix).toEqual([]);
      expect(await readAll(target), prefix).toEqual(expected);
      target.dispose();
    }
    expect((await loadWeights(withSeed(2, () => new Mlp()), await fileOf(source))).wrapper).toBeUndefined();
    source.dispose();
  });

  it('takes a counter stored as a float, as PyTorch does after {k: v.half()}', async () => {
    await testContext();
    const bn = new BatchNorm2d(4);
    const file = await fileOf(bn, (t) => t.set('num_batches_tracked', { dtype: 'F32', shape: [], data: Float32Array.of(7) }));
    await loadWeights(bn, file);
    expect(bn.numBatchesTracked.value).toBe(7);
    const vector = await fileOf(bn, (t) => t.set('num_batches_tracked', { dtype: 'F32', shape: [2], data: Float32Array.of(7, 8) }));
    await expect(loadWeights(bn, vector)).rejects.toThrow(/num_batches_tracked: a counter .*cannot take/);
    bn.dispose();
  });

  it('refuses an integer tensor where a float parameter belongs', async () => {
    await testContext();
    const target = withSeed(2, () => new Mlp());
    const file = await fileOf(target, (t) => t.set('head.bias', { dtype: 'I64', shape: [3], data: BigInt64Array.of(1n, 2n, 3n) }));
    await expect(loadWeights(target, file)).rejects.toThrow(/head\.bias: stored as an integer tensor/);
    target.dispose();
  });

  it('inspects a file against a model: what loads, what does not fit, what is missing', async () => {
    await testContext();
    const source = withSeed(1, () => new Mlp(5));
    const target = withSeed(2, () => new Mlp(3));
    const file = await fileOf(source, (t) => t.delete('body.1.bias'));
    const inspection = inspectWeights(file, target);
    expect(inspection.model).toMatchObject({ name: 'Mlp', loads: 3, mismatched: 2, unexpected: 0, missing: [{ key: 'body.1.bias', shape: [16] }] });
    const text = formatWeightInspection(inspection);
    expect(text).toMatch(/head\.weight +\[5, 16\] +F32 +320 B +shape-mismatch \(model \[3, 16\]\)/);
    expect(text).toMatch(/body\.3\.bias +\[16\] +F32 +64 B +loads/);
    expect(text).toContain('onto Mlp: 3 load, 2 shape mismatches, 0 unexpected, 1 missing');
    expect(inspectWeights(file).rows.map((r) => r.name)).toEqual(['body.1.weight', 'body.3.weight', 'body.3.bias', 'head.weight', 'head.bias']);
    source.dispose();
    target.dispose();
  });
});
