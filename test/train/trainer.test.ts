import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testContext } from '../helpers/gpu.js';
import { Dropout, GpuContext, InputError, Linear, OptionRangeError, Sequential, createNodeGpu, noGrad, smallVgg, tensor, withSeed } from '../../src/node.js';
import type { TunedLayer } from '../../src/kernels/conv2d-tuning.js';
import { Trainer, freshPosition, NonFiniteLossError, StoppedError, type CheckpointEvery, type StepWatcher, type TrainerPosition } from '../../src/train/trainer.js';
import type { PhaseConfig } from '../../src/train/plan.js';
import { saveCheckpoint, loadCheckpoint } from '../../src/train/checkpoint-node.js';
import { targetTask, taskData } from '../../src/demo/tasks.js';
import type { Module } from '../../src/nn/module.js';

let ctx: GpuContext;
let dir: string;
beforeAll(async () => {
  ctx = await testContext();
  dir = await mkdtemp(join(tmpdir(), 'wgt-trainer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const task = targetTask(4, 2, 0, 1); // 16 training images, 8 validation
const phases: PhaseConfig[] = [
  { name: 'transfer', epochs: 2, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'step', stepSize: 1, gamma: 0.5 } },
  { name: 'finetune', epochs: 1, trainable: { kind: 'all' }, optimizer: 'sgd', lr: 0.005, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
];
const makeModel = () => smallVgg({ widths: [4, 8], hidden: 16, numClasses: 4, seed: 3, ctx });

async function weightsOf(model: Module): Promise<Float32Array[]> {
  return Promise.all(model.parameters().map(async (p) => (await p.read()) as Float32Array));
}

function trainerFor(model: Module, checkpointPath?: string, stopAfter?: number) {
  let steps = 0;
  return new Trainer(ctx, model, taskData(ctx, task, 4, 7), { seed: 7 }, {
    onStep: () => void steps++,
    checkpoint: checkpointPath ? (state) => saveCheckpoint(checkpointPath, model, state, { test: true }) : undefined,
    shouldStop: () => stopAfter !== undefined && steps >= stopAfter,
  });
}

describe('Trainer', () => {
  let reference: { history: Awaited<ReturnType<Trainer['run']>>; weights: Float32Array[] };

  beforeAll(async () => {
    const model = makeModel();
    const history = await trainerFor(model).run(phases);
    reference = { history, weights: await weightsOf(model) };
    model.dispose();
  });

  it('runs the phases with per-epoch learning rates and the recipe\'s freezing', () => {
    expect(reference.history.map((r) => [r.phase, r.epoch, r.lr])).toEqual([
      ['transfer', 1, 0.05],
      ['transfer', 2, 0.025],
      ['finetune', 1, 0.005],
    ]);
    expect(reference.history[0]!.trainable).toBe(2); // the head's weight and bias
    // Each epoch's validation, class by class: a row per class's images, the right ones on the diagonal.
    const perClass = task.classes.map((_, c) => task.validation.filter((image) => image.label === c).length);
    for (const r of reference.history) {
      expect(r.valConfusion!.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(perClass);
      expect(r.valConfusion!.reduce((sum, row, i) => sum + row[i]!, 0)).toBe(Math.round(r.valAccuracy * task.validation.length));
    }
    expect(reference.history[2]!.trainable).toBe(makeModelParameterCount());
    for (const r of reference.history) {
      expect(r.trainAccuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(r.valLoss)).toBe(true);
    }
  });

  it('calls onPhase as each phase begins (after its freezing, before its first step); onStep knows the batches per epoch from the first', async () => {
    const model = makeModel();
    const events: string[] = [];
    const trainable = () => model.parameters().filter((p) => p.requiresGrad).length;
    await new Trainer(ctx, model, taskData(ctx, task, 8, 7), { seed: 7 }, {
      onPhase: async (phase, index) => void events.push(`phase ${index} ${phase.name}: ${trainable()} trainable`),
      onStep: (info) => void events.push(`step ${info.phase} ${info.epoch}.${info.batch} of ${info.batches}`),
    }).run(phases);
    model.dispose();
    const all = makeModelParameterCount();
    expect(events).toEqual([
      'phase 0 transfer: 2 trainable',
      'step transfer 0.1 of 2',
      'step transfer 0.2 of 2',
      'step transfer 1.1 of 2',
      'step transfer 1.2 of 2',
      `phase 1 finetune: ${all} trainable`,
      'step finetune 0.1 of 2',
      'step finetune 0.2 of 2',
    ]);
  });

  it('calls several step watchers in their order, inside the step and after its submit', async () => {
    const model = makeModel();
    const calls: string[] = [];
    const watcher = (name: string): StepWatcher => ({
      beforeBackward: (_loss, at) => void calls.push(`${name} before backward ${at.epoch}.${at.batch}`),
      afterUpdate: () => void calls.push(`${name} after update`),
      afterStep: async () => void calls.push(`${name} after step`),
    });
    const oneEpoch: PhaseConfig[] = [{ ...phases[0]!, epochs: 1 }];
    await new Trainer(ctx, model, taskData(ctx, task, 8, 7), { seed: 7 }, { watch: [watcher('a'), watcher('b')] }).run(oneEpoch);
    model.dispose();
    const step = (batch: number) => [`a before backward 0.${batch}`, `b before backward 0.${batch}`, 'a after update', 'b after update', 'a after step', 'b after step'];
    expect(calls).toEqual([...step(1), ...step(2)]);
  });

  it('stopped mid-epoch and resumed from its checkpoint, reaches the same weights and history', async () => {
    const path = join(dir, 'mid.safetensors');
    const first = makeModel();
    // 4 batches per epoch: stop in the middle of the second transfer epoch.
    await expect(trainerFor(first, path, 6).run(phases)).rejects.toThrow(StoppedError);
    first.dispose();
    expect(existsSync(path)).toBe(true);

    const resumed = makeModel();
    const checkpoint = await loadCheckpoint<{ test: boolean }>(path, resumed);
    expect(checkpoint.meta.position).toMatchObject({ phaseIndex: 0, epoch: 1, batchesDone: 2 });
    const history = await trainerFor(resumed, path).run(phases, checkpoint.meta.position, checkpoint.restore);
    expect(history.map((r) => r.valLoss)).toEqual(reference.history.map((r) => r.valLoss));
    const weights = await weightsOf(resumed);
    weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(reference.weights[i]!)));
    resumed.dispose();
  });

  it('a stop asked between epochs takes no step of the next, and resumes from the epoch\'s checkpoint', async () => {
    const path = join(dir, 'between.safetensors');
    const first = makeModel();
    let steps = 0;
    let stopAsked = false;
    const trainer = new Trainer(ctx, first, taskData(ctx, task, 4, 7), { seed: 7 }, {
      onStep: () => void steps++,
      onEpoch: () => void (stopAsked = true), // as a Ctrl-C during validation would
      checkpoint: (state) => saveCheckpoint(path, first, state, { test: true }),
      shouldStop: () => stopAsked,
    });
    await expect(trainer.run(phases)).rejects.toThrow(/^stopped before transfer epoch 2; a checkpoint was saved$/);
    expect(steps).toBe(4); // the first epoch's 4 batches, none of the second's
    first.dispose();

    const resumed = makeModel();
    const checkpoint = await loadCheckpoint<{ test: boolean }>(path, resumed);
    expect(checkpoint.meta.position).toMatchObject({ phaseIndex: 0, epoch: 1, batchesDone: 0 });
    const history = await trainerFor(resumed).run(phases, checkpoint.meta.position, checkpoint.restore);
    expect(history.map((r) => r.valLoss)).toEqual(reference.history.map((r) => r.valLoss));
    resumed.dispose();
  });

  it('checkpointEvery: inside epochs too, never at an epoch\'s last batch, and no result changes', async () => {
    const model = makeModel();
    const saved: [number, number, number][] = [];
    const positions = (every: CheckpointEvery) =>
      new Trainer(ctx, model, taskData(ctx, task, 4, 7), { seed: 7, checkpointEvery: every }, {
        checkpoint: async ({ position }) => void saved.push([position.phaseIndex, position.epoch, position.batchesDone]),
      });
    const history = await positions({ steps: 3 }).run(phases);
    // 4 batches an epoch: after 3 steps, then the epoch's own; the count starts again from each.
    expect(saved).toEqual([[0, 0, 3], [0, 1, 0], [0, 1, 3], [1, 0, 0], [1, 0, 3], [2, 0, 0]]);
    expect(history.map((r) => r.valLoss)).toEqual(reference.history.map((r) => r.valLoss));
    expect(await weightsOf(model)).toEqual(reference.weights);
    // A time limit already passed asks after every step (but the last of each epoch).
    saved.length = 0;
    await positions({ minutes: 1e-9 }).run(phases.slice(0, 1));
    expect(saved).toEqual([[0, 0, 1], [0, 0, 2], [0, 0, 3], [0, 1, 0], [0, 1, 1], [0, 1, 2], [0, 1, 3], [1, 0, 0]]);
    await expect(positions({ steps: 0 }).run(phases)).rejects.toThrow(/checkpointEvery\.steps must be a whole number above 0; got 0/);
    model.dispose();
  });

  it('a checkpoint keeps each Dropout\'s step: the restored model draws the masks the saved one would have', async () => {
    const build = () => withSeed(5, () => new Sequential(new Linear(16, 16, { ctx }), new Dropout(0.5), new Linear(16, 2, { ctx })));
    const x = tensor(Float32Array.from({ length: 4 * 16 }, (_, i) => Math.sin(i)), [4, 16], { ctx });
    const saved = build();
    for (let i = 0; i < 3; i++) noGrad(() => saved.forward(x)).dispose(); // three masks drawn
    const path = join(dir, 'dropout.safetensors');
    await saveCheckpoint(path, saved, { position: freshPosition(), optimizer: null, scheduler: null }, {});
    const restored = build();
    await loadCheckpoint(path, restored);
    expect((restored.getSubmodule('1') as Dropout).step).toBe(3);
    const next = async (m: Module) => Array.from(await noGrad(() => m.forward(x)).read());
    const expected = await next(saved);
    expect(await next(restored)).toEqual(expected);
    const fresh = build();
    expect(await next(fresh)).not.toEqual(expected); // a fresh model's first mask is another one
    for (const m of [saved, restored, fresh]) m.dispose();
    x.dispose();
  });

  it('resumed at a phase boundary, reaches the same weights', async () => {
    const path = join(dir, 'boundary.safetensors');
    const first = makeModel();
    await expect(trainerFor(first, path, 8).run(phases)).rejects.toThrow(StoppedError);
    first.dispose();
    const resumed = makeModel();
    const checkpoint = await loadCheckpoint<{ test: boolean }>(path, resumed);
    await trainerFor(resumed).run(phases, checkpoint.meta.position, checkpoint.restore);
    const weights = await weightsOf(resumed);
    weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(reference.weights[i]!)));
    resumed.dispose();
  });

  it('a later phase\'s bad module path or learning rate stops the run before the first phase trains a step', async () => {
    const model = makeModel();
    for (const bad of [{ trainable: { kind: 'from', path: 'features.99' } }, { lr: -0.1 }] as Partial<PhaseConfig>[]) {
      let steps = 0;
      const trainer = new Trainer(ctx, model, taskData(ctx, task, 4, 7), { seed: 7 }, { onStep: () => void steps++ });
      const run = trainer.run([phases[0]!, { ...phases[1]!, ...bad }]);
      await expect(run).rejects.toThrow(bad.lr ? OptionRangeError : InputError);
      await expect(run).rejects.toThrow(bad.lr ? /lr must be >= 0, got -0.1/ : /no module 'features.99'; its modules with parameters are features, features.0, /);
      expect(steps).toBe(0);
    }
    model.dispose();
  });

  it('a non-finite loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const path = join(dir, 'nan.safetensors');
    const model = makeModel();
    const exploding: PhaseConfig[] = [{ ...phases[1]!, name: 'explode', epochs: 3, lr: 1e12, momentum: 0 }];
    let saved: TrainerPosition | null = null;
    const trainer = new Trainer(ctx, model, taskData(ctx, task, 4, 7), { seed: 7, progressEvery: 1 }, {
      checkpoint: async (state) => {
        saved = state.position;
        await saveCheckpoint(path, model, state, {});
      },
    });
    await expect(trainer.run(exploding)).rejects.toThrow(NonFiniteLossError);
    await expect(trainer.run(exploding, freshPosition())).rejects.toThrow(/lower learning rate/);
    // Whatever was saved before the loss blew up is a loadable checkpoint.
    if (saved) await expect(loadCheckpoint(path, makeModel())).resolves.toBeDefined();
    model.dispose();
  });

  it('a run that ends mid-epoch (stopped, or a hook that throws) frees every tensor it made', async () => {
    const live = () => ctx.pool.stats.live;
    for (const [ending, hooks] of [
      [StoppedError, { shouldStop: () => true }],
      [/hook failed/, { onStep: () => { throw new Error('hook failed'); } }],
    ] as const) {
      const before = live();
      const data = taskData(ctx, task, 4, 7);
      const model = makeModel();
      await expect(new Trainer(ctx, model, data, { seed: 7 }, hooks).run(phases)).rejects.toThrow(ending);
      model.dispose();
      data.trainTransform.dispose(); // the augmenters keep their working buffers for the next batch
      data.evalTransform.dispose();
      await ctx.recorder.sync();
      expect(live(), `live buffers after a run that ended with ${String(ending)}`).toBe(before);
    }
  });

  it('once its first epoch has run, a phase creates no buffer: steps and evaluations reuse what the first placed', async () => {
    const model = makeModel();
    const createdAfterEpoch: number[] = [];
    const threeEpochs: PhaseConfig[] = [{ ...phases[0]!, epochs: 3 }];
    await new Trainer(ctx, model, taskData(ctx, task, 4, 7), { seed: 7 }, {
      onEpoch: async () => void createdAfterEpoch.push(ctx.pool.stats.created),
    }).run(threeEpochs);
    model.dispose();
    expect(createdAfterEpoch).toHaveLength(3);
    expect(createdAfterEpoch[2]).toBe(createdAfterEpoch[1]);
  });
});

function makeModelParameterCount(): number {
  const m = makeModel();
  const n = m.parameters().length;
  m.dispose();
  return n;
}

describe('Trainer.evaluate', () => {
  it('counts each class\'s predictions when asked: a row per true class, the diagonal the accuracy', async () => {
    const model = makeModel();
    const data = taskData(ctx, task, 4, 7);
    const trainer = new Trainer(ctx, model, data, { seed: 7 });
    try {
      const plain = await trainer.evaluate(data.validation);
      expect(plain.confusion).toBeUndefined();
      const result = await trainer.evaluate(data.validation, data.evalTransform, { confusion: true });
      expect([result.loss, result.accuracy, result.samples]).toEqual([plain.loss, plain.accuracy, plain.samples]);
      const counts = result.confusion!;
      expect(counts).toHaveLength(task.classes.length);
      const perClass = task.classes.map((_, c) => task.validation.filter((image) => image.label === c).length);
      expect(counts.map((row) => row.reduce((a, b) => a + b, 0))).toEqual(perClass);
      expect(counts.reduce((sum, row, i) => sum + row[i]!, 0)).toBe(Math.round(result.accuracy * result.samples));
    } finally {
      model.dispose();
    }
  });
});

describe('Trainer with tuneKernels', () => {
  it('times the tiles of the model\'s GPU convolutions first, then trains to the same bits as without', async () => {
    // GPU kernels forced (a CPU adapter runs the blocked convolution, which has no tile), and
    // layers wide enough for the tiled one: 32 channels.
    const run = async (tuneKernels: boolean) => {
      const gpu = await GpuContext.create(await createNodeGpu(), { kernelTarget: 'gpu' });
      try {
        const model = smallVgg({ widths: [32, 32], hidden: 16, numClasses: 4, seed: 3, ctx: gpu });
        let tuned: TunedLayer[] | null = null;
        const history = await new Trainer(gpu, model, taskData(gpu, task, 4, 7), { seed: 7, tuneKernels }, { onTuned: (layers) => void (tuned = layers) }).run(phases.slice(0, 1));
        return { history, weights: await weightsOf(model), tuned: tuned as TunedLayer[] | null };
      } finally {
        gpu.destroy();
      }
    };
    const plain = await run(false);
    const tuned = await run(true);
    expect(plain.tuned).toBeNull();
    const forward = tuned.tuned!.filter((l) => l.role === 'forward').map((l) => l.layer);
    expect(forward).toEqual(expect.arrayContaining(['4x3x32x32 -> 32, 3x3', '4x32x32x32 -> 32, 3x3']));
    for (const layer of tuned.tuned!) expect(layer.timings.length).toBeGreaterThan(1);
    expect(tuned.history.map((r) => [r.trainLoss, r.valLoss, r.valAccuracy])).toEqual(plain.history.map((r) => [r.trainLoss, r.valLoss, r.valAccuracy]));
    tuned.weights.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from(plain.weights[i]!.buffer))).toBe(true));
  });
});
