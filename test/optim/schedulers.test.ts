import { describe, expect, it } from 'vitest';
import { fixtures, type SchedulerCase } from './fixtures.js';
import { CosineAnnealingLR, LRScheduler, LinearWarmup, MultiStepLR, StepLR, type ScheduledOptimizer } from '../../src/optim/schedulers.js';

/** Schedulers only touch `paramGroups[i].lr`: a stand-in optimizer needs no GPU. */
const groups = (lrs: readonly number[]): ScheduledOptimizer => ({ paramGroups: lrs.map((lr) => ({ lr })) });

function make(c: SchedulerCase, optimizer: ScheduledOptimizer): LRScheduler {
  const o = c.options as Record<string, never>;
  switch (c.name) {
    case 'step':
      return new StepLR(optimizer, { stepSize: o.stepSize, gamma: o.gamma });
    case 'multistep':
      return new MultiStepLR(optimizer, { milestones: o.milestones, gamma: o.gamma });
    case 'cosine':
      return new CosineAnnealingLR(optimizer, { tMax: o.tMax, etaMin: o.etaMin });
    case 'warmup_cosine':
      return new LinearWarmup(new CosineAnnealingLR(optimizer, o.after), { warmupEpochs: o.warmupEpochs, startFactor: o.startFactor });
    case 'warmup_step':
      return new LinearWarmup(new StepLR(optimizer, o.after), { warmupEpochs: o.warmupEpochs, startFactor: o.startFactor });
    default:
      throw new Error(`no scheduler for fixture ${c.name}`);
  }
}

describe('learning-rate schedulers against torch.optim.lr_scheduler', () => {
  for (const c of fixtures().schedulers) {
    it(`${c.name}: the same learning rates for two groups over ${c.lrs.length - 1} epochs`, () => {
      const optimizer = groups(c.base_lrs);
      const scheduler = make(c, optimizer);
      const seen = [scheduler.getLastLr()];
      for (let epoch = 1; epoch < c.lrs.length; epoch++) {
        scheduler.step();
        seen.push(scheduler.getLastLr());
        expect(optimizer.paramGroups.map((g) => g.lr)).toEqual(seen[epoch]);
      }
      // PyTorch's cosine is a recurrence, ours the closed form: equal to rounding.
      seen.forEach((lrs, epoch) => lrs.forEach((lr, g) => expect(Math.abs(lr - c.lrs[epoch]![g]!), `epoch ${epoch} group ${g}`).toBeLessThan(1e-12)));
    });
  }
});

describe('learning-rate schedulers', () => {
  it('resume from a state dict at the same epoch with the same rates', () => {
    const first = groups([0.1, 0.01]);
    const scheduler = new LinearWarmup(new StepLR(first, { stepSize: 3 }), { warmupEpochs: 2 });
    for (let i = 0; i < 6; i++) scheduler.step();
    const saved = JSON.parse(JSON.stringify(scheduler.stateDict()));
    const second = groups([0.5, 0.5]); // whatever the optimizer holds, the state decides
    const resumed = new LinearWarmup(new StepLR(second, { stepSize: 3 }), { warmupEpochs: 2 });
    resumed.loadStateDict(saved);
    expect(second.paramGroups.map((g) => g.lr)).toEqual(first.paramGroups.map((g) => g.lr));
    scheduler.step();
    resumed.step();
    expect(resumed.getLastLr()).toEqual(scheduler.getLastLr());
  });

  it('step per epoch: per batch, StepLR(7) would collapse the rate within an epoch', () => {
    const optimizer = groups([1e-3]);
    const scheduler = new StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
    for (let batch = 0; batch < 50; batch++) scheduler.step(); // the study notebook's mistake
    expect(optimizer.paramGroups[0]!.lr).toBeLessThan(1e-3 * 1e-6);
    expect(() => new StepLR(optimizer, { stepSize: 0 })).toThrow(RangeError);
  });
});
