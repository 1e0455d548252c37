/**
 * The demo's data: the source task for pretraining and the few-label target task, drawn
 * procedurally (shapes.ts) at a working size a little above the network's input, so that the GPU
 * augmentation crops as RandomResizedCrop does on real photos.
 */
import type { GpuContext } from '../runtime/context.js';
import { Augmenter } from '../data/augment/augmenter.js';
import type { TrainTransformOptions } from '../data/augment/options.js';
import type { TrainerData } from '../train/trainer.js';
import { drawTask, SOURCE_CLASSES, TARGET_CLASSES } from './shapes.js';
import { memoryBatches, type MemoryImage } from './memory-source.js';

/** Network input, and the drawn images' side (the crop's source). */
export const INPUT_SIZE = 32;
export const DRAWN_SIZE = 36;

/** Seeds of the two worlds: the target's images never share draws with the source's. */
const SOURCE_SEED = 1001;
const TARGET_SEED = 2002;

/** Labelled images in memory, split three ways: the drawn shapes here, or a user's decoded photos (the demo page). */
export interface TaskSplit {
  classes: string[];
  train: MemoryImage[];
  validation: MemoryImage[];
  test: MemoryImage[];
}

export function sourceTask(perClass: number, validationPerClass: number): TaskSplit {
  return {
    classes: SOURCE_CLASSES.map((c) => c.name),
    train: drawTask(SOURCE_CLASSES, { size: DRAWN_SIZE, perClass, seed: SOURCE_SEED, stream: 0 }),
    validation: drawTask(SOURCE_CLASSES, { size: DRAWN_SIZE, perClass: validationPerClass, seed: SOURCE_SEED, stream: 1 }),
    test: [],
  };
}

/**
 * The target task: `labelled` training images per class (the few labels), a small validation
 * set for choosing the best epoch, and a larger held-out test set that only the final report
 * sees. `draw` varies which labelled images a seed gets.
 */
export function targetTask(labelled: number, validationPerClass: number, testPerClass: number, draw: number): TaskSplit {
  return {
    classes: TARGET_CLASSES.map((c) => c.name),
    train: drawTask(TARGET_CLASSES, { size: DRAWN_SIZE, perClass: labelled, seed: TARGET_SEED, stream: 10 + draw }),
    validation: drawTask(TARGET_CLASSES, { size: DRAWN_SIZE, perClass: validationPerClass, seed: TARGET_SEED, stream: 1 }),
    test: drawTask(TARGET_CLASSES, { size: DRAWN_SIZE, perClass: testPerClass, seed: TARGET_SEED, stream: 2 }),
  };
}

/** The notebook's training transform at the demo's scale: RandomResizedCrop + horizontal flip. */
export const DEMO_TRAIN_TRANSFORM: TrainTransformOptions = { scale: [0.5, 1], horizontalFlip: 0.5 };

/** The demo's GPU transforms: `train` (default the demo's) to the network's input; Resize + CenterCrop for evaluation. */
export function demoTransforms(ctx: GpuContext, train: TrainTransformOptions = DEMO_TRAIN_TRANSFORM): Pick<TrainerData, 'trainTransform' | 'evalTransform'> {
  return {
    trainTransform: new Augmenter(ctx, { outputSize: INPUT_SIZE, train }),
    evalTransform: new Augmenter(ctx, { outputSize: INPUT_SIZE, resize: DRAWN_SIZE }),
  };
}

export function taskData(ctx: GpuContext, task: TaskSplit, batchSize: number, seed: number): TrainerData {
  return {
    classes: task.classes,
    train: memoryBatches(task.train, { batchSize, seed, shuffle: true }),
    validation: memoryBatches(task.validation, { batchSize: 64, seed, shuffle: false }),
    ...demoTransforms(ctx),
  };
}
