/**
 * PyTorch-on-CPU scale reference: spawns bench/peers/torch_cpu.py (Debian's
 * /usr/bin/python3 with python3-torch) and parses its JSON. Returns null when
 * Python or torch is missing, or the script fails.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerResult } from './tfjs.js';

/** One case of the PyTorch scripts' JSON: the fields of a tfjs case, bar tfjs's memory and load. */
export type TorchResult = Omit<PeerResult, 'memory' | 'loadAvg1'>;

export interface TorchReport {
  torchVersion: string;
  threads: number;
  cpu: string;
  cpuCount: number;
  /** torch's BLAS_INFO ('generic' = reference BLAS: torch.mm is slow; see matmul.onednn). */
  blas: string;
  loadAvgAtEnd: number[];
  results: TorchResult[];
}

export interface TorchOptions {
  /** Python interpreter. Default: $WGT_PYTHON, else /usr/bin/python3 (Debian's, which has torch), else python3. */
  python?: string;
  reps?: number;
  trainReps?: number;
  threads?: number;
  skipVgg16?: boolean;
  skipFc?: boolean;
  only?: string;
  /** VGG16's step at this input size and batch (the script's default: 64, 4). */
  vgg16Size?: number;
  vgg16Batch?: number;
  /** Kill the script after this long. Default 20 min. */
  timeoutMs?: number;
  /** Forward the script's progress lines (stderr). Default true. */
  progress?: boolean;
}

export const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torch_cpu.py');

/** Runs torch_cpu.py; null when torch is unavailable or the run fails (the reason goes to stderr). */
export async function runTorchCpu(o: TorchOptions = {}): Promise<TorchReport | null> {
  const python = o.python ?? process.env.WGT_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const args = [TORCH_SCRIPT];
  if (o.reps !== undefined) args.push('--reps', String(o.reps));
  if (o.trainReps !== undefined) args.push('--train-reps', String(o.trainReps));
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  if (o.skipVgg16) args.push('--skip-vgg16');
  if (o.skipFc) args.push('--skip-fc');
  if (o.only !== undefined) args.push('--only', o.only);
  if (o.vgg16Size !== undefined) args.push('--vgg16-size', String(o.vgg16Size));
  if (o.vgg16Batch !== undefined) args.push('--vgg16-batch', String(o.vgg16Batch));
  return new Promise((resolveP) => {
    let stdout = '';
    let stderrTail = '';
    let child;
    try {
      child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      console.error(`torch reference: cannot start ${python}: ${(e as Error).message}`);
      resolveP(null);
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20 * 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      stderrTail = (stderrTail + s).slice(-2000);
      if (o.progress ?? true) process.stderr.write(s);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      console.error(`torch reference: ${python} failed to run: ${e.message}`);
      resolveP(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as Partial<TorchReport> & { error?: string };
        if (code !== 0 || parsed.error || !Array.isArray(parsed.results)) {
          console.error(`torch reference unavailable (exit ${code}): ${parsed.error ?? stderrTail.slice(-300)}`);
          resolveP(null);
          return;
        }
        resolveP(parsed as TorchReport);
      } catch {
        console.error(`torch reference: no JSON (exit ${code}): ${stderrTail.slice(-300)}`);
        resolveP(null);
      }
    });
  });
}
