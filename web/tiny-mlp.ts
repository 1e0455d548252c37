// The demo's model and its training run: a two-layer perceptron (linear, relu, linear) learning
// which points lie inside a circle, trained with plain SGD. It is written with the engine's ops
// only, so that the same run is a check in Node and in the browser (test/shared/training.ts)
// and the live loss curve on the demo page. Parameter names follow PyTorch (`fc1.weight`).
import {
  backward,
  keep,
  linear,
  logSoftmax,
  mul,
  neg,
  noGrad,
  zeroGrad,
  randn,
  relu,
  scale,
  sum,
  tensor,
  tidy,
  zeros,
  type Tensor,
} from '../src/index.js';
import { runBinary, runUnary } from '../src/kernels/elementwise.js';

export interface TinyMlpShape {
  inputs: number;
  hidden: number;
  classes: number;
}

export class TinyMlp {
  private readonly params = new Map<string, Tensor>();

  constructor(
    readonly shape: TinyMlpShape = { inputs: 2, hidden: 16, classes: 2 },
    seed = 1,
  ) {
    const { inputs, hidden, classes } = shape;
    // He initialisation for the relu layer, a smaller one for the output layer.
    this.set('fc1.weight', randn([hidden, inputs], seed, { std: Math.sqrt(2 / inputs) }));
    this.set('fc1.bias', zeros([hidden]));
    this.set('fc2.weight', randn([classes, hidden], seed + 1, { std: Math.sqrt(1 / hidden) }));
    this.set('fc2.bias', zeros([classes]));
  }

  /** Name and tensor of every parameter, in PyTorch's `named_parameters()` order. */
  namedParameters(): [string, Tensor][] {
    return [...this.params];
  }

  parameter(name: string): Tensor {
    const p = this.params.get(name);
    if (!p) throw new Error(`TinyMlp has no parameter '${name}'`);
    return p;
  }

  /** Makes `value` the parameter `name` (replacing the tensor), keeping its trainable state. */
  set(name: string, value: Tensor): void {
    const previous = this.params.get(name);
    value.name = name;
    value.requiresGrad = previous?.requiresGrad ?? true;
    previous?.grad?.dispose();
    previous?.dispose();
    this.params.set(name, keep(value));
  }

  forward(x: Tensor): Tensor {
    const hidden = relu(linear(x, this.parameter('fc1.weight'), this.parameter('fc1.bias')));
    return linear(hidden, this.parameter('fc2.weight'), this.parameter('fc2.bias'));
  }

  dispose(): void {
    for (const p of this.params.values()) {
      p.grad?.dispose();
      p.dispose();
    }
    this.params.clear();
  }
}

/** Mean cross-entropy of `logits` [N, C] against one-hot targets [N, C]. */
export function crossEntropy(logits: Tensor, oneHot: Tensor): Tensor {
  const rows = logits.shape[0]!;
  return neg(scale(sum(mul(logSoftmax(logits), oneHot)), 1 / rows));
}

/**
 * p ← p − lr·∇p in place for every parameter that requires a gradient; frozen ones are left
 * alone. In place, so a parameter keeps its identity (the layers panel holds on to it).
 */
export function sgdStep(model: TinyMlp, lr: number): void {
  for (const [, p] of model.namedParameters()) {
    if (!p.requiresGrad || !p.grad) continue;
    const updated = runBinary('add_scaled', p, p.grad, p.shape, -lr);
    // Copied back by a second kernel: one dispatch may not read and write the same buffer.
    runUnary('scale', updated, 1, p);
    updated.dispose();
    zeroGrad([p]);
  }
}

export interface CircleTask {
  /** [n, 2] points in [-1, 1)². */
  points: Float32Array;
  /** [n, 2] one-hot: class 1 inside the circle of radius 0.6, class 0 outside. */
  oneHot: Float32Array;
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
  const oneHot = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const x = 2 * next() - 1;
    const y = 2 * next() - 1;
    points.set([x, y], 2 * i);
    labels[i] = x * x + y * y < 0.36 ? 1 : 0;
    oneHot[2 * i + labels[i]!] = 1;
  }
  return { points, oneHot, labels };
}

export interface TrainOptions {
  steps: number;
  lr: number;
  samples: number;
  seed: number;
  /** Called after each step with its loss (read back from the GPU: one sync per step). */
  onStep?: (step: number, loss: number) => void | Promise<void>;
}

export const DEFAULT_TRAINING: TrainOptions = { steps: 60, lr: 1, samples: 128, seed: 7 };

export interface TrainResult {
  losses: number[];
  /** Fraction of the training points classified correctly after the last step. */
  accuracy: number;
}

/** One full-batch SGD step on inputs `x` [N, 2] and one-hot targets `y` [N, 2]; returns the loss. */
export async function trainStep(model: TinyMlp, x: Tensor, y: Tensor, lr: number): Promise<number> {
  // Backward inside the scope: the scope then frees the activations once their use is over.
  const loss = tidy(() => {
    const l = crossEntropy(model.forward(x), y);
    backward(l);
    return l;
  });
  const value = await loss.item();
  loss.dispose();
  sgdStep(model, lr);
  return value;
}

/** The circle task's points and targets on the GPU. */
export function circleTensors(task: CircleTask): { x: Tensor; y: Tensor } {
  const n = task.labels.length;
  return { x: tensor(task.points, [n, 2]), y: tensor(task.oneHot, [n, 2]) };
}

/** Full-batch SGD on the circle task; the caller owns (and disposes) the model. */
export async function trainTinyMlp(model: TinyMlp, options: TrainOptions = DEFAULT_TRAINING): Promise<TrainResult> {
  const task = circleTask(options.samples, options.seed);
  const { x, y } = circleTensors(task);
  const losses: number[] = [];
  try {
    for (let step = 0; step < options.steps; step++) {
      const value = await trainStep(model, x, y, options.lr);
      losses.push(value);
      await options.onStep?.(step, value);
    }
    return { losses, accuracy: await accuracy(model, x, task.labels) };
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Fraction of the points whose larger logit is their label. */
export async function accuracy(model: TinyMlp, x: Tensor, labels: Int32Array): Promise<number> {
  const logits = tidy(() => noGrad(() => model.forward(x)));
  const values = await logits.read();
  logits.dispose();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if ((values[2 * i + 1]! > values[2 * i]! ? 1 : 0) === labels[i]) correct++;
  return correct / labels.length;
}
