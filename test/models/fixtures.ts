// Random-weight torchvision models written by PyTorch (scripts/fixtures/make_model_fixtures.py),
// generated on first use and again whenever the script changes (about 2 minutes, 2.3 GB: five
// full-size weight files). PyTorch and torchvision are required: without them these tests fail
// with the install hint rather than skip, so a CI missing them cannot pass by accident.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import { TORCH_PYTHON } from '../helpers/fixtures.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/fixtures/make_model_fixtures.py', import.meta.url));
const GENERATED = fileURLToPath(new URL('../fixtures/generated/', import.meta.url));
export const MODELS_DIR = `${GENERATED}models/`;

export type Arch = 'vgg16' | 'vgg16_bn' | 'resnet18';

/** One weight file of each architecture (each container is covered elsewhere): what the model tests load. */
export const A_FILE_PER_ARCH: readonly (readonly [Arch, string])[] = [
  ['vgg16', 'vgg16.safetensors'],
  ['vgg16_bn', 'vgg16_bn.legacy.pth'],
  ['resnet18', 'resnet18.pth'],
];

interface Manifest {
  generator: string;
  models: Record<Arch, { files: string[]; head: string; expected: string }>;
}

export function python(args: string[]): string {
  const run = spawnSync(TORCH_PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 900_000 });
  if (run.error || run.status !== 0) {
    throw new Error(
      `${TORCH_PYTHON} ${SCRIPT} ${args.join(' ')} failed (the model tests need Debian's PyTorch and torchvision: ` +
        `apt-get install -y python3-torch python3-torchvision):\n${run.error?.message ?? run.stderr}`,
    );
  }
  return run.stdout;
}

export function ensureModelFixtures(): Manifest {
  const path = `${MODELS_DIR}manifest.json`;
  const generator = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex');
  const current = (): Manifest | undefined => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : undefined);
  if (current()?.generator !== generator) python([GENERATED]);
  return current()!;
}

/** Inputs and PyTorch's outputs for one architecture (float64 reference values, read as float32). */
export async function expectedOutputs(arch: Arch): Promise<Map<string, { shape: readonly number[]; data: Float32Array | BigInt64Array }>> {
  const file = await openWeightsFile(`${MODELS_DIR}${arch}.expected.safetensors`);
  const out = new Map<string, { shape: readonly number[]; data: Float32Array | BigInt64Array }>();
  for (const [name, entry] of file.entries) {
    out.set(name, { shape: entry.shape, data: entry.dtype === 'I64' ? ((await file.readRaw(name)) as BigInt64Array) : await file.read(name) });
  }
  await file.close();
  return out;
}
