// The demo page's training run: the Node demo's own `runMethod` (src/demo/experiments.ts) on the
// demo's target task or on the user's images, watched through its hooks and stopped on request
// through its stop signal. At each phase's start and end every parameter is read back from the
// GPU, so the page can show (and the browser test can check) that a frozen parameter did not move
// by a single bit while the head did. The run is paced to the GPU step by step (`pacedToGpu`), so
// the page gets a turn, to repaint its progress and see a Stop click, after every step.
// Also: one training step of each phase, kernel by kernel (src/train/profile.ts).
import type { GpuContext } from '../src/index.js';
import { Tensor } from '../src/autograd/tensor.js';
import { DEMO_MODEL, phasesOf, runMethod, type DemoConfig, type MethodName, type MethodResult } from '../src/demo/experiments.js';
import { taskData, type TaskSplit } from '../src/demo/tasks.js';
import { labelsOf } from '../src/data/pack-batch.js';
import { freezeAllButHead, unfreeze } from '../src/models/freeze.js';
import type { WeightFile } from '../src/models/formats/weight-file.js';
import { loadWeights } from '../src/models/load-weights.js';
import { smallVgg } from '../src/models/vgg.js';
import type { Module } from '../src/nn/module.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { profileTrainStep, type StepProfile } from '../src/train/profile.js';
import type { PhaseConfig } from '../src/train/plan.js';
import { StoppedError, type EpochRecord, type StepInfo, type StepWatcher } from '../src/train/trainer.js';

/** What one phase of a run did to the parameters. */
export interface PhaseRecord {
  name: string;
  lr: number;
  epochs: number;
  /** Parameter names, as the phase set them. */
  trainable: string[];
  frozen: string[];
  /** Each parameter's largest |change| over the phase, read back when its last epoch ended (null until then). */
  changes: Record<string, number> | null;
}

export interface TransferRun {
  /** 'demo': the demo's drawn target task; 'files': the user's images. */
  task: 'demo' | 'files';
  method: MethodName;
  classes: string[];
  trainImages: number;
  testImages: number;
  history: EpochRecord[];
  /** Per epoch: the training loss and the validation accuracy (history's, for quick reading). */
  losses: number[];
  accuracies: number[];
  phases: PhaseRecord[];
  /** The weight file the base was loaded from (scratch loads none). */
  pretrained: string;
  /** On the held-out images, with the best validation epoch's weights (null until the end). */
  testAccuracy: number | null;
  seconds: number | null;
  finished: boolean;
  /**
   * Stopped on request before its last step: no test score; its model, optimiser and best weights
   * are freed. A request that came after the last step leaves a finished run.
   */
  stopped: boolean;
}

export interface RunWatcher {
  /** A phase began; `model` is frozen as it says. */
  phase(run: TransferRun, model: Module): void;
  step(info: StepInfo): void;
  epoch(run: TransferRun): void;
}

export interface RunRequest {
  task: 'demo' | 'files';
  images: TaskSplit;
  method: MethodName;
  config: DemoConfig;
  pretrained: WeightFile;
  /** Aborted: the run stops after the step it is in, or before the next epoch (runMethod's `stop`). */
  stop?: AbortSignal;
}

export async function runTransfer(ctx: GpuContext, request: RunRequest, watcher: RunWatcher): Promise<TransferRun> {
  const { images, method, config } = request;
  const run: TransferRun = {
    task: request.task,
    method,
    classes: images.classes,
    trainImages: images.train.length,
    testImages: images.test.length,
    history: [],
    losses: [],
    accuracies: [],
    phases: [],
    pretrained: request.pretrained.name,
    testAccuracy: null,
    seconds: null,
    finished: false,
    stopped: false,
  };
  let model: Module | undefined;
  let atPhaseStart = new Map<string, Float32Array>();
  let result: MethodResult;
  try {
    result = await runMethod({
      ctx,
      method,
      seed: config.seeds[0]!,
      config,
      pretrained: request.pretrained,
      task: images,
      stop: request.stop,
      onModel: (m) => {
        model = m;
        return pacedToGpu(ctx.device);
      },
      onPhase: async (phase) => {
        const named = model!.namedParameters();
        run.phases.push({
          name: phase.name,
          lr: phase.lr,
          epochs: phase.epochs,
          trainable: named.filter(([, p]) => p.requiresGrad).map(([name]) => name),
          frozen: named.filter(([, p]) => !p.requiresGrad).map(([name]) => name),
          changes: null,
        });
        atPhaseStart = await readParameters(model!);
        watcher.phase(run, model!);
      },
      onStep: (info) => watcher.step(info),
      onEpoch: async (record) => {
        run.history.push(record);
        run.losses.push(record.trainLoss);
        run.accuracies.push(record.valAccuracy);
        const phase = run.phases.at(-1)!;
        if (record.epoch === phase.epochs) phase.changes = largestChanges(atPhaseStart, await readParameters(model!));
        watcher.epoch(run);
      },
    });
  } catch (error) {
    if (error instanceof StoppedError) return Object.assign(run, { stopped: true });
    throw error;
  }
  return Object.assign(run, { testAccuracy: result.testAccuracy, seconds: result.seconds, finished: true });
}

/**
 * Paces a run to the GPU: after submitting a step, waits for the GPU to finish the one before.
 * Unpaced, the trainer records an epoch's steps in a few milliseconds without a turn of the event
 * loop, and the GPU works through them while the page waits for the epoch's metrics: the progress
 * bar would be repainted, and a Stop click seen, only at the epoch's end. Paced, the page gets a
 * turn after every step but an epoch's first (the step before it finished during the validation),
 * and one step stays queued behind the one running, so the GPU never waits for the page.
 */
function pacedToGpu(device: GPUDevice): StepWatcher {
  let previousStepDone = Promise.resolve();
  return {
    beforeBackward: () => {},
    afterUpdate: () => {},
    afterStep: async () => {
      const stepDone = device.queue.onSubmittedWorkDone();
      await previousStepDone;
      previousStepDone = stepDone;
    },
  };
}

async function readParameters(model: Module): Promise<Map<string, Float32Array>> {
  const reads = model.namedParameters().map(async ([name, p]) => [name, (await p.read()) as Float32Array] as const);
  return new Map(await Promise.all(reads));
}

function largestChanges(before: Map<string, Float32Array>, after: Map<string, Float32Array>): Record<string, number> {
  const changes: Record<string, number> = {};
  for (const [name, values] of after) {
    const old = before.get(name)!;
    changes[name] = values.reduce((largest, v, i) => Math.max(largest, Math.abs(v - old[i]!)), 0);
  }
  return changes;
}

/**
 * One training step of the recipe's two phases, every kernel timed where the adapter has
 * `timestamp-query`: the head only (the pretrained base frozen), then everything. The frozen
 * step computes no gradient for the base at all; the table shows it kernel by kernel.
 */
export async function profileTransferSteps(ctx: GpuContext, pretrained: WeightFile, images: TaskSplit, config: DemoConfig): Promise<[StepProfile, StepProfile]> {
  const seed = config.seeds[0]!;
  const model = smallVgg({ ...DEMO_MODEL, numClasses: images.classes.length, seed, ctx });
  const data = taskData(ctx, images, config.batchSize, seed);
  const made: Tensor[] = []; // the batch the steps use, released whether they run or fail
  try {
    await loadWeights(model, pretrained, { head: 'skip' });
    const batch = (await data.train.epoch(0)[Symbol.asyncIterator]().next()).value!;
    const { images: x } = data.trainTransform.apply(batch, { seed, epoch: 0 });
    const y = Tensor.fromData(ctx, labelsOf(batch), [batch.size], 'int32', 'labels');
    made.push(x, y);
    const [head, all] = phasesOf('transfer+finetune', config) as [PhaseConfig, PhaseConfig];
    const profiles: StepProfile[] = [];
    for (const [phase, label] of [[head, 'head only (base frozen)'], [all, 'everything (fine-tune)']] as const) {
      if (phase.trainable.kind === 'head') freezeAllButHead(model);
      else unfreeze(model, (name) => name.length > 0);
      const optimizer = createOptimizer(model, phase);
      try {
        profiles.push(await profileTrainStep({ ctx, model, optimizer, images: x, labels: y }, { steps: 1, warmup: 2, label }));
      } finally {
        optimizer.dispose();
      }
    }
    return [profiles[0]!, profiles[1]!];
  } finally {
    for (const t of made) t.dispose();
    model.dispose();
    data.trainTransform.dispose();
    data.evalTransform.dispose();
  }
}
