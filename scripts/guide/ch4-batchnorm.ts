// Chapter 4: BatchNorm in training and in evaluation, and what freezing it means. A small VGG
// with BatchNorm (vgg16_bn's layout) in four situations: which BatchNorm kernels its forward and
// its backward dispatch, whether the running statistics move, and whether the layer gets a
// gradient. Everything but the BatchNorm layers trains, so a frozen BatchNorm still passes a
// gradient down to the convolution below it.
import type { GpuContext } from '../../src/runtime/context.js';
import { tidy } from '../../src/autograd/scope.js';
import { backward } from '../../src/ops/grad.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { smallVgg } from '../../src/models/vgg.js';
import { freeze, unfreeze, type BnMode } from '../../src/models/freeze.js';
import { BatchNorm2d } from '../../src/nn/batchnorm.js';
import { GradientMonitor } from '../../src/train/grad-monitor.js';
import { demoBatch, kernelDelta } from './common.js';
import { sig, table, type GuideOutput } from './output.js';

interface Situation {
  name: string;
  mode: 'train' | 'eval';
  frozen: BnMode | null;
}

const SITUATIONS: Situation[] = [
  { name: 'model.train(), BatchNorm trainable', mode: 'train', frozen: null },
  { name: 'model.eval(), BatchNorm trainable', mode: 'eval', frozen: null },
  { name: "model.train(), BatchNorm frozen, bnMode 'frozen-eval' (default)", mode: 'train', frozen: 'frozen-eval' },
  { name: "model.train(), BatchNorm frozen, bnMode 'follow-model' (PyTorch)", mode: 'train', frozen: 'follow-model' },
];

const list = (counts: ReadonlyMap<string, number> | Record<string, number>) =>
  Object.entries(counts instanceof Map ? Object.fromEntries(counts) : counts)
    .filter(([k]) => k.startsWith('batchnorm'))
    .map(([k, n]) => `\`${k}\`×${n}`)
    .join(', ') || 'none';

export async function chapter4(ctx: GpuContext, out: GuideOutput, o: { batch: number }): Promise<void> {
  const { images, labels } = demoBatch(ctx, o.batch);
  const rows: string[][] = [];
  for (const s of SITUATIONS) {
    const model = smallVgg({ widths: [8, 16, 16], hidden: 32, numClasses: 4, batchNorm: true, seed: 2, ctx });
    const bnPaths = model.namedModules().filter(([, m]) => m instanceof BatchNorm2d).map(([path]) => path);
    const bn = model.getSubmodule(bnPaths[0]!) as BatchNorm2d;
    unfreeze(model, (name) => name.length > 0);
    if (s.frozen) freeze(model, bnPaths, { bnMode: s.frozen });
    model.train(s.mode === 'train');
    const monitor = new GradientMonitor(model, { every: 1 });
    const meanBefore = (await bn.runningMean.read()) as Float32Array;
    const trackedBefore = bn.numBatchesTracked.value;
    const forward = tidy(() => {
      const before = new Map(ctx.recorder.stats.perKernel);
      const logits = model.forward(images);
      const kernels = kernelDelta(before, ctx.recorder.stats.perKernel);
      const loss = crossEntropy(logits, labels);
      monitor.beforeBackward(loss, { phase: s.name, epoch: 0, batch: 1 });
      backward(loss);
      monitor.afterUpdate();
      model.zeroGrad();
      return kernels;
    });
    ctx.recorder.flush();
    await monitor.afterStep();
    const meanAfter = (await bn.runningMean.read()) as Float32Array;
    const moved = meanAfter.reduce((m, v, i) => Math.max(m, Math.abs(v - meanBefore[i]!)), 0);
    const flow = monitor.records[0]!.layers.find((l) => l.layer === bnPaths[0])!;
    rows.push([
      s.name,
      `${bn.usesBatchStats ? 'batch' : 'running'} statistics`,
      list(forward),
      moved > 0 ? `yes (max \\|Δ\\| ${sig(moved)})` : 'no',
      `${trackedBefore} → ${bn.numBatchesTracked.value}`,
      list(flow.backwardKernels),
      flow.grad === null ? 'none' : sig(flow.grad),
    ]);
    model.dispose();
  }
  images.dispose();
  await out.fragment(
    'ch4-modes',
    [
      table(
        ['situation', 'normalises with', 'BatchNorm kernels in forward (all 6 layers)', 'running_mean of features.1 moved', 'num_batches_tracked', 'backward kernels of features.1', '‖gradient‖ of features.1'],
        rows,
      ),
      '',
      `(A small VGG with BatchNorm after each of its 6 convolutions, widths 8/16/16, batch ${o.batch} of 32×32 demo images; in every situation the convolutions and the classifier train.)`,
    ].join('\n'),
  );
}
