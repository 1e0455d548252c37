// Weight files written by PyTorch itself (scripts/fixtures/make_weight_files.py), generated on
// first use and again whenever the script changes. PyTorch is required: without it these tests
// fail with the install hint rather than skip, so a CI missing it cannot pass by accident.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { DType, RawTensorData } from '../../src/models/formats/dtype.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import type { WeightFile } from '../../src/models/formats/weight-file.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../scripts/fixtures/make_weight_files.py', import.meta.url));
export const WEIGHTS_DIR = fileURLToPath(new URL('../fixtures/generated/weights/', import.meta.url));

export interface ExpectedTensor {
  readonly dtype: DType;
  readonly shape: number[];
  /** int64 as decimal strings; everything else as exact numbers. */
  readonly values: (number | string)[];
}
export type ExpectedFile = Record<string, ExpectedTensor>;

function python(args: string[]): string {
  const run = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.error || run.status !== 0) {
    throw new Error(
      `${PYTHON} ${args.join(' ')} failed (the weight-format tests need Debian's PyTorch: ` +
        `apt-get install -y python3-torch):\n${run.error?.message ?? run.stderr}`,
    );
  }
  return run.stdout;
}

/** Generates the fixtures when missing or made by another version of the script; returns expected.json. */
export function ensureWeightFixtures(): Record<string, ExpectedFile> {
  const expectedPath = `${WEIGHTS_DIR}expected.json`;
  const generator = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex');
  const current = () => existsSync(expectedPath) && JSON.parse(readFileSync(expectedPath, 'utf8'));
  if (current()?.generator !== generator) python([SCRIPT, WEIGHTS_DIR]);
  return current().files;
}

/** The tensors as PyTorch reads the file (torch.load for .pth, the script's own parser for safetensors). */
export function dumpWithPyTorch(path: string): ExpectedFile {
  return JSON.parse(python([SCRIPT, '--dump', path]));
}

export function openFixture(name: string): Promise<WeightFile> {
  return openWeightsFile(WEIGHTS_DIR + name);
}

/** Exact comparison of every tensor: names in order, dtype, shape, raw values and float32 values. */
export async function expectTensors(file: WeightFile, expected: ExpectedFile): Promise<void> {
  expect([...file.entries.keys()]).toEqual(Object.keys(expected));
  for (const [name, want] of Object.entries(expected)) {
    const entry = file.entries.get(name)!;
    expect({ name, dtype: entry.dtype, shape: entry.shape }).toEqual({ name, dtype: want.dtype, shape: want.shape });
    expect({ name, raw: rawValues(entry.dtype, await file.readRaw(name)) }).toEqual({ name, raw: rawExpected(want) });
    const asFloat32 = want.values.map((v) => Math.fround(Number(v)));
    expect({ name, f32: Array.from(await file.read(name)) }).toEqual({ name, f32: asFloat32 });
  }
}

/** F16/BF16 are compared through read() (their raw form is bit patterns); the rest exactly. */
function rawValues(dtype: DType, raw: RawTensorData): (number | string)[] | 'bits' {
  if (dtype === 'F16' || dtype === 'BF16') return 'bits';
  return Array.from(raw as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v));
}

function rawExpected(want: ExpectedTensor): (number | string)[] | 'bits' {
  return want.dtype === 'F16' || want.dtype === 'BF16' ? 'bits' : want.values;
}
