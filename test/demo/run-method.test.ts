// runMethod as the demo page calls it: on images it is given (a user's photos: two classes, not
// square, not the drawn size), with a hook at each phase, and the recipe's freezing honoured;
// stopped through its stop signal, or scored when the stop came after the last step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import type { GpuContext } from '../../src/node.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import type { WeightFile } from '../../src/models/formats/weight-file.js';
import { DEFAULT_DEMO_WEIGHTS } from '../../src/demo/run-demo.js';
import { DEMO_CONFIG, phasesOf, runMethod } from '../../src/demo/experiments.js';
import { drawTask, TARGET_CLASSES } from '../../src/demo/shapes.js';
import type { MemoryImage } from '../../src/demo/memory-source.js';
import type { TaskSplit } from '../../src/demo/tasks.js';
import type { Module } from '../../src/nn/module.js';
import { StoppedError, type EpochRecord } from '../../src/train/trainer.js';

let ctx: GpuContext;
let pretrained: WeightFile;
beforeAll(async () => {
  ctx = await testContext();
  pretrained = await openWeightsFile(DEFAULT_DEMO_WEIGHTS);
});
afterAll(() => pretrained?.close());

/** Two target classes drawn 48x48 and cut to 48x40, as photos of another shape would come. */
function photoTask(): TaskSplit {
  const cut = (image: MemoryImage): MemoryImage => ({ ...image, pixels: image.pixels.subarray(0, 48 * 40 * 3), height: 40 });
  const draw = (perClass: number, stream: number) => drawTask(TARGET_CLASSES.slice(0, 2), { size: 48, perClass, seed: 9, stream }).map(cut);
  const validation = draw(2, 2);
  return { classes: ['star', 'hexagon'], train: draw(4, 1), validation, test: validation };
}

async function values(model: Module): Promise<Map<string, Float32Array>> {
  const read = model.namedParameters().map(async ([name, p]) => [name, (await p.read()) as Float32Array] as const);
  return new Map(await Promise.all(read));
}

describe('runMethod', () => {
  it('trains on a task it is given; onPhase sees each phase begin; phase 1 leaves the base as loaded', async () => {
    const config = { ...DEMO_CONFIG, headEpochs: 2, finetuneEpochs: 1, batchSize: 4 };
    let model: Module | undefined;
    let before: Map<string, Float32Array> | undefined;
    const phases: { name: string; trainable: string[] }[] = [];
    const changed = new Map<string, boolean>();
    const result = await runMethod({
      ctx,
      method: 'transfer+finetune',
      seed: 1,
      config,
      pretrained,
      task: photoTask(),
      onModel: async (m) => {
        model = m;
        before = await values(m);
      },
      onPhase: (phase) => void phases.push({ name: phase.name, trainable: model!.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n) }),
      onEpoch: async (record) => {
        if (record.phase !== 'transfer' || record.epoch !== config.headEpochs) return;
        for (const [name, after] of await values(model!)) changed.set(name, after.some((v, i) => v !== before!.get(name)![i]));
      },
    });
    expect(phases.map((p) => p.name)).toEqual(phasesOf('transfer+finetune', config).map((p) => p.name));
    expect(phases[0]!.trainable).toEqual(['classifier.2.weight', 'classifier.2.bias']);
    expect(phases[1]!.trainable).toEqual([...changed.keys()]); // fine-tuning: everything
    for (const [name, moved] of changed) expect(moved, name).toBe(name.startsWith('classifier.2.'));
    expect(result.history.map((r) => r.phase)).toEqual(['transfer', 'transfer', 'finetune']);
    expect(result.history.every((r) => Number.isFinite(r.trainLoss))).toBe(true);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
  });

  it('stops after the step it is in when its stop signal is aborted, and frees what it made', async () => {
    const config = { ...DEMO_CONFIG, headEpochs: 2, finetuneEpochs: 1, batchSize: 4 };
    const stop = new AbortController();
    const live = ctx.pool.stats.live;
    let steps = 0;
    const onStep = () => {
      steps++;
      stop.abort(); // in the first step: the trainer takes no second
    };
    const run = runMethod({ ctx, method: 'transfer+finetune', seed: 1, config, pretrained, task: photoTask(), stop: stop.signal, onStep });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoppedError);
    expect((error as Error).message).not.toMatch(/checkpoint/); // runMethod saves none
    expect(steps).toBe(1); // of the first epoch's 2
    expect(ctx.pool.stats.live).toBe(live);
  });

  it('is scored as usual when its stop signal is aborted after the last step', async () => {
    const config = { ...DEMO_CONFIG, headEpochs: 1, finetuneEpochs: 1, batchSize: 4 };
    const stop = new AbortController();
    // Aborted as the last epoch ends: no step is left to stop.
    const onEpoch = (record: EpochRecord) => {
      if (record.phase === 'finetune') stop.abort();
    };
    const result = await runMethod({ ctx, method: 'transfer+finetune', seed: 1, config, pretrained, task: photoTask(), stop: stop.signal, onEpoch });
    expect(stop.signal.aborted).toBe(true);
    expect(result.history.map((r) => r.phase)).toEqual(['transfer', 'finetune']);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
  });
});
