import { describe, expect, it } from 'vitest';
import { NOTEBOOK_PLAN, planPhases } from '../../src/train/plan.js';

const rates = (plan: Parameters<typeof planPhases>[0], options: Partial<typeof NOTEBOOK_PLAN> = {}) =>
  planPhases(plan, { ...NOTEBOOK_PLAN, lr: 0.01, epochs: 3, ...options }).map((p) => [p.name, p.trainable.kind, p.lr, p.epochs]);

describe('planPhases', () => {
  it('gives each plan its phases, rates and epochs', () => {
    expect(rates('transfer')).toEqual([['transfer', 'head', 0.01, 3]]);
    expect(rates('scratch')).toEqual([['scratch', 'all', 0.01, 3]]);
    // The recipe: the fine-tuning phase at a tenth of the rate unless told.
    expect(rates('both')).toEqual([['transfer', 'head', 0.01, 3], ['finetune', 'all', 0.001, 3]]);
    expect(rates('both', { finetuneLr: 0.002, finetuneEpochs: 5 })).toEqual([['transfer', 'head', 0.01, 3], ['finetune', 'all', 0.002, 5]]);
  });

  it('a finetune-only plan trains at the rate and for the epochs it is given (its only phase is the first)', () => {
    expect(rates('finetune')).toEqual([['finetune', 'all', 0.01, 3]]);
    expect(planPhases('finetune', { ...NOTEBOOK_PLAN, unfreezeFrom: 'features.24' })[0]!.trainable).toEqual({ kind: 'from', path: 'features.24' });
  });
});
