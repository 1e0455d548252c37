// The shared checks' smallest model and training run: a two-layer perceptron (fc1, relu, fc2)
// learning which points lie inside a circle, trained with plain SGD. It is built from the
// engine's own modules, loss and optimizer, so the same run is a check in Node and in the browser
// (training.ts, weights.ts) in well under a second on a software adapter.
import { accuracy as countCorrect, backward, crossEntropy, noGrad, relu, tensor, tidy, type Tensor } from '../../src/index.js';
import { withSeed } from '../../src/nn/init.js';
import { Linear } from '../../src/nn/linear.js';
import { Module } from '../../src/nn/module.js';
import { SGD } from '../../src/optim/index.js';

export interface TinyMlpShape {
  inputs: number;
  hidden: number;
  classes: number;
}

/** fc1 → relu → fc2, parameters named as PyTorch names them (`fc1.weight`, ...). */
export class TinyMlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(shape: TinyMlpShape = { inputs: 2, hidden: 16, classes: 2 }, seed = 1) {
    super();
    [this.fc1, this.fc2] = withSeed(seed, () => [
      this.addModule('fc1', new Linear(shape.inputs, shape.hidden)),
      this.addModule('fc2', new Linear(shape.hidden, shape.classes)),
    ]);
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(relu(this.fc1.forward(x)));
  }
}

export interface CircleTask {
  /** [n, 2] points in [-1, 1)². */
  points: Float32Array;
  /** 1 inside the circle of radius 0.6, 0 outside. */
  labels: Int32Array;
}

/** A task no linear model separates but one hidden layer does; seeded, so every run is the same. */
export function circleTask(n: number, seed: number): CircleTask {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const points = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = 2 * next() - 1;
    const y = 2 * next() - 1;
    points.set([x, y], 2 * i);
    labels[i] = x * x + y * y < 0.36 ? 1 : 0;
  }
  return { points, labels };
}

/** The task on the GPU: points [n, 2] and int32 labels [n]. */
export function circleTensors(task: CircleTask): { x: Tensor; labels: Tensor } {
  const n = task.labels.length;
  return { x: tensor(task.points, [n, 2]), labels: tensor(task.labels, [n], { dtype: 'int32' }) };
}

export interface TrainOptions {
  steps: number;
  lr: number;
  samples: number;
  seed: number;
}

export const DEFAULT_TRAINING: TrainOptions = { steps: 60, lr: 2, samples: 128, seed: 7 };

/** One full-batch step: loss, backward, SGD update. Returns the loss (one readback per step). */
export async function trainStep(model: TinyMlp, optimizer: SGD, x: Tensor, labels: Tensor): Promise<number> {
  // Backward inside the scope: the scope then frees the activations once their use is over.
  const loss = tidy(() => {
    const l = crossEntropy(model.forward(x), labels);
    backward(l);
    return l;
  });
  optimizer.step();
  optimizer.zeroGrad();
  const value = await loss.item();
  loss.dispose();
  return value;
}

/** Fraction of the points whose larger logit is their label. */
export async function accuracy(model: TinyMlp, x: Tensor, labels: Tensor): Promise<number> {
  const correct = tidy(() => noGrad(() => countCorrect(model.forward(x), labels)));
  const count = await correct.item();
  correct.dispose();
  return count / labels.size;
}

export interface TrainResult {
  losses: number[];
  /** After the last step, on the training points. */
  accuracy: number;
}

/** Full-batch SGD on the circle task; only parameters that require a gradient move. */
export async function trainTinyMlp(model: TinyMlp, options: TrainOptions = DEFAULT_TRAINING): Promise<TrainResult> {
  const { x, labels } = circleTensors(circleTask(options.samples, options.seed));
  const optimizer = new SGD(model.parameters(), { lr: options.lr });
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step++) losses.push(await trainStep(model, optimizer, x, labels));
    return { losses, accuracy: await accuracy(model, x, labels) };
  } finally {
    x.dispose();
    labels.dispose();
  }
}
