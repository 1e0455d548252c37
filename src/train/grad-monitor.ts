/**
 * The gradient-flow monitor: per layer and every N training steps, how large the gradient that
 * reached each parameter was, how far the optimiser moved it, and which backward kernels the
 * layer actually ran. Browser-safe; grad-monitor-node.ts writes the log and the PNG.
 *
 * On a sampled step (see `isSampled`), inside the step's own command buffer:
 *   - before backward, every trainable parameter is copied (to measure its update), and the
 *     backward rule of every graph node that takes a parameter is wrapped so that the kernels it
 *     dispatches are counted for that parameter's layer (ctx.recorder.stats.perKernel deltas);
 *   - after the optimiser's update, the squared norms Σg², Σ(p − p_before)², Σp² (and Σ(p − p_start)²
 *     and Σp_start² with `drift`) are computed on the GPU with the engine's own ops and copied into one small
 *     tensor, read back once after the step's submit.
 * Other steps cost nothing: no copy, no kernel, no readback.
 *
 * The dispatch counts are the evidence for "ran its weight-gradient / input-gradient kernels":
 * a layer missing from the graph ran nothing, because `record()` never attached a backward step
 * to it; a layer in the graph ran exactly the kernels counted while its rule ran.
 */
import { Tensor } from '../autograd/tensor.js';
import { keep, tidy } from '../autograd/scope.js';
import { noGrad, type BackwardRule, type GradNode } from '../autograd/graph.js';
import { mul, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Module } from '../nn/module.js';
import type { GpuContext } from '../runtime/context.js';
import type { StepPosition, StepWatcher } from './trainer.js';
import { OptionRangeError } from '../runtime/errors.js';

export interface GradMonitorOptions {
  /** Sample every this many training steps (1: every step). The first step of each phase is always sampled. */
  every: number;
  /**
   * Also measure each parameter's distance from the values it had when the monitor was made
   * (for a pretrained model: how far training moved the pretrained weights). Keeps a copy of
   * every parameter on the GPU.
   */
  drift?: boolean;
  /** Called with each sampled step's record, in order (e.g. to append it to the run's log). */
  onRecord?: (record: GradFlowRecord) => void | Promise<void>;
}

export interface ParamFlow {
  name: string;
  /** ‖g‖₂ of the parameter's gradient; null when it had none (frozen, or not reached). */
  grad: number | null;
  /** ‖p_after − p_before‖₂ of this step's update; null when the parameter was frozen. */
  update: number | null;
  /** ‖p‖₂ after the update. */
  weight: number;
  /** ‖p − p_start‖₂ (with `drift`), else null. */
  drift: number | null;
  /** ‖p_start‖₂ (with `drift`), else null: drift / start is how far training moved it, relatively. */
  start: number | null;
}

export interface LayerFlow {
  /** Module path, e.g. `features.3`. */
  layer: string;
  /** Any of its parameters requires a gradient this step. */
  trainable: boolean;
  /** Norms over the layer's parameters together (√Σ over weight and bias), null as in ParamFlow. */
  grad: number | null;
  update: number | null;
  weight: number;
  drift: number | null;
  start: number | null;
  params: ParamFlow[];
  /** The autograd graph held a backward step for this layer (`record()` attached one). */
  inGraph: boolean;
  /** Kernels its backward rule dispatched, by name: the evidence for the two flags below. */
  backwardKernels: Record<string, number>;
  /** It dispatched a kernel computing its parameters' gradients (conv2d.weight_grad/bias_grad, matmul TN, BatchNorm's sums). */
  ranWeightGrad: boolean;
  /** It dispatched a kernel computing its input's gradient (conv2d.input_grad, matmul NN, batchnorm.backward_input). */
  ranInputGrad: boolean;
}

export interface GradFlowRecord {
  /** Training steps this monitor has seen, 1-based. */
  step: number;
  phase: string;
  epoch: number;
  batch: number;
  layers: LayerFlow[];
  /** Dispatches of the step's backward and update, by kernel name (optimiser included). */
  stepKernels: Record<string, number>;
  /** Dispatches the monitor itself added to the step (the norms). */
  monitorDispatches: number;
}

const WEIGHT_GRAD_KERNEL = /^conv2d\.(weight|bias)_grad|^matmul\.[^.]+\.TN|^batchnorm\.(partial_grad|finalize_grad)/;
const INPUT_GRAD_KERNEL = /^conv2d\.input_grad|^matmul\.[^.]+\.NN|^batchnorm\.backward_input/;

/** Squared norms per parameter, in `NORMS` columns. */
const NORMS = ['grad', 'update', 'weight', 'drift', 'start'] as const;

interface Sample {
  ctx: GpuContext;
  at: StepPosition;
  step: number;
  before: Map<Tensor, Tensor>;
  kernelsBefore: Map<string, number>;
  layerKernels: Map<string, Map<string, number>>;
  stepKernels?: Record<string, number>;
  /** Parameters that held a gradient after backward. */
  hadGrad?: Set<Tensor>;
  norms?: Tensor;
  monitorDispatches?: number;
}

export class GradientMonitor implements StepWatcher {
  readonly records: GradFlowRecord[] = [];
  private steps = 0;
  private lastPhase: string | null = null;
  private sample: Sample | null = null;
  private readonly params: [string, Tensor][];
  private readonly layerOf = new Map<Tensor, string>();
  private readonly start: Map<Tensor, Tensor> | null;

  constructor(
    readonly model: Module,
    readonly options: GradMonitorOptions,
  ) {
    if (!Number.isInteger(options.every) || options.every < 1) throw new OptionRangeError(`GradientMonitor: 'every' must be a positive integer, got ${options.every}`);
    this.params = model.namedParameters();
    for (const [name, p] of this.params) this.layerOf.set(p, layerPath(name));
    this.start = options.drift ? new Map(this.params.map(([, p]) => [p, copyOf(p, 'start')])) : null;
  }

  /** Module paths of the layers, in the model's order. */
  get layers(): string[] {
    return [...new Set(this.params.map(([name]) => layerPath(name)))];
  }

  /** Step 1, 1 + every, 1 + 2·every, ... and the first step of each phase. */
  isSampled(step: number, phase: string): boolean {
    return (step - 1) % this.options.every === 0 || phase !== this.lastPhase;
  }

  beforeBackward(loss: Tensor, at: StepPosition): void {
    const step = ++this.steps;
    const sampled = this.isSampled(step, at.phase);
    this.lastPhase = at.phase;
    if (!sampled) return;
    const ctx = loss.ctx;
    const before = new Map<Tensor, Tensor>();
    for (const [, p] of this.params) if (p.requiresGrad) before.set(p, copyOf(p, 'before'));
    const layerKernels = new Map<string, Map<string, number>>();
    for (const node of graphNodes(loss.gradFn)) {
      const layer = node.inputs.map((t) => this.layerOf.get(t)).find((l) => l !== undefined);
      if (layer === undefined) continue;
      const counts = layerKernels.get(layer) ?? new Map<string, number>();
      layerKernels.set(layer, counts);
      countDispatches(node, ctx, counts);
    }
    this.sample = { ctx, at, step, before, kernelsBefore: new Map(ctx.recorder.stats.perKernel), layerKernels };
  }

  afterUpdate(): void {
    const s = this.sample;
    if (!s) return;
    const recorder = s.ctx.recorder;
    s.stepKernels = Object.fromEntries(delta(s.kernelsBefore, recorder.stats.perKernel));
    s.hadGrad = new Set(this.params.filter(([, p]) => p.grad).map(([, p]) => p));
    const dispatchesBefore = recorder.stats.dispatches;
    const norms = keep(Tensor.empty(s.ctx, [this.params.length, NORMS.length], 'float32', 'grad-monitor norms'));
    noGrad(() =>
      tidy(() => {
        this.params.forEach(([, p], i) => {
          // Each squared norm is one value; copying it into its cell keeps the readback to one.
          const put = (squared: Tensor, column: number) => recorder.copy(squared.buffer, 0, norms.buffer, (i * NORMS.length + column) * 4, 4);
          if (p.grad) put(sumOfSquares(p.grad), 0);
          const before = s.before.get(p);
          if (before) put(sumOfSquares(sub(p, before)), 1);
          put(sumOfSquares(p), 2);
          const start = this.start?.get(p);
          if (start) {
            put(sumOfSquares(sub(p, start)), 3);
            put(sumOfSquares(start), 4);
          }
        });
      }),
    );
    for (const t of s.before.values()) t.dispose();
    s.norms = norms;
    s.monitorDispatches = recorder.stats.dispatches - dispatchesBefore;
  }

  async afterStep(): Promise<void> {
    const s = this.sample;
    this.sample = null;
    if (!s?.norms) return;
    const squares = (await s.norms.read()) as Float32Array;
    s.norms.dispose();
    const record = this.toRecord(s, squares);
    this.records.push(record);
    await this.options.onRecord?.(record);
  }

  /** Frees the starting copies (with `drift`). */
  dispose(): void {
    for (const t of this.start?.values() ?? []) t.dispose();
    this.start?.clear();
  }

  private toRecord(s: Sample, squares: Float32Array): GradFlowRecord {
    const norm = (i: number, column: number) => Math.sqrt(squares[i * NORMS.length + column]!);
    const params = this.params.map(([name, p], i) => ({
      name,
      trainable: s.before.has(p),
      grad: s.hadGrad!.has(p) ? norm(i, 0) : null,
      update: s.before.has(p) ? norm(i, 1) : null,
      weight: norm(i, 2),
      drift: this.start ? norm(i, 3) : null,
      start: this.start ? norm(i, 4) : null,
    }));
    const layers = this.layers.map((layer): LayerFlow => {
      const own = params.filter((p) => layerPath(p.name) === layer);
      const kernels = s.layerKernels.get(layer);
      const names = [...(kernels?.keys() ?? [])];
      const combined = (pick: (p: ParamFlow) => number | null) => {
        const values = own.map(pick).filter((v): v is number => v !== null);
        return values.length ? Math.hypot(...values) : null;
      };
      return {
        layer,
        trainable: own.some((p) => p.trainable),
        grad: combined((p) => p.grad),
        update: combined((p) => p.update),
        weight: combined((p) => p.weight) ?? 0,
        drift: combined((p) => p.drift),
        start: combined((p) => p.start),
        params: own.map(({ name, grad, update, weight, drift, start }) => ({ name, grad, update, weight, drift, start })),
        inGraph: kernels !== undefined,
        backwardKernels: Object.fromEntries(kernels ?? []),
        ranWeightGrad: names.some((n) => WEIGHT_GRAD_KERNEL.test(n)),
        ranInputGrad: names.some((n) => INPUT_GRAD_KERNEL.test(n)),
      };
    });
    return { step: s.step, ...s.at, layers, stepKernels: s.stepKernels ?? {}, monitorDispatches: s.monitorDispatches ?? 0 };
  }
}

/** `features.3.weight` -> `features.3`. */
export function layerPath(paramName: string): string {
  const dot = paramName.lastIndexOf('.');
  return dot < 0 ? '' : paramName.slice(0, dot);
}

function copyOf(p: Tensor, what: string): Tensor {
  const copy = keep(Tensor.empty(p.ctx, p.shape, 'float32', `${p.name} (${what})`));
  p.ctx.recorder.copy(p.buffer, 0, copy.buffer, 0, p.byteSize);
  return copy;
}

function sumOfSquares(t: Tensor): Tensor {
  return sum(mul(t, t));
}

function* graphNodes(root: GradNode | null): Generator<GradNode> {
  const seen = new Set<GradNode>();
  const stack = root ? [root] : [];
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    yield node;
    for (const input of node.inputs) if (input.gradFn) stack.push(input.gradFn);
  }
}

/**
 * Wraps `node`'s backward rule so that the dispatches it makes are added to `counts`. The node
 * belongs to this step's graph only, which backward releases: nothing outlives the step.
 */
function countDispatches(node: GradNode, ctx: GpuContext, counts: Map<string, number>): void {
  const rule = node.backward;
  const wrapped: BackwardRule = (gradOutput, saved, needs) => {
    const before = new Map(ctx.recorder.stats.perKernel);
    const grads = rule(gradOutput, saved, needs);
    for (const [name, n] of delta(before, ctx.recorder.stats.perKernel)) counts.set(name, (counts.get(name) ?? 0) + n);
    return grads;
  };
  (node as { backward: BackwardRule }).backward = wrapped;
}

function delta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): [string, number][] {
  return [...after].map(([name, n]): [string, number] => [name, n - (before.get(name) ?? 0)]).filter(([, n]) => n > 0);
}
