// Node only: writes a profile's Chrome trace (see profile.ts) to a file.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ChromeTrace } from './profile.js';
import type { CompiledKernel } from '../runtime/pipelines.js';

/** Writes `trace` as JSON; chrome://tracing and https://ui.perfetto.dev open the file. */
export async function writeChromeTrace(path: string, trace: ChromeTrace): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(trace));
}

/**
 * Writes each kernel's WGSL into `dir`, one file per kernel in the order of first use
 * (`07-conv2d.forward.blocked.relu.wgsl`), headed by what it is and what compiling it took: the
 * code a step ran, specialised for its layer's shape and this adapter. Returns the paths.
 */
export async function writeKernelSources(dir: string, kernels: readonly CompiledKernel[], adapter: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const digits = String(kernels.length).length;
  return Promise.all(
    kernels.map(async (kernel, i) => {
      const path = join(dir, `${String(i + 1).padStart(digits, '0')}-${kernel.name}.wgsl`);
      const header = [
        `// ${kernel.name}: workgroup size ${kernel.workgroupSize.join('x')}`,
        `// createComputePipeline took ${kernel.compileMs.toFixed(1)} ms on ${adapter}`,
      ];
      await writeFile(path, `${header.join('\n')}\n${kernel.code.trimStart()}`);
      return path;
    }),
  );
}
