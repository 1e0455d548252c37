// PyTorch reference values for batch norm, cross-entropy, the optimizers and the schedulers
// (scripts/fixtures/make_norm_loss_optim_fixtures.py, float64). Regenerated when the script changes.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDir, loadFixture, type ArrayFixture } from '../helpers/fixtures.js';

const SCRIPT = 'make_norm_loss_optim_fixtures.py';
const OUTPUT = 'norm_loss_optim.json';

export interface BatchNormStep {
  x: ArrayFixture;
  grad_output: ArrayFixture;
  y: ArrayFixture;
  grad_input: ArrayFixture;
  grad_weight?: ArrayFixture;
  grad_bias?: ArrayFixture;
  running_mean?: ArrayFixture;
  running_var?: ArrayFixture;
}

export interface BatchNormCase {
  name: string;
  shape: [number, number, number, number];
  affine: boolean;
  momentum: number;
  eps: number;
  weight: ArrayFixture | null;
  bias: ArrayFixture | null;
  running_mean: ArrayFixture;
  running_var: ArrayFixture;
  train_steps: BatchNormStep[];
  eval: BatchNormStep;
}

export interface CrossEntropyCase {
  name: string;
  label_smoothing: number;
  upstream: number;
  logits: ArrayFixture;
  labels: number[];
  loss: number;
  grad_logits: ArrayFixture;
  accuracy: number;
}

export interface OptimizerCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay?: number; betas?: [number, number]; eps?: number };
  lr_scale_by_step: number[];
  initial: ArrayFixture[];
  steps: { grads: ArrayFixture[]; params: ArrayFixture[] }[];
  final_state: Record<string, ArrayFixture | number>;
}

export interface SchedulerCase {
  name: string;
  options: Record<string, unknown>;
  base_lrs: number[];
  lrs: number[][];
}

export interface NormLossOptimFixtures {
  script_sha256: string;
  batchnorm: BatchNormCase[];
  cross_entropy: CrossEntropyCase[];
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
}

let cached: NormLossOptimFixtures | null = null;

export function fixtures(): NormLossOptimFixtures {
  if (cached) return cached;
  const scriptPath = fileURLToPath(new URL(`../../scripts/fixtures/${SCRIPT}`, import.meta.url));
  const hash = createHash('sha256').update(readFileSync(scriptPath)).digest('hex');
  let data = loadFixture<NormLossOptimFixtures>(SCRIPT, OUTPUT);
  if (data.script_sha256 !== hash) {
    rmSync(join(generatedDir, OUTPUT));
    data = loadFixture<NormLossOptimFixtures>(SCRIPT, OUTPUT);
  }
  return (cached = data);
}
