// The PyTorch peers (bench/peers/torch_cpu.py, and bench/gpu/torch_steps.py on a GPU) build every
// training step the bench races, under the bench's name: the report puts their images/s beside
// ours by name, and a name that differs leaves the column empty without a word.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { testContext } from './helpers/gpu.js';
import { TORCH_PYTHON } from './helpers/fixtures.js';
import { ourStepParts, stepName, type StepSpec } from '../bench/train-step.js';

const SPECS: StepSpec[] = [
  { model: 'smallvgg', batch: 2, size: 32, classes: 2, frozenBase: false },
  { model: 'smallvgg', batch: 2, size: 32, classes: 2, frozenBase: true },
  { model: 'vgg16', batch: 2, size: 32, classes: 2, frozenBase: false },
  { model: 'vgg16', batch: 2, size: 32, classes: 2, frozenBase: true },
  { model: 'vgg16-torchvision', batch: 2, size: 32, classes: 2, frozenBase: false },
  { model: 'vgg16-torchvision', batch: 2, size: 32, classes: 2, frozenBase: true, headOnly: true },
];

const PEER = `
import json, sys
sys.path.insert(0, 'bench/peers')
from torch_cpu import build_model, step_name, step_variants
out = []
for model in ('smallvgg', 'vgg16', 'vgg16-torchvision'):
    for frozen, head_only in step_variants(model):
        m = build_model(model, frozen, 32, 2, head_only)
        out.append({'name': step_name(model, frozen, head_only), 'params': sum(p.numel() for p in m.parameters()),
                    'trainable': sum(p.numel() for p in m.parameters() if p.requires_grad)})
print(json.dumps(out))
`;

it("PyTorch's steps are the bench's: the same names, parameters and trainable parameters", { timeout: 120_000 }, async () => {
  const r = spawnSync(TORCH_PYTHON, ['-c', PEER], { encoding: 'utf8', timeout: 100_000 });
  expect(r.status, r.stderr).toBe(0);
  const ctx = await testContext();
  const ours = [];
  for (const spec of SPECS) {
    const { parts, release } = ourStepParts(ctx, spec);
    const params = parts.model.parameters();
    ours.push({ name: stepName(spec), params: params.reduce((s, p) => s + p.size, 0), trainable: params.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0) });
    await release();
  }
  expect(JSON.parse(r.stdout)).toEqual(ours);
});
