import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reference fixtures computed by Debian's PyTorch in float64 (scripts/fixtures/*.py). They are
 * generated on first use into test/fixtures/generated/ (git-ignored); anyone can rerun the
 * scripts. A missing PyTorch fails the test loudly: CI installs it (scripts/setup-system.sh).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const generatedDir = join(root, 'test', 'fixtures', 'generated');
export const TORCH_PYTHON = process.env.WGT_TORCH_PYTHON ?? '/usr/bin/python3';

/**
 * Runs `scripts/fixtures/<script>` unless `output` exists and is newer than the script (an edited
 * script, e.g. a new case, regenerates), then returns its path.
 */
export function ensureGenerated(script: string, output: string): string {
  const path = join(generatedDir, output);
  const scriptPath = join(root, 'scripts', 'fixtures', script);
  if (existsSync(path) && statSync(path).mtimeMs >= statSync(scriptPath).mtimeMs) return path;
  const result = spawnSync(TORCH_PYTHON, [scriptPath, generatedDir], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(
      `fixture script ${script} failed (is python3-torch installed? run scripts/setup-system.sh):\n${result.stderr || result.error?.message}`,
    );
  }
  if (!existsSync(path)) throw new Error(`fixture script ${script} did not write ${output}`);
  return path;
}

/** A tensor as fixtures store it: shape and row-major values. */
export interface ArrayFixture {
  shape: number[];
  data: number[];
}

/** Loads a JSON fixture produced by `script`. */
export function loadFixture<T = unknown>(script: string, output: string): T {
  return JSON.parse(readFileSync(ensureGenerated(script, output), 'utf8')) as T;
}
