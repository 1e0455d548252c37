// The gradient-flow monitor: its norms against values read back and computed on the CPU, its
// "ran the weight / input gradient kernels" flags against what freezing must prune, and its cost:
// nothing on steps it does not sample, and still one submit per step when it is off.
import { describe, expect, it } from 'vitest';
import { testContext } from './helpers/gpu.js';
import { tidy } from '../src/autograd/scope.js';
import { tensor } from '../src/ops/creation.js';
import { backward } from '../src/ops/grad.js';
import { crossEntropy } from '../src/ops/loss.js';
import { SGD } from '../src/optim/sgd.js';
import { smallVgg } from '../src/models/vgg.js';
import { freezeAllButHead, unfreeze } from '../src/models/freeze.js';
import { Trainer, type StepInfo } from '../src/train/trainer.js';
import type { PhaseConfig } from '../src/train/plan.js';
import { GradientMonitor, type GradFlowRecord } from '../src/train/grad-monitor.js';
import { gradFlowSvg } from '../src/train/grad-monitor-plot.js';
import { targetTask, taskData } from '../src/demo/tasks.js';

const norm = (values: ArrayLike<number>) => Math.sqrt(Array.from(values).reduce((a, v) => a + v * v, 0));
const layer = (r: GradFlowRecord, path: string) => r.layers.find((l) => l.layer === path)!;
const input = Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37));

describe('GradientMonitor', () => {
  it('measures gradient, update and drift norms on the GPU as the CPU computes them', async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 2, seed: 3, ctx });
    const monitor = new GradientMonitor(model, { every: 1, drift: true });
    const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
    const params = model.namedParameters();
    const x = tensor(input, [2, 3, 32, 32], { ctx });
    const start = await Promise.all(params.map(([, p]) => p.read()));
    let grads: Float32Array[] = [];
    for (let step = 1; step <= 2; step++) {
      const before = await Promise.all(params.map(([, p]) => p.read()));
      tidy(() => {
        const loss = crossEntropy(model.forward(x), [0, 1]);
        monitor.beforeBackward(loss, { phase: 'all', epoch: 0, batch: step });
        backward(loss);
        optimizer.step();
        monitor.afterUpdate();
      });
      ctx.recorder.flush();
      await monitor.afterStep();
      grads = (await Promise.all(params.map(([, p]) => p.grad!.read()))) as Float32Array[];
      const after = await Promise.all(params.map(([, p]) => p.read()));
      optimizer.zeroGrad();
      const record = monitor.records[step - 1]!;
      params.forEach(([name], i) => {
        const flow = record.layers.flatMap((l) => l.params).find((p) => p.name === name)!;
        const close = (a: number | null, b: number) => expect(Math.abs(a! - b), name).toBeLessThanOrEqual(1e-4 * Math.max(1, b));
        close(flow.grad, norm(grads[i]!));
        close(flow.update, norm(after[i]!.map((v, k) => v - before[i]![k]!)));
        close(flow.weight, norm(after[i]!));
        close(flow.drift, norm(after[i]!.map((v, k) => v - start[i]![k]!)));
      });
      // A layer's norm combines its parameters: √(‖g_weight‖² + ‖g_bias‖²).
      const f0 = layer(record, 'features.0');
      expect(f0.grad).toBeCloseTo(Math.hypot(f0.params[0]!.grad!, f0.params[1]!.grad!), 6);
    }
    x.dispose();
    monitor.dispose();
    model.dispose();
  });

  it('shows what freezing prunes, from the kernels each layer dispatched', async () => {
    const ctx = await testContext();
    const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 2, seed: 4, ctx });
    const monitor = new GradientMonitor(model, { every: 1 });
    const x = tensor(input, [2, 3, 32, 32], { ctx });
    const step = (phase: string) => {
      tidy(() => {
        const loss = crossEntropy(model.forward(x), [0, 1]);
        monitor.beforeBackward(loss, { phase, epoch: 0, batch: 1 });
        backward(loss);
        monitor.afterUpdate();
        model.zeroGrad();
      });
      ctx.recorder.flush();
      return monitor.afterStep();
    };
    freezeAllButHead(model);
    await step('head');
    unfreeze(model, 'features');
    unfreeze(model, 'classifier');
    await step('all');
    const [head, all] = monitor.records as [GradFlowRecord, GradFlowRecord];
    console.log('head only: ', head.layers.map((l) => `${l.layer} ${JSON.stringify(l.backwardKernels)}`).join('\n'));
    console.log('everything:', all.layers.map((l) => `${l.layer} ${JSON.stringify(l.backwardKernels)}`).join('\n'));

    // Head only: the base and classifier.0 have no backward step at all; the head computes its
    // weight gradient and, with nothing trainable below it, no input gradient.
    for (const l of head.layers.filter((l) => l.layer !== 'classifier.2')) {
      expect(l).toMatchObject({ inGraph: false, ranWeightGrad: false, ranInputGrad: false, grad: null, backwardKernels: {} });
    }
    expect(layer(head, 'classifier.2')).toMatchObject({ inGraph: true, ranWeightGrad: true, ranInputGrad: false });
    expect(layer(head, 'classifier.2').grad).toBeGreaterThan(0);

    // Everything trains: every layer computes its weight gradient; every layer but the first
    // passes a gradient to its input (the images need none).
    for (const l of all.layers) {
      expect(l.ranWeightGrad, l.layer).toBe(true);
      expect(l.ranInputGrad, l.layer).toBe(l.layer !== 'features.0');
      expect(l.grad, l.layer).toBeGreaterThan(0);
    }
    expect(Object.keys(layer(all, 'features.0').backwardKernels).some((k) => k.startsWith('conv2d.input_grad'))).toBe(false);
    expect(Object.keys(layer(all, 'features.2').backwardKernels).some((k) => k.startsWith('conv2d.input_grad'))).toBe(true);

    const svg = gradFlowSvg([{ title: 'test', records: monitor.records }], { metric: 'grad' });
    expect(svg).toContain('<svg');
    expect(svg).toContain('url(#none)'); // frozen cells are drawn as "no gradient"
    x.dispose();
    model.dispose();
  });

  it('costs nothing when off, and one readback per sampled step when on', async () => {
    const ctx = await testContext();
    const phases: PhaseConfig[] = [
      { name: 'transfer', epochs: 1, trainable: { kind: 'head' }, optimizer: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
      { name: 'finetune', epochs: 1, trainable: { kind: 'all' }, optimizer: 'sgd', lr: 0.001, momentum: 0.9, weightDecay: 0, scheduler: { kind: 'none' } },
    ];
    const task = targetTask(4, 1, 1, 1); // 16 training images: 4 steps of 4 per epoch
    const submitsPerStep = async (every: number | null) => {
      const model = smallVgg({ widths: [4, 8, 8], hidden: 16, numClasses: 4, seed: 5, ctx });
      const monitor = every ? new GradientMonitor(model, { every }) : undefined;
      const perStep: number[] = [];
      let last = 0;
      const onStep = (info: StepInfo) => {
        if (info.batch > 1) perStep.push(ctx.recorder.stats.submits - last);
        last = ctx.recorder.stats.submits;
      };
      const trainer = new Trainer(ctx, model, taskData(ctx, task, 4, 1), { seed: 1 }, { onStep, watch: monitor });
      await trainer.run(phases);
      model.dispose();
      return { perStep, records: monitor?.records ?? [] };
    };
    const off = await submitsPerStep(null);
    expect(off.perStep.every((n) => n === 1)).toBe(true);
    const on = await submitsPerStep(2);
    // Steps 1, 3 (transfer), 5 (finetune's first) and 7 are sampled: 1 + 2·k and each phase's first.
    expect(on.records.map((r) => `${r.phase}:${r.step}`)).toEqual(['transfer:1', 'transfer:3', 'finetune:5', 'finetune:7']);
    // Within an epoch, batches 2..4: batch 3 is sampled (one more submit: its readback), 2 and 4 are not.
    expect(on.perStep).toEqual([1, 2, 1, 1, 2, 1]);
  });
});
