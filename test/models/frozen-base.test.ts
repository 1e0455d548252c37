// A frozen base must cost nothing in backward: proved by counting the kernels the recorder
// dispatched and the buffers alive after the forward pass, not by reading requiresGrad flags.
import { describe, expect, it } from 'vitest';
import { testContext } from '../helpers/gpu.js';
import type { GpuContext } from '../../src/runtime/context.js';
import type { Tensor } from '../../src/autograd/tensor.js';
import type { GradNode } from '../../src/autograd/graph.js';
import { tidy } from '../../src/autograd/scope.js';
import { tensor } from '../../src/ops/creation.js';
import { backward } from '../../src/ops/grad.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { SGD } from '../../src/optim/sgd.js';
import { smallVgg } from '../../src/models/vgg.js';
import { freeze, freezeAllButHead, unfreeze } from '../../src/models/freeze.js';
import type { VGG } from '../../src/models/vgg.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';

interface StepCounts {
  forward: Map<string, number>;
  backward: Map<string, number>;
  /** Pool buffers alive after forward + loss, beyond those alive before. */
  liveAfterForward: number;
  /** Operations recorded in the autograd graph, from the loss down. */
  graphOps: string[];
}

const input = (n: number) => Array.from({ length: n * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));

function graphOps(root: Tensor): string[] {
  const ops: string[] = [];
  const stack: GradNode[] = root.gradFn ? [root.gradFn] : [];
  const seen = new Set<GradNode>();
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    ops.push(node.op);
    for (const t of node.inputs) if (t.gradFn) stack.push(t.gradFn);
  }
  return ops;
}

function step(ctx: GpuContext, model: VGG): StepCounts {
  const x = tensor(input(2), [2, 3, 32, 32]);
  model.zeroGrad();
  ctx.recorder.flush();
  const counts = tidy(() => {
    const live = ctx.pool.stats.live;
    ctx.recorder.resetStats();
    const loss = crossEntropy(model.forward(x), [0, 1]);
    const forward = new Map(ctx.recorder.stats.perKernel);
    const liveAfterForward = ctx.pool.stats.live - live;
    const ops = graphOps(loss);
    ctx.recorder.resetStats();
    backward(loss);
    return { forward, backward: new Map(ctx.recorder.stats.perKernel), liveAfterForward, graphOps: ops };
  });
  x.dispose();
  return counts;
}

const matching = (kernels: Map<string, number>, pattern: RegExp) =>
  [...kernels].filter(([name]) => pattern.test(name)).reduce((s, [, n]) => s + n, 0);

describe('a frozen base costs nothing in backward (dispatch counts)', () => {
  it('runs no conv kernels, no input gradient below the head, and saves no base activations', async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [8, 16, 32], hidden: 32, numClasses: 2, seed: 1 });
    model.train();
    const full = step(ctx, model);
    freeze(model, 'features');
    const frozen = step(ctx, model);
    console.log('backward kernels, base trainable:', Object.fromEntries(full.backward));
    console.log('backward kernels, base frozen:   ', Object.fromEntries(frozen.backward));
    console.log(`buffers alive after forward: trainable ${full.liveAfterForward}, frozen ${frozen.liveAfterForward}`);

    // Same forward work either way, except that max-pooling keeps no argmax indices when
    // nothing will run its backward.
    const withoutPools = (m: Map<string, number>) => [...m].filter(([k]) => !k.startsWith('pool.max'));
    expect(withoutPools(frozen.forward)).toEqual(withoutPools(full.forward));
    expect(full.forward.get('pool.max.forward_indices')).toBe(3);
    expect(frozen.forward.get('pool.max.forward')).toBe(3);
    // Trainable base: weight and bias gradients of all 6 convolutions, input gradients of the 5 above the first.
    expect(matching(full.backward, /^conv2d\.weight_grad/)).toBeGreaterThanOrEqual(6);
    expect(matching(full.backward, /^conv2d\.bias_grad/)).toBe(6);
    expect(matching(full.backward, /^conv2d\.input_grad/)).toBeGreaterThanOrEqual(5);
    expect(matching(full.backward, /relu_backward/)).toBe(7);
    // Frozen base: not one conv kernel, no pooling gradient, one ReLU gradient (the classifier's).
    expect(matching(frozen.backward, /^conv2d/)).toBe(0);
    expect(matching(frozen.backward, /pool/)).toBe(0);
    expect(matching(frozen.backward, /relu_backward/)).toBe(1);
    // Backward stops at classifier.0, the first trainable layer: its weight gradient is a matmul,
    // its input gradient is not computed. classifier.2: weight and input gradients. So 3 matmuls
    // where the trainable base needs 4 (classifier.0's input gradient feeds the base).
    expect(matching(frozen.backward, /^matmul/)).toBe(3);
    expect(matching(full.backward, /^matmul/)).toBe(4);
    // Everything backward dispatches with the base frozen: the loss's gradient, those 3 matmuls,
    // the 2 bias reductions and the classifier's ReLU gradient. Nothing else.
    expect(matching(frozen.backward, /^cross_entropy\.backward$/)).toBe(1);
    expect(matching(frozen.backward, /^reduce\.sum/)).toBe(2);
    expect(matching(frozen.backward, /./)).toBe(7);
    // The graph holds the head only: the base recorded nothing, so it saved nothing.
    expect(frozen.graphOps.sort()).toEqual(['crossEntropy', 'linear', 'linear', 'relu'].sort());
    // Each of the 6 convolutions with its ReLU, fused (conv2d_relu: nn's Sequential).
    expect(full.graphOps.filter((op) => op === 'conv2d_relu')).toHaveLength(6);
    // Buffers alive after forward: with the base frozen, the head's saved inputs (pooled features,
    // classifier.0's output, the ReLU's output), the logits, the loss's saved softmax, the loss
    // and the labels; the trainable base also keeps its 6 ReLU outputs (3 of them the next conv's
    // input: one buffer), the 2 pooled inputs of convs 3 and 5, and 3 pooling indices alive.
    expect(frozen.liveAfterForward).toBeLessThanOrEqual(8);
    expect(full.liveAfterForward).toBeGreaterThanOrEqual(frozen.liveAfterForward + 11);
    // And only the head's parameters got gradients.
    expect(model.namedParameters().filter(([, p]) => p.grad).map(([n]) => n)).toEqual([
      'classifier.0.weight',
      'classifier.0.bias',
      'classifier.2.weight',
      'classifier.2.bias',
    ]);
    model.dispose();
  });

  it('keeps no optimizer state for frozen parameters', async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [8, 16, 32], hidden: 32, numClasses: 2, seed: 2 });
    freezeAllButHead(model);
    const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    step(ctx, model);
    optimizer.step();
    expect([...optimizer.state.keys()].map((p) => p.name)).toEqual(['classifier.2.weight', 'classifier.2.bias']);
    model.dispose();
  });
});

describe('BatchNorm in a frozen base', () => {
  async function runningStats(model: VGG): Promise<number[]> {
    const bn = model.features.at(1) as BatchNorm2d;
    return [...Array.from((await bn.runningMean.read()) as Float32Array), bn.numBatchesTracked.value];
  }

  it("'frozen-eval' keeps the running statistics; 'follow-model' moves them as PyTorch does", async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [8, 16, 32], hidden: 32, numClasses: 2, batchNorm: true, seed: 3 }).train();
    const initial = await runningStats(model);

    freeze(model, 'features'); // bnMode 'frozen-eval' by default
    step(ctx, model);
    expect(await runningStats(model)).toEqual(initial);

    unfreeze(model, 'features');
    freeze(model, 'features', { bnMode: 'follow-model' });
    step(ctx, model);
    const moved = await runningStats(model);
    expect(moved.at(-1)).toBe(1);
    expect(moved.slice(0, -1)).not.toEqual(initial.slice(0, -1));
    model.dispose();
  });
});
