/**
 * The demo's comparison, on the few-label target task, of the four ways to start:
 *
 *   scratch            random weights, everything trains,
 *   transfer           pretrained base frozen, a new head trains (phase 1 of the recipe),
 *   transfer+finetune  phase 1, then everything trains at a tenth of the rate (the recipe),
 *   unfreeze-at-once   pretrained base and a new random head, everything trains from the start.
 *
 * Every method trains for the same number of epochs; each keeps the weights of its best
 * validation epoch and is scored once on the held-out test set. The claims of the method are
 * then checked against the numbers, whatever they are.
 */
import type { GpuContext } from '../runtime/context.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../autograd/tensor.js';
import { DEMO_VGG, smallVgg } from '../models/vgg.js';
import { loadWeights } from '../models/load-weights.js';
import type { WeightFile } from '../models/formats/weight-file.js';
import { Trainer, type EpochRecord, type StepInfo, type StepWatcher } from '../train/trainer.js';
import type { PhaseConfig } from '../train/plan.js';
import type { StateValue } from '../nn/state-dict.js';
import { memoryBatches } from './memory-source.js';
import { targetTask, taskData, type TaskSplit } from './tasks.js';

export const DEMO_MODEL = DEMO_VGG;

export type MethodName = 'scratch' | 'transfer' | 'transfer+finetune' | 'unfreeze-at-once';

export interface DemoConfig {
  seeds: number[];
  /** Labelled training images per target class. */
  labelled: number;
  validationPerClass: number;
  testPerClass: number;
  /** Epochs of phase 1; phase 2 of the recipe adds `finetuneEpochs`; the others train for the sum. */
  headEpochs: number;
  finetuneEpochs: number;
  batchSize: number;
  lr: number;
}

export const DEMO_CONFIG: DemoConfig = {
  seeds: [1, 2, 3],
  labelled: 10,
  validationPerClass: 10,
  testPerClass: 50,
  headEpochs: 6,
  finetuneEpochs: 6,
  batchSize: 8,
  lr: 0.01,
};

export interface MethodResult {
  method: MethodName;
  seed: number;
  testAccuracy: number;
  bestValAccuracy: number;
  history: EpochRecord[];
  seconds: number;
}

export const METHODS: MethodName[] = ['scratch', 'transfer', 'transfer+finetune', 'unfreeze-at-once'];

/** The phases a method trains in: which parameters train, at which rate, for how many epochs. */
export function phasesOf(method: MethodName, c: DemoConfig): PhaseConfig[] {
  const base = { optimizer: 'sgd' as const, momentum: 0.9, weightDecay: 5e-4, scheduler: { kind: 'none' as const } };
  const total = c.headEpochs + c.finetuneEpochs;
  switch (method) {
    case 'scratch':
      return [{ ...base, name: 'scratch', epochs: total, lr: c.lr, trainable: { kind: 'all' } }];
    case 'transfer':
      return [{ ...base, name: 'transfer', epochs: total, lr: c.lr, trainable: { kind: 'head' } }];
    case 'transfer+finetune':
      return [
        { ...base, name: 'transfer', epochs: c.headEpochs, lr: c.lr, trainable: { kind: 'head' } },
        { ...base, name: 'finetune', epochs: c.finetuneEpochs, lr: c.lr / 10, trainable: { kind: 'all' } },
      ];
    case 'unfreeze-at-once':
      return [{ ...base, name: 'unfreeze-at-once', epochs: total, lr: c.lr, trainable: { kind: 'all' } }];
  }
}

export interface RunMethodOptions {
  ctx: GpuContext;
  method: MethodName;
  seed: number;
  config: DemoConfig;
  pretrained: WeightFile;
  /** The images to train and score on (default: the demo's target task, its labelled images drawn by `seed`). */
  task?: TaskSplit;
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** A phase begins, its parameters frozen or trainable as it says (the trainer's `onPhase`). */
  onPhase?: (phase: PhaseConfig, index: number) => void | Promise<void>;
  onStep?: (info: StepInfo) => void;
  /**
   * Lets a caller see the model before training starts, its pretrained weights loaded; a watcher
   * it returns watches every step (the gradient-flow monitor).
   */
  onModel?: (model: Module) => StepWatcher | void | Promise<StepWatcher | void>;
  /**
   * Aborted: the run stops after the training step it is in, or before the next epoch if aborted
   * between epochs (the trainer's `shouldStop`), and runMethod throws the trainer's `StoppedError`,
   * its model, optimiser and best weights freed. Aborted after the last step, it has nothing left
   * to stop: the run is scored.
   */
  stop?: AbortSignal;
}

export async function runMethod(o: RunMethodOptions): Promise<MethodResult> {
  const started = performance.now();
  const { ctx, config, seed } = o;
  const task = o.task ?? targetTask(config.labelled, config.validationPerClass, config.testPerClass, seed);
  const model = smallVgg({ ...DEMO_MODEL, numClasses: task.classes.length, seed, ctx });
  const data = taskData(ctx, task, config.batchSize, seed);
  let best: Map<string, StateValue> | null = null;
  let history: EpochRecord[];
  let test: { accuracy: number };
  try { // a failed run (the page offers another) releases its GPU memory too
    if (o.method !== 'scratch') await loadWeights(model, o.pretrained, { head: 'skip' });
    const watch = (await o.onModel?.(model)) ?? undefined;
    const trainer = new Trainer(ctx, model, data, { seed }, {
      watch,
      onPhase: o.onPhase,
      onStep: o.onStep,
      onEpoch: o.onEpoch,
      shouldStop: () => o.stop?.aborted ?? false,
      onBest: async () => {
        disposeSnapshot(best);
        best = await snapshot(model);
      },
    });
    history = await trainer.run(phasesOf(o.method, config));
    if (best) model.loadStateDict(best, { strict: true });
    test = await trainer.evaluate(memoryBatches(task.test, { batchSize: 64, seed, shuffle: false }));
  } finally {
    disposeSnapshot(best);
    model.dispose();
    data.trainTransform.dispose();
    data.evalTransform.dispose();
  }
  return {
    method: o.method,
    seed,
    testAccuracy: test.accuracy,
    bestValAccuracy: Math.max(...history.map((h) => h.valAccuracy)),
    history,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A copy of the model's state on the GPU (the demo's models are small). */
async function snapshot(model: Module): Promise<Map<string, StateValue>> {
  const copy = new Map<string, StateValue>();
  for (const [key, value] of model.stateDict()) {
    copy.set(key, value instanceof Tensor ? Tensor.fromData(value.ctx, await value.read(), value.shape, 'float32', key) : value);
  }
  return copy;
}

function disposeSnapshot(state: Map<string, StateValue> | null): void {
  for (const value of state?.values() ?? []) if (value instanceof Tensor) value.dispose();
}
