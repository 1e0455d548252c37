// Saved models must load into PyTorch's torchvision models with load_state_dict(strict=True):
// torchvision's names, float32 tensors, and int64 num_batches_tracked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import { python } from './fixtures.js';
import { withSeed } from '../../src/nn/init.js';
import type { Module } from '../../src/nn/module.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { createModel } from '../../src/models/registry.js';
import { loadWeightsFile, savePth, saveSafetensors } from '../../src/models/node-weights.js';
import { sameState } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wgt-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Per key: dtype, shape and the float64 sum of the values, as the checking script reports them. */
async function summary(model: Module): Promise<Record<string, [string, number[], number]>> {
  const out: Record<string, [string, number[], number]> = {};
  for (const [key, value] of model.stateDict()) {
    if (typeof value === 'bigint') out[key] = ['int64', [], Number(value)];
    else out[key] = ['float32', [...value.shape], ((await value.read()) as Float32Array).reduce((s, v) => s + v, 0)];
  }
  return out;
}

function expectSameSummary(torch: Record<string, [string, number[], number]>, ours: Record<string, [string, number[], number]>): void {
  expect(Object.keys(torch)).toEqual(Object.keys(ours));
  for (const [key, [dtype, shape, sum]] of Object.entries(ours)) {
    const [tDtype, tShape, tSum] = torch[key]!;
    expect({ key, dtype: tDtype, shape: tShape }).toEqual({ key, dtype, shape });
    // Both sum the same float32 values in float64, in different orders.
    expect(Math.abs(tSum - sum), key).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum)));
  }
}

describe("saving for PyTorch's torchvision", () => {
  for (const [arch, classes, format] of [
    ['resnet18', 1000, 'safetensors'],
    ['resnet18', 1000, 'pth'],
    ['vgg16_bn', 2, 'pth'],
  ] as const) {
    it(`${arch} (${classes} classes) as ${format} loads with load_state_dict(strict=True)`, async () => {
      await testContext();
      const model = withSeed(3, () => createModel(arch, { numClasses: classes }));
      model.namedModules().forEach(([, m], i) => {
        if (m instanceof BatchNorm2d) m.numBatchesTracked.value = 100 + i;
      });
      const path = join(dir, `${arch}.${format}`);
      await (format === 'pth' ? savePth(model, path) : saveSafetensors(model, path));
      const torch = JSON.parse(python(['--check-load', arch, String(classes), path])) as Record<string, [string, number[], number]>;
      expectSameSummary(torch, await summary(model));

      // And back: our reader gives the same state.
      const again = withSeed(4, () => createModel(arch, { numClasses: classes }));
      await loadWeightsFile(again, path);
      expect(await sameState(again, model)).toEqual([]);
      model.dispose();
      again.dispose();
    }, 600_000);
  }
});
