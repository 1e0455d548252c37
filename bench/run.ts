// The benchmark suite: kernels and training steps of our engine next to tfjs-backend-webgpu on the
// same adapter in one process (and PyTorch where installed), with the step invariants and the
// expected memory of each step. Writes bench/results/bench-<adapter>-<time>.{json,md}. Options: USAGE.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { initNode, adapterLabel, engineEnvironment } from '../src/node.js';
import type { GpuContext } from '../src/runtime/context.js';
import type { TfjsPeer } from './peers/tfjs.js';
import { initTfjsWebGPU } from './peers/tfjs-node.js';
import { runTorchCpu, type TorchResult } from './peers/torch.js';
import { adapterLine, halfRange } from './util/timing.js';
import { errorLine } from './util/error-line.js';
import { describeSourceVersion, sourceVersion, type SourceVersion } from '../src/runtime/source-version.js';
import { adapterSlug } from './util/node-gpu.js';
import { kernelCases, runKernelCase, type KernelResult } from './kernels.js';
import { stepName, stepShape, type StepSpec } from './train-step.js';
import { raceSteps, type StepRaceResult } from './step-race.js';
import { describeCeilings, measureCeilings, shareOfCeiling, type Ceilings } from '../src/kernels/ceiling.js';

const USAGE = `npm run bench -- [options]            (WGT_ADAPTER=lavapipe | swiftshader | <name> picks the adapter)
  --quick               fewer shapes and samples: a few minutes on a software adapter
  --only REGEX          only benchmarks whose "name shape" matches, e.g. 'train\\.smallvgg' or 'conv2d'
  --reps N              kernel samples (default 5, quick 2)       --train-reps N   step samples (default 3, quick 2)
  --vgg16-size N        VGG16 input size (default 64 on a software adapter, 224 on a GPU)
  --vgg16-batch N       VGG16 batch (default 4 on a software adapter, 32 on a GPU)
  --no-tfjs             ours only
  --tune-kernels        our steps time the convolution tiles per layer first (as cudnn.benchmark; GPUs only)
  --torch               also PyTorch on the CPU (bench/peers/torch_cpu.py), where Python has torch
  --torch-json FILE     PyTorch figures measured elsewhere (bench/gpu/torch_steps.py, e.g. CUDA)
  --out DIR             where results go (default bench/results)
  -h, --help            this text`;

/** A mistake on the command line: printed with USAGE, no stack. */
class UsageError extends Error {}

/** VGG16's step: 64x64 batch 4 on a software adapter, 224x224 batch 32 on a GPU, unless told. */
function vgg16Step(o: Options, hardware: boolean): { size: number; batch: number } {
  return { size: o.vgg16Size ?? (hardware ? 224 : 64), batch: o.vgg16Batch ?? (hardware ? 32 : 4) };
}

interface Options {
  quick: boolean;
  only: RegExp | null;
  reps: number;
  trainReps: number;
  vgg16Size: number | null;
  vgg16Batch: number | null;
  tfjs: boolean;
  tuneKernels: boolean;
  torch: boolean;
  torchJson: string | null;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { quick: false, only: null, reps: 0, trainReps: 0, vgg16Size: null, vgg16Batch: null, tfjs: true, tuneKernels: false, torch: false, torchJson: null, out: 'bench/results' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const count = (): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} needs a positive integer`);
      return v;
    };
    if (flag === '--quick') o.quick = true;
    else if (flag === '--only') o.only = new RegExp(value(), 'i');
    else if (flag === '--reps') o.reps = count();
    else if (flag === '--train-reps') o.trainReps = count();
    else if (flag === '--vgg16-size') o.vgg16Size = count();
    else if (flag === '--vgg16-batch') o.vgg16Batch = count();
    else if (flag === '--no-tfjs') o.tfjs = false;
    else if (flag === '--tune-kernels') o.tuneKernels = true;
    else if (flag === '--torch') o.torch = true;
    else if (flag === '--torch-json') o.torchJson = value();
    else if (flag === '--out') o.out = value();
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new UsageError(`unknown option ${flag}`);
  }
  o.reps ||= o.quick ? 2 : 5;
  o.trainReps ||= o.quick ? 2 : 3;
  return o;
}

export interface TrainResult extends StepRaceResult {
  load1: number;
}

const load1 = () => Math.round(loadavg()[0]! * 100) / 100;
const processCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function trainSpecs(o: Options, hardware: boolean): StepSpec[] {
  const { size, batch } = vgg16Step(o, hardware);
  const specs: StepSpec[] = [];
  for (const frozenBase of [false, true]) specs.push({ model: 'smallvgg', batch: 32, size: 32, classes: 2, frozenBase });
  for (const frozenBase of [false, true]) specs.push({ model: 'vgg16', batch, size, classes: 2, frozenBase });
  // torchvision's own VGG16 (25088-input classifier at any size), ours only: the memory check, and
  // the recipe's transfer step (`train` trains the head alone) beside its full step.
  if (!o.quick) {
    for (const headOnly of [false, true]) specs.push({ model: 'vgg16-torchvision', batch, size, classes: 2, frozenBase: headOnly, headOnly });
  }
  return specs;
}

// ---------------------------------------------------------------------------------------------
// Report

const f = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(digits);
/** A median with its samples' spread, "125 ±4%" (no spread from fewer than two samples). */
const withSpread = (x: number | null | undefined, samples: readonly number[], digits = 2): string => {
  const spread = halfRange(samples);
  return x === null || x === undefined || spread === null ? f(x, digits) : `${f(x, digits)} ±${(100 * spread).toFixed(0)}%`;
};
const mib = (b: number | null | undefined) => (b === null || b === undefined || !Number.isFinite(b) ? '-' : (b / 2 ** 20).toFixed(0));
const ratio = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`);

interface Report {
  meta: Record<string, unknown> & SourceVersion & { adapterLine: string; tfjsAdapterLine: string | null };
  /** What the adapter does at best (src/kernels/ceiling.ts), measured at the start of the run; null if that failed. */
  ceilings: Ceilings | null;
  kernels: KernelResult[];
  train: TrainResult[];
  torch: { source: string; version: string; device: string; results: TorchResult[] } | null;
}

function torchRate(report: Report, name: string, shape: string): string {
  const r = report.torch?.results.find((t) => t.name === name && t.shape === shape);
  if (!r) return '-';
  if (r.error) return 'failed';
  return r.imagesPerSec != null ? f(r.imagesPerSec) : r.gflops != null ? f(r.gflops) : r.gbps != null ? f(r.gbps) : '-';
}

export function markdown(report: Report): string {
  const m = report.meta;
  const lines: string[] = [];
  lines.push(`## webgpu-transfer benchmarks, ${String(m.date).slice(0, 16).replace('T', ' ')} UTC`, '');
  lines.push(`- adapter (ours): ${m.adapterLine}`);
  if (m.tfjsAdapterLine) lines.push(`- adapter (tfjs-backend-webgpu ${m.tfjsVersion}): ${m.tfjsAdapterLine}`);
  lines.push(`- ${describeSourceVersion(m)}; Node ${m.node}; ${m.cpus} CPUs; load average at start ${m.loadAtStart}`);
  lines.push(`- configuration: ${m.configuration}`);
  if (report.ceilings) lines.push(`- this adapter's ceilings, measured at the start (src/kernels/ceiling.ts): ${describeCeilings(report.ceilings)}`);
  if (report.torch) lines.push(`- PyTorch ${report.torch.version} on ${report.torch.device} (${report.torch.source})`);
  else if (m.torchFailure) lines.push(`- PyTorch: ${m.torchFailure}`);
  lines.push('');
  if (report.train.length) {
    lines.push('### Training steps (forward, backward, SGD momentum update)', '');
    lines.push('| step | batch | ours img/s | tfjs img/s | ours / tfjs | CPU s/step ours, tfjs | ours / tfjs (CPU) | PyTorch img/s | ours peak MiB | tfjs peak MiB | expected MiB (+ working set) | ours / expected | submits, buffers created, bind groups created, readbacks per step | load |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
    for (const t of report.train) {
      const inv = t.invariants
        ? `${f(t.invariants.submitsPerStep)}, ${f(t.invariants.buffersCreatedPerStep)}, ${f(t.invariants.bindGroupsCreatedPerStep)}, ${f(t.invariants.readbacksPerStep)}`
        : '-';
      const err = t.error ? ` **error: ${t.error.replace(/\|/g, '/')}**` : t.tfjsError ? ` (tfjs failed: ${t.tfjsError.replace(/\|/g, '/').slice(0, 160)})` : '';
      lines.push(
        `| ${t.name}${err} | ${t.shape} | ${withSpread(t.oursImagesPerSec, t.oursSamplesMs)} | ${withSpread(t.tfjsImagesPerSec, t.tfjsSamplesMs)} | ${ratio(t.speedup)} | ` +
          `${f(t.oursCpuMs === null ? null : t.oursCpuMs / 1000)}, ${f(t.tfjsCpuMs === null ? null : t.tfjsCpuMs / 1000)} | ${ratio(t.cpuSpeedup)} | ${torchRate(report, t.name, t.shape)} | ` +
          `${mib(t.oursPeakBytes)} | ${mib(t.tfjsPeakBytes)} | ${mib(t.expected.expected)} (+${mib(t.expected.workingSet)}) | ${t.oursPeakBytes ? ratio(t.oursPeakBytes / t.expected.expected) : '-'} | ${inv} | ${t.load1} |`,
      );
    }
    const pairs = new Map<string, { full?: TrainResult; frozen?: TrainResult }>();
    for (const t of report.train) {
      const key = `${t.name.replace(/\.(full|frozenBase|headOnly)$/, '')} ${t.shape}`;
      const pair = pairs.get(key) ?? pairs.set(key, {}).get(key)!;
      if (t.name.endsWith('.full')) pair.full = t;
      else pair.frozen = t;
    }
    const both = [...pairs].filter(([, { full, frozen }]) => full && frozen); // a selection may hold one of the two
    if (both.length) lines.push('', '| frozen-base (or head-only) step / full step (wall time) | ours | tfjs |', '|---|---:|---:|');
    for (const [key, { full, frozen }] of both) {
      const r = (a: number | null, b: number | null) => (a && b ? `${((100 * a) / b).toFixed(0)}%` : '-');
      lines.push(`| ${key} | ${r(frozen!.oursMs, full!.oursMs)} | ${r(frozen!.tfjsMs, full!.tfjsMs)} |`);
    }
    lines.push('');
    for (const t of report.train.filter((t) => t.tuned)) {
      lines.push(`Convolution tiles tuned for ${t.name} ${t.shape} (chosen tile, or direct or Winograd, its time, then the others'):`, '');
      lines.push(...t.tuned!.map((line) => `- ${line}`), '');
    }
  }
  if (report.kernels.length) {
    lines.push('### Kernels', '');
    lines.push('| kernel | shape (NCHW) | ours ms | ours rate | ours, of ceiling | tfjs ms | tfjs rate | tfjs, of ceiling | ours / tfjs | PyTorch rate | samples ours, tfjs | load | notes |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const k of report.kernels) {
      const note = k.error ? `**error: ${k.error}**` : k.tfjsError ? `tfjs failed: ${k.tfjsError.slice(0, 160)}` : '';
      lines.push(
        `| ${k.name} | ${k.shape} | ${withSpread(k.oursMs, k.oursSamplesMs, 1)} | ${f(k.oursRate)} ${k.unit} | ${shareOfCeiling(report.ceilings, k.oursRate, k.unit) ?? '-'} | ` +
          `${withSpread(k.tfjsMs, k.tfjsRoundMedianMs, 1)} | ${k.tfjsRate === null ? '-' : `${f(k.tfjsRate)} ${k.unit}`} | ${shareOfCeiling(report.ceilings, k.tfjsRate, k.unit) ?? '-'} | ` +
          `${ratio(k.speedup)} | ${torchRate(report, k.name, k.shape)} | ${k.oursSamplesMs.length}, ${k.tfjsRoundMedianMs.length * k.perRound} | ${k.load1} | ${note.replace(/\|/g, '/')} |`,
      );
    }
    lines.push('');
  }
  const memory = report.train.filter((t) => t.name.includes('vgg16') && t.name.endsWith('.full'));
  if (memory.length) {
    lines.push('### Memory of a VGG16 fine-tune step (MiB)', '');
    lines.push('| step | parameters | gradients | momentum | saved activations (if ReLU saved its input) | batch | expected | working set | ours peak | tfjs peak |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const t of memory) {
      const e = t.expected;
      lines.push(
        `| ${t.name} ${t.shape} | ${mib(e.parameters)} | ${mib(e.gradients)} | ${mib(e.optimizerState)} | ${mib(e.savedActivations)} (${mib(e.savedActivationsReluInput)}) | ` +
          `${mib(e.batch)} | ${mib(e.expected)} | ${mib(e.workingSet)} | ${mib(t.oursPeakBytes)} | ${mib(t.tfjsPeakBytes)} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const loadAtStart = loadavg().map((x) => x.toFixed(1)).join(' ');
  const ctx = await initNode();
  const hardware = !ctx.adapter.isSoftware;
  let peer: TfjsPeer | null = null;
  let tfjsFailure: string | null = null; // asked for and missing: the report says so, not "no tfjs"
  if (o.tfjs) {
    try {
      peer = await initTfjsWebGPU();
    } catch (e) {
      tfjsFailure = errorLine(e);
      console.error(`tfjs-backend-webgpu unavailable: ${tfjsFailure}`);
    }
  }
  const wanted = (name: string, shape: string) => !o.only || o.only.test(`${name} ${shape}`);
  const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${line}`);
  console.error(`adapter (ours): ${adapterLabel(ctx.adapter)}`);
  if (peer) console.error(`adapter (tfjs): ${peer.adapter.description || peer.adapter.device}`);

  const specs = trainSpecs(o, hardware).filter((s) => wanted(stepName(s), stepShape(s)));
  const cases = kernelCases({ quick: o.quick, hardware }).filter((c) => wanted(c.name, c.shape));
  const report: Report = {
    meta: {
      date: new Date().toISOString(),
      ...sourceVersion(),
      node: process.version,
      cpus: cpus().length,
      loadAtStart,
      adapter: ctx.adapter,
      adapterLine: adapterLine({ ...ctx.adapter, limits: ctx.adapter.limits }),
      tfjsAdapterLine: peer ? adapterLine(peer.adapter) : null,
      tfjsVersion: peer?.tfjsVersion ?? null,
      configuration:
        `${o.quick ? 'quick, ' : ''}${o.reps} rounds of kernel samples, ${o.trainReps} step samples (medians, ± half their range; ours and tfjs alternating; tfjs's kernel spread is between its rounds' medians), fp32, SGD lr 0.01 momentum 0.9, 2 classes` +
        `${o.only ? `, only /${o.only.source}/` : ''}${peer ? '' : tfjsFailure ? `, tfjs failed to start (${tfjsFailure})` : ', no tfjs'}${o.tuneKernels ? ', our convolution tiles tuned per layer before the steps' : ''}` +
        `${ctx.convTile ? `, our convolution tile forced to ${ctx.convTile.channels}x${ctx.convTile.pixels}x${ctx.convTile.depth}` : ''}` +
        `${ctx.convOrder === 'plain' ? ', our tiled convolution in the plain reduction order (WGT_CONV_ORDER=plain)' : ''}` +
        `${ctx.convAlgorithm !== 'direct' ? `, our 3x3 stride-1 convolutions: ${ctx.convAlgorithm === 'winograd' ? 'Winograd F(2x2, 3x3)' : 'direct or Winograd, the faster per layer when tuned'}` : ''}` +
        `${engineEnvironment(ctx.adapter).length ? `, environment ${engineEnvironment(ctx.adapter).join(' ')}` : ''}`,
      options: { ...o, only: o.only?.source ?? null },
    },
    ceilings: null,
    kernels: [],
    train: [],
    torch: null,
  };

  const slug = adapterSlug(ctx.adapter as unknown as GPUAdapterInfo);
  const stamp = String(report.meta.date).replace(/[:.]/g, '-').slice(0, 19);
  const dir = resolve(o.out);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `bench-${slug}-${stamp}`);
  // Written after every benchmark: a run stopped by a time limit (the GPU script) keeps what it measured.
  const save = () => {
    writeFileSync(`${base}.json`, `${JSON.stringify({ ...report, totalSeconds: (performance.now() - started) / 1000 }, null, 2)}\n`);
    writeFileSync(`${base}.md`, `${markdown(report)}\n`);
  };

  if (o.torchJson) {
    const t = JSON.parse(readFileSync(o.torchJson, 'utf8')) as { torchVersion: string; device: string; results: TorchResult[] };
    report.torch = { source: o.torchJson, version: t.torchVersion, device: t.device, results: t.results };
  }
  log('the adapter\'s ceilings ...');
  try {
    report.ceilings = await measureCeilings(ctx);
    log(`  ${describeCeilings(report.ceilings)}`);
  } catch (e) {
    report.meta.ceilingFailure = errorLine(e);
    log(`  failed: ${report.meta.ceilingFailure}`);
  }
  for (const spec of specs) {
    log(`${stepName(spec)} ${stepShape(spec)} ...`);
    const r: TrainResult = { ...(await raceSteps(ctx, peer, spec, { reps: o.trainReps, tuneKernels: o.tuneKernels, cpuClock: processCpuMs })), load1: load1() };
    report.train.push(r);
    save();
    log(`  ours ${f(r.oursImagesPerSec)} img/s, tfjs ${f(r.tfjsImagesPerSec)} img/s (${ratio(r.speedup)}; CPU time ${ratio(r.cpuSpeedup)}); peak ${mib(r.oursPeakBytes)} vs ${mib(r.tfjsPeakBytes)} MiB` +
      `${r.invariants ? `; ${f(r.invariants.submitsPerStep)} submit(s), ${f(r.invariants.buffersCreatedPerStep)} buffers created, ${f(r.invariants.bindGroupsCreatedPerStep)} bind groups created, ${f(r.invariants.readbacksPerStep)} readbacks per step` : ''}` +
      `${r.error ? `; ERROR ${r.error}` : ''}${r.tfjsError ? `; tfjs: ${r.tfjsError}` : ''}`);
  }
  for (const c of cases) {
    log(`${c.name} ${c.shape} ...`);
    const r = await runKernelCase(ctx, c, peer, o.reps, load1);
    report.kernels.push(r);
    save();
    log(`  ours ${f(r.oursMs, 1)} ms ${f(r.oursRate)} ${r.unit}, tfjs ${f(r.tfjsMs, 1)} ms (${ratio(r.speedup)})${r.error ? `; ERROR ${r.error}` : ''}${r.tfjsError ? `; tfjs: ${r.tfjsError}` : ''}`);
  }
  if (o.torch && !o.torchJson) {
    const vgg16 = vgg16Step(o, hardware);
    const t = await runTorchCpu({ ...(o.only ? { only: o.only.source } : {}), reps: o.reps, trainReps: o.trainReps, vgg16Size: vgg16.size, vgg16Batch: vgg16.batch });
    if (t) report.torch = { source: 'bench/peers/torch_cpu.py', version: t.torchVersion, device: `CPU (${t.threads} threads, BLAS ${t.blas})`, results: t.results };
    else {
      report.meta.torchFailure = 'asked for (--torch), but it did not run (no torch for this Python, or it failed: its output is in the log)';
      console.error(`PyTorch: ${report.meta.torchFailure}: no reference column`);
    }
  }

  save();
  const md = markdown(report);
  console.log(md);
  console.error(`wrote ${base}.json and .md (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().then(
  () => process.exit(0), // tfjs keeps timers alive; the results are written
  (e) => {
    console.error(e instanceof UsageError ? `bench: ${e.message}\n\n${USAGE}` : e);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
