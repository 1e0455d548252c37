// The benchmark page (web/bench.html), built statically and run in headless Chromium on the
// adapter Chromium gives it (SwiftShader on a machine without a GPU), the way a person would run
// it from a browser; its JSON report, the one "Download the results" saves, goes to --out.
//   npx tsx bench/page.ts --out DIR [--steps smallvgg,vgg16] [--size 64 --batch 4] [--reps 3]
//                         [--kernels REGEX] [--profile] [--ceiling] [--no-tfjs]
// --steps: which models' full and frozen-base steps (default smallvgg); --size/--batch: VGG16's
// input (default 64 and 4, the software adapters' size); --kernels: the bench's kernels whose
// "name shape" matches; --profile: each of our steps profiled kernel by kernel too; --ceiling: the
// adapter's ceilings measured first (src/kernels/ceiling.ts), rates given as shares of them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium } from '../src/testing/index.js';
import { openPage, startPreviewOfBuild, withPageErrors } from '../test/browser/harness.js';
import type { StepSpec } from './train-step.js';
import type { BenchOptions, PageReport } from '../web/bench.js';
import { describeCeilings } from '../src/kernels/ceiling.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = option('out');
if (!out) throw new Error('bench/page.ts: --out DIR is required (where bench.json goes)');
const size = Number(option('size') ?? 64);
const batch = Number(option('batch') ?? 4);
const specs: StepSpec[] = (option('steps') ?? 'smallvgg').split(',').flatMap((model) =>
  [false, true].map((frozenBase): StepSpec =>
    model === 'vgg16' ? { model: 'vgg16', batch, size, classes: 2, frozenBase } : { model: 'smallvgg', batch: 32, size: 32, classes: 2, frozenBase },
  ),
);
const options: BenchOptions = { specs, reps: Number(option('reps') ?? 3), tfjs: !args.includes('--no-tfjs'), profile: args.includes('--profile'), ceiling: args.includes('--ceiling'), kernels: option('kernels') };

const server = await startPreviewOfBuild();
const chromium = await launchChromium();
try {
  const { page, errors } = await openPage(chromium.browser, `${server.url}bench.html`);
  await page.waitForFunction(() => window.wgtBench !== undefined, { timeout: 60_000 });
  const ready = await page.evaluate(() => window.wgtBench.ready);
  if (!ready.ok) throw new Error(withPageErrors(`Chromium gave the page no WebGPU adapter: ${ready.error}`, errors));
  const report: PageReport = await page.evaluate((o) => window.wgtBench.run(o), options);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`${report.meta.adapterLine}; commit ${report.meta.commit}${report.meta.dirty ? ' (with uncommitted changes)' : ''}`);
  if (report.ceilings) console.log(`ceilings: ${describeCeilings(report.ceilings)}`);
  for (const r of report.train) console.log(`${r.name} ${r.shape}: ours ${r.oursImagesPerSec?.toFixed(2)} img/s, tfjs ${r.tfjsImagesPerSec?.toFixed(2) ?? '-'}${r.error ? `; ${r.error}` : ''}`);
  for (const p of report.profiles) {
    console.log(`profile ${p.label} (${p.mode}): ${p.gpuMsPerStep?.toFixed(1) ?? '-'} ms of kernels per step`);
    for (const k of p.kernels.filter((row) => row.gflops !== null)) console.log(`  ${k.phase} ${k.name}: ${k.msPerStep?.toFixed(1)} ms/step, ${k.gflops!.toFixed(2)} GFLOP/s`);
  }
  console.log(`wrote ${join(out, 'bench.json')}`);
} finally {
  await chromium.close();
  await server.close();
}
