// A tiny training run (tiny-mlp.ts) as a check: its loss must fall, and freezing a
// layer must leave that layer's weights exactly as they were while the rest still learns.
import { check, type CheckSuite } from './check.js';
import { DEFAULT_TRAINING, TinyMlp, trainTinyMlp } from './tiny-mlp.js';

export const training: CheckSuite = {
  name: 'training',
  checks: [
    check('a 2-layer MLP on a separable task: SGD brings the loss down', async ({ expect }) => {
      const model = new TinyMlp();
      try {
        const { losses, accuracy } = await trainTinyMlp(model, { ...DEFAULT_TRAINING, steps: 40 });
        expect.ok(losses.every(Number.isFinite), `every loss is finite: ${losses.join(', ')}`);
        expect.ok(losses.at(-1)! < 0.5 * losses[0]!, `the loss falls to under half its start: ${losses[0]} -> ${losses.at(-1)}`);
        expect.ok(accuracy >= 0.9, `training accuracy ${accuracy} >= 0.9`);
      } finally {
        model.dispose();
      }
    }),
    check('a frozen layer keeps its weights; the head still learns', async ({ expect }) => {
      const model = new TinyMlp();
      try {
        for (const p of model.fc1.parameters()) p.requiresGrad = false;
        const before = await model.fc1.weight.read();
        const headBefore = await model.fc2.weight.read();
        const { losses } = await trainTinyMlp(model, { ...DEFAULT_TRAINING, steps: 5 });
        expect.equal(Array.from(await model.fc1.weight.read()), Array.from(before), 'frozen fc1.weight');
        expect.ok(model.fc1.weight.grad === null, 'a frozen weight gets no gradient');
        const headAfter = await model.fc2.weight.read();
        expect.ok(headAfter.some((v, i) => v !== headBefore[i]), 'fc2.weight changed');
        expect.ok(losses.at(-1)! < losses[0]!, `the loss falls: ${losses[0]} -> ${losses.at(-1)}`);
      } finally {
        model.dispose();
      }
    }),
  ],
};
