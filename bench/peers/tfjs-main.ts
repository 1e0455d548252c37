/**
 * tfjs-backend-webgpu peer benchmarks on the current adapter (WGT_ADAPTER):
 * prints Markdown tables and writes bench/results/tfjs-<adapter>.json.
 *
 *   npx tsx bench/peers/tfjs-main.ts [options]
 *     WGT_ADAPTER=lavapipe|swiftshader|<name substring>   adapter (default: Dawn's choice)
 *     --reps N          timed samples per kernel (default 5; 3 on SwiftShader)
 *     --warmup N        untimed kernel runs, the first one inside error scopes (default 2; 1 on SwiftShader)
 *     --train-reps N    timed training steps (default 3; 2 on SwiftShader)
 *     --skip-vgg16      skip the VGG16 training steps (default on SwiftShader)
 *     --vgg16           run them even on SwiftShader
 *     --skip-fc         skip the 4x25088 @ 25088x4096 matmul
 *     --only REGEX      only benchmarks whose name or shape matches
 *     --torch           also run bench/peers/torch_cpu.py (PyTorch CPU reference)
 *     --out FILE        JSON path (default bench/results/tfjs-<adapter>.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { adapterSlug } from '../util/node-gpu.js';
import { adapterLine } from '../util/timing.js';
import { markdownTable } from './format.js';
import { runTfjsSuite, type BenchOpts } from './tfjs.js';
import { initTfjsWebGPU } from './tfjs-node.js';
import { runTorchCpu } from './torch.js';

function parseArgs(argv: string[]) {
  const a = {
    reps: undefined as number | undefined,
    warmup: undefined as number | undefined,
    trainReps: undefined as number | undefined,
    skipVgg16: undefined as boolean | undefined,
    skipFc: false,
    only: undefined as RegExp | undefined,
    torch: false,
    out: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${k} needs a value`);
      return v;
    };
    if (k === '--reps') a.reps = Number(next());
    else if (k === '--warmup') a.warmup = Number(next());
    else if (k === '--train-reps') a.trainReps = Number(next());
    else if (k === '--skip-vgg16') a.skipVgg16 = true;
    else if (k === '--vgg16') a.skipVgg16 = false;
    else if (k === '--skip-fc') a.skipFc = true;
    else if (k === '--only') a.only = new RegExp(next(), 'i');
    else if (k === '--torch') a.torch = true;
    else if (k === '--out') a.out = next();
    else throw new Error(`unknown option ${k}`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const loadAvgAtStart = loadavg();
  const peer = await initTfjsWebGPU();
  const slug = adapterSlug({
    vendor: peer.adapter.vendor,
    architecture: peer.adapter.architecture,
    device: peer.adapter.device,
    description: peer.adapter.description,
  } as GPUAdapterInfo);
  const slow = slug === 'swiftshader';
  const skipVgg16 = args.skipVgg16 ?? slow;
  const kernel: BenchOpts = { warmup: args.warmup ?? (slow ? 1 : 2), reps: args.reps ?? (slow ? 3 : 5), budgetMs: slow ? 15_000 : 20_000 };
  const train: BenchOpts = { warmup: 1, reps: args.trainReps ?? (slow ? 2 : 3), budgetMs: slow ? 120_000 : 90_000 };

  console.log(`# tfjs-backend-webgpu ${peer.tfjsVersion} on Dawn (Node ${process.version})`);
  console.log(`Adapter: ${adapterLine(peer.adapter)}`);
  console.log(`WGT_ADAPTER=${peer.requestedAdapter ?? '<unset>'}; kernel reps ${kernel.reps}, train reps ${train.reps}; ${cpus().length} CPUs, load average ${loadAvgAtStart.map((x) => x.toFixed(1)).join(' ')}` +
    `${skipVgg16 ? '; VGG16 training steps SKIPPED (--vgg16 to run them)' : ''}${args.skipFc ? '; FC matmul skipped' : ''}\n`);

  const results = await runTfjsSuite(peer, {
    kernel,
    train,
    skipVgg16,
    skipFc: args.skipFc,
    load: () => Math.round(loadavg()[0]! * 100) / 100,
    ...(args.only ? { only: args.only } : {}),
    onResult: (r, sec) => {
      const rate = r.error ? `FAILED: ${r.error}` : r.imagesPerSec != null ? `${r.imagesPerSec.toFixed(2)} img/s`
        : r.gflops != null ? `${r.gflops.toFixed(2)} GFLOP/s` : r.gbps != null ? `${r.gbps.toFixed(2)} GB/s` : '';
      console.error(`  [${sec.toFixed(1)} s] ${r.name} ${r.shape}: ${r.medianMs?.toFixed(2) ?? '-'} ms ${rate}`);
    },
  });

  console.log(`## tfjs-backend-webgpu on ${slug}\n`);
  console.log(markdownTable(results));

  let torch: Awaited<ReturnType<typeof runTorchCpu>> = null;
  if (args.torch) {
    torch = await runTorchCpu({ skipFc: args.skipFc, ...(args.only ? { only: args.only.source } : {}), ...(args.reps ? { reps: args.reps } : {}) });
    if (torch) {
      console.log(`\n## PyTorch ${torch.torchVersion} on the CPU (${torch.threads} threads, BLAS ${torch.blas}), scale reference\n`);
      console.log(markdownTable(torch.results));
    } else {
      console.log('\n(PyTorch not available: no CPU reference)');
    }
  }

  const out = resolve(args.out ?? `bench/results/tfjs-${slug}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        peer: 'tfjs-backend-webgpu',
        tfjsVersion: peer.tfjsVersion,
        node: process.version,
        date: new Date().toISOString(),
        requestedAdapter: peer.requestedAdapter ?? null,
        adapterSlug: slug,
        adapter: peer.adapter,
        options: { kernel, train, skipVgg16, skipFc: args.skipFc, only: args.only?.source ?? null },
        results,
        torch,
        cpus: cpus().length,
        loadAvgAtStart,
        loadAvgAtEnd: loadavg(),
        totalSeconds: (performance.now() - t0) / 1000,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nWrote ${out} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
