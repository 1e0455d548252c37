// Training steps side by side: our engine and tfjs-backend-webgpu running the same architecture
// on the same adapter, in one process, with samples interleaved so that both see the same machine
// load. A step is forward, softmax cross-entropy, backward and an SGD-momentum update (lr 0.01,
// momentum 0.9) on a fixed random batch already on the GPU; each sample ends when the GPU is idle.
//
// Also here: the step invariants (submits, buffers created, readbacks per step) and the expected
// memory of a step (parameters + gradients + optimizer state + saved activations).
import type * as TF from '@tensorflow/tfjs';
import { Tensor } from '../src/autograd/tensor.js';
import { randn } from '../src/ops/creation.js';
import { VGG, vggFeatures, smallVgg, vgg16, VGG16_CONFIG, type VggConfig } from '../src/models/vgg.js';
import { freeze, freezeAllButHead } from '../src/models/freeze.js';
import { Linear } from '../src/nn/linear.js';
import { ReLU } from '../src/nn/activation.js';
import { Sequential } from '../src/nn/sequential.js';
import { withSeed } from '../src/nn/init.js';
import { SGD } from '../src/optim/sgd.js';
import type { GpuContext } from '../src/runtime/context.js';
import { trainStep, type TrainStepParts } from '../src/train/profile.js';
import { describeTuning } from '../src/kernels/conv2d-tuning.js';
import { tuneModelKernels } from '../src/train/tune-kernels.js';
import { buildModel, randomArray, trimTfjsBufferPool, type TfjsPeer, type TrainModel } from './peers/tfjs.js';

/**
 * smallvgg: the demo's small VGG (conv 32,32 / 64,64 / 128,128, 2x2 max-pools, dense 256, dense N).
 * vgg16: torchvision's VGG16 features, then the classifier on the flattened 512x(size/32)^2 map,
 *   no dropout: the peers' model (bench/peers/tfjs.ts, torch_cpu.py). At 224 it is torchvision's
 *   VGG16 bar dropout; at 64 its first linear layer takes 2048 inputs, not 25088.
 * vgg16-torchvision: torchvision's VGG16 exactly (adaptive average pool to 7x7, so 25088 inputs
 *   at any size, dropout 0.5): ours only, for the memory check and the recipe's transfer step.
 */
export type StepModel = TrainModel | 'vgg16-torchvision';

export interface StepSpec {
  model: StepModel;
  batch: number;
  size: number;
  classes: number;
  /** The convolutional base frozen, every linear layer trains (as the peers' frozen step). */
  frozenBase: boolean;
  /**
   * With frozenBase: everything but the head (the last linear layer) frozen, as `train`'s transfer
   * phase freezes it (freezeAllButHead). Ours only: the peers' frozen step trains every linear layer.
   */
  headOnly?: boolean;
}

export const stepName = (s: StepSpec): string => `train.${s.model}.${s.frozenBase ? (s.headOnly ? 'headOnly' : 'frozenBase') : 'full'}`;
/** Whether tfjs has this step: not torchvision's VGG16 (adaptive pooling), not the head-only one. */
export const peerHasStep = (s: StepSpec): s is StepSpec & { model: TrainModel } => s.model !== 'vgg16-torchvision' && !s.headOnly;

export const stepShape = (s: StepSpec): string => `${s.batch}x3x${s.size}x${s.size}, ${s.classes} classes`;

const SMALL_VGG_CONFIG: VggConfig = [32, 32, 'M', 64, 64, 'M', 128, 128, 'M'];

function configOf(model: StepModel): { features: VggConfig; hidden: number[]; dropout: boolean; pooled: number | null } {
  if (model === 'smallvgg') return { features: SMALL_VGG_CONFIG, hidden: [256], dropout: false, pooled: null };
  return { features: VGG16_CONFIG, hidden: [4096, 4096], dropout: model === 'vgg16-torchvision', pooled: model === 'vgg16-torchvision' ? 7 : null };
}

export function ourModel(spec: StepSpec, ctx: GpuContext): VGG {
  if (spec.model === 'smallvgg') return smallVgg({ numClasses: spec.classes, seed: 1, ctx });
  if (spec.model === 'vgg16-torchvision') return vgg16({ numClasses: spec.classes, seed: 1, ctx });
  const side = spec.size / 32;
  return withSeed(1, () => {
    const classifier = new Sequential(
      new Linear(512 * side * side, 4096, { ctx }),
      new ReLU(),
      new Linear(4096, 4096, { ctx }),
      new ReLU(),
      new Linear(4096, spec.classes, { ctx }),
    );
    return new VGG(vggFeatures(VGG16_CONFIG, false, ctx), side, classifier);
  });
}

/** What one side of the comparison runs: a step (ending with the GPU idle), and what it measured. */
export interface StepRunner {
  step(): Promise<void>;
  /** After the timed steps: memory and invariants. */
  finish(): StepExtras;
  dispose(): Promise<void>;
}

export interface StepInvariants {
  submitsPerStep: number;
  buffersCreatedPerStep: number;
  bindGroupsCreatedPerStep: number;
  readbacksPerStep: number;
  dispatchesPerStep: number;
}

export interface StepExtras {
  /** Highest GPU memory the step's buffer pool held (our pool, or tfjs's), bytes. */
  peakBytes: number;
  invariants?: StepInvariants;
  notes?: string;
  /** The convolution tiles measured per layer before the steps (--tune-kernels), one line each. */
  tuned?: string[];
}

/** `tuneKernels`: time the convolution tiles on the model's layers first (kernels/conv2d-tuning.ts), untimed. */
export async function ourStepRunner(ctx: GpuContext, spec: StepSpec, tuneKernels = false): Promise<StepRunner> {
  await ctx.recorder.sync();
  ctx.pool.trim();
  const base = ctx.pool.stats.bytesAllocated;
  ctx.pool.stats.peakBytesAllocated = base; // this step's peak, not an earlier benchmark's
  const { parts, release } = ourStepParts(ctx, spec);
  const { model, images } = parts;
  let tuned: string[] | undefined;
  if (tuneKernels) {
    tuned = describeTuning(await tuneModelKernels(model, images));
    ctx.pool.stats.peakBytesAllocated = ctx.pool.stats.bytesAllocated; // the timed layers' operands are not the step's
  }
  const stats = ctx.recorder.stats;
  let steps = 0;
  let start: { submits: number; readbacks: number; created: number; bindGroups: number; dispatches: number } | null = null;
  return {
    async step() {
      trainStep(parts);
      await ctx.recorder.sync();
      // Count from the third step: the first two compile pipelines, create optimizer state and fill the pool.
      if (++steps === 2) start = { submits: stats.submits, readbacks: stats.readbacks, created: ctx.pool.stats.created, bindGroups: ctx.recorder.bindGroups.misses, dispatches: stats.dispatches };
    },
    finish() {
      const counted = steps - 2;
      const per = (now: number, then: number | undefined) => (counted > 0 && then !== undefined ? (now - then) / counted : NaN);
      const trainable = model.parameters().filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0);
      return {
        peakBytes: ctx.pool.stats.peakBytesAllocated - base,
        invariants: {
          submitsPerStep: per(stats.submits, start?.submits),
          buffersCreatedPerStep: per(ctx.pool.stats.created, start?.created),
          bindGroupsCreatedPerStep: per(ctx.recorder.bindGroups.misses, start?.bindGroups),
          readbacksPerStep: per(stats.readbacks, start?.readbacks),
          dispatchesPerStep: per(stats.dispatches, start?.dispatches),
        },
        notes: `params ${model.parameters().reduce((s, p) => s + p.size, 0)}, trainable ${trainable}`,
        tuned,
      };
    },
    dispose: release,
  };
}

/**
 * Our side of a step: the model (its base frozen as the spec says), SGD with momentum, and a fixed
 * batch on the GPU, as `trainStep` and `profileTrainStep` take them. `release` frees them all and
 * trims the pool once the GPU is done, so that the next benchmark starts from an empty pool.
 */
export function ourStepParts(ctx: GpuContext, spec: StepSpec): { parts: TrainStepParts & { model: VGG; optimizer: SGD }; release(): Promise<void> } {
  const model = ourModel(spec, ctx).train();
  if (spec.frozenBase && spec.headOnly) freezeAllButHead(model);
  else if (spec.frozenBase) freeze(model, 'features');
  const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = randn([spec.batch, 3, spec.size, spec.size], 21, { ctx, name: 'images' });
  const labels = Tensor.fromData(ctx, Array.from({ length: spec.batch }, (_, i) => i % spec.classes), [spec.batch], 'int32', 'labels');
  return {
    parts: { ctx, model, optimizer, images, labels },
    async release() {
      optimizer.dispose();
      model.dispose();
      images.dispose();
      labels.dispose();
      await ctx.recorder.sync();
      ctx.pool.trim();
    },
  };
}

/** tfjs-layers' trainOnBatch on the peer's model (bench/peers/tfjs.ts buildModel), as its benchTrainStep does. */
export async function tfjsStepRunner(peer: TfjsPeer, spec: StepSpec): Promise<StepRunner> {
  if (!peerHasStep(spec)) throw new Error(`tfjs peer: no ${stepName(spec)} (adaptive pooling, or a head-only step)`);
  const { tf } = peer;
  await peer.sync();
  trimTfjsBufferPool(peer);
  const model = buildModel(tf, { ...spec, model: spec.model });
  const optimizer = tf.train.momentum(0.01, 0.9);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(randomArray(spec.batch * spec.size * spec.size * 3, 21), [spec.batch, spec.size, spec.size, 3]);
  const labels = tf.tensor1d(Array.from({ length: spec.batch }, (_, i) => i % spec.classes), 'int32');
  const y = tf.oneHot(labels, spec.classes).toFloat();
  labels.dispose();
  let first = true;
  const errorsBefore = peer.uncapturedErrors.length;
  return {
    async step() {
      // The first step runs inside error scopes: tfjs does not check, and an over-limit binding yields garbage.
      if (first) {
        peer.device.pushErrorScope('validation');
        peer.device.pushErrorScope('out-of-memory');
      }
      const loss = await model.trainOnBatch(x, y); // reads the loss back: tfjs's step includes that readback
      await peer.sync();
      if (first) {
        first = false;
        const errors = [await peer.device.popErrorScope(), await peer.device.popErrorScope()].filter(Boolean);
        if (errors.length) throw new Error(`tfjs step: WebGPU error: ${errors[0]!.message.split('\n')[0]}`);
      }
      const value = Array.isArray(loss) ? loss[0]! : loss;
      if (!Number.isFinite(value)) throw new Error(`tfjs step: loss is ${value}`);
      if (peer.uncapturedErrors.length > errorsBefore) throw new Error(`tfjs step: ${peer.uncapturedErrors[errorsBefore]}`);
    },
    finish() {
      const memory = tf.memory() as TF.MemoryInfo & { numBytesAllocatedInGPU?: number };
      return { peakBytes: memory.numBytesAllocatedInGPU ?? NaN, notes: `params ${model.countParams()}` };
    },
    async dispose() {
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      await peer.sync();
      trimTfjsBufferPool(peer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Expected memory of a step

export interface MemoryModel {
  params: number;
  trainable: number;
  /** Bytes, fp32. */
  parameters: number;
  gradients: number;
  optimizerState: number;
  /** What backward keeps from forward, as this engine's rules save it (see ops/). */
  savedActivations: number;
  /** The same if ReLU saved its input, as it did before (for comparison: that doubled it at 224x224). */
  savedActivationsReluInput: number;
  /** Images, labels. */
  batch: number;
  /** parameters + gradients + optimizer state + saved activations + batch. */
  expected: number;
  /**
   * Not in `expected`: what is live besides it at a layer, at least the largest activation twice
   * (a layer's input and output in forward, its gradient in and out in backward).
   */
  workingSet: number;
}

/**
 * Walks the architecture: a layer saves its input only if its weight trains (conv, linear), a
 * ReLU its output and a max-pool its int32 indices only if gradient flows through them, and
 * nothing is saved below the first trainable layer (the engine's rules: autograd/graph.ts,
 * ops/elementwise.ts). A tensor two layers save (a ReLU's output that is the next conv's input)
 * is one buffer, counted once; the images the first convolution saves are the batch, counted
 * there. train/saved-by-layer.ts measures the same from the graph, and a test holds the two equal.
 */
export function expectedMemory(spec: StepSpec): MemoryModel {
  const { features, hidden, pooled, dropout } = configOf(spec.model);
  const n = spec.batch;
  let [c, s] = [3, spec.size];
  let params = 0;
  let trainable = 0;
  let saved = 0;
  let reluSavingInput = 0; // the same under the old rule: ReLU saved its input, a separate buffer
  // Is the activation at this point held already: the images (the batch, counted apart), then a ReLU's output?
  let inputSaved = true;
  let largest = n * c * s * s * 4;
  let flowing = false; // does the activation at this point require a gradient?
  const baseTrains = !spec.frozenBase;
  for (const item of features) {
    if (item === 'M') {
      s = Math.floor(s / 2);
      if (flowing) {
        saved += n * c * s * s * 4; // indices
        reluSavingInput += n * c * s * s * 4;
      }
      inputSaved = false;
      continue;
    }
    const weights = c * item * 9 + item;
    params += weights;
    if (baseTrains) {
      trainable += weights;
      if (!inputSaved) saved += n * c * s * s * 4; // conv input, for the weight gradient
      reluSavingInput += n * c * s * s * 4;
    }
    flowing ||= baseTrains;
    c = item;
    largest = Math.max(largest, n * c * s * s * 4);
    if (flowing) {
      saved += n * c * s * s * 4; // ReLU output
      reluSavingInput += n * c * s * s * 4;
    }
    inputSaved = flowing;
  }
  let f = c * (pooled ?? s) * (pooled ?? s);
  let linearInputSaved = false; // the ReLU's output, when no dropout stands between
  const outs = [...hidden, spec.classes];
  outs.forEach((out, i) => {
    const head = i === outs.length - 1;
    params += f * out + out;
    if (head || !spec.headOnly) {
      trainable += f * out + out;
      if (!linearInputSaved) saved += n * f * 4; // linear input
      reluSavingInput += n * f * 4;
    }
    if (!head && !spec.headOnly) {
      saved += n * out * 4; // ReLU output
      reluSavingInput += n * out * 4;
    }
    linearInputSaved = !head && !spec.headOnly && !dropout;
    f = out;
  });
  saved += n * spec.classes * 4; // softmax, for the loss gradient
  reluSavingInput += n * spec.classes * 4;
  const batch = n * 3 * spec.size * spec.size * 4 + n * 4;
  const m = {
    params,
    trainable,
    parameters: params * 4,
    gradients: trainable * 4,
    optimizerState: trainable * 4,
    savedActivations: saved,
    savedActivationsReluInput: reluSavingInput,
    batch,
  };
  return { ...m, expected: m.parameters + m.gradients + m.optimizerState + m.savedActivations + m.batch, workingSet: 2 * largest };
}
