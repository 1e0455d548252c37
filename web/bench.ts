// The benchmark page: the training steps and kernels of `npm run bench` raced against
// tfjs-backend-webgpu's on this browser's adapter (bench/step-race.ts and bench/kernels.ts, the
// code the Node bench runs), for anyone with a GPU and a browser. A person clicks "Run"; a
// driver (test/browser/bench-page.test.ts) calls `window.wgtBench.run`. The results download as
// the bench's JSON, which bench/compare.ts reads.
import type * as TF from '@tensorflow/tfjs';
import { adapterLabel, describeCeilings, gflopsColumn, layerCosts, layerRows, LAYER_NUMERIC_COLUMNS, measureCeilings, profileTrainStep, shareOfCeiling, type Ceilings, type GpuContext, type LayerCost, type StepProfile } from '../src/index.js';
import { raceSteps, type StepRaceResult } from '../bench/step-race.js';
import { kernelCases, runKernelCase, type KernelResult } from '../bench/kernels.js';
import { ourStepParts, stepName, stepShape, type StepSpec } from '../bench/train-step.js';
import { peerOnCurrentBackend, type TfjsPeer } from '../bench/peers/tfjs.js';
import { adapterLine } from '../bench/util/timing.js';
import { showWebGpuStart, startWebGpu, type ReadyState } from './panels/adapter.js';
import { el, table } from './panels/dom.js';

export interface BenchOptions {
  specs: StepSpec[];
  /** Timed steps of each side, and rounds of each kernel. */
  reps: number;
  /**
   * The bench's kernels (bench/kernels.ts: matmul, conv2d's three passes, batch norm, max-pool,
   * augmentation on VGG16's shapes at batch 4) whose "name shape" this RegExp source matches.
   */
  kernels?: string;
  /** Race tfjs's steps beside ours (else ours alone). */
  tfjs: boolean;
  /**
   * Then profile each of our steps (train/profile.ts): every kernel's time per step and, for the
   * products, its GFLOP/s, from timestamp-query where the browser gives it.
   */
  profile?: boolean;
  /**
   * First measure what this adapter does at best (src/kernels/ceiling.ts: multiply-adds, a copy,
   * a read), and give the kernels' and the profiles' rates as shares of it.
   */
  ceiling?: boolean;
}

/** A step's profile as the report keeps it: the per-kernel and per-layer rows, not every timed dispatch. */
export type ProfileSummary = Omit<StepProfile, 'dispatches' | 'modules'> & { layers: LayerCost[] };

/** The bench's report shape (bench/run.ts), so that bench/compare.ts reads the page's too. */
export interface PageReport {
  meta: {
    date: string;
    /** The code the page was built from (bench/compare.ts prints it). */
    version: string;
    commit: string;
    dirty: boolean | null;
    adapterLine: string;
    tfjsAdapterLine: string | null;
    tfjsVersion: string | null;
    userAgent: string;
    reps: number;
  };
  /** The adapter's ceilings (BenchOptions.ceiling), measured first; null when not asked. */
  ceilings: Ceilings | null;
  kernels: KernelResult[];
  train: StepRaceResult[];
  /** Our steps profiled kernel by kernel (BenchOptions.profile); empty when not asked. */
  profiles: ProfileSummary[];
  torch: null;
}

/** What this page offers its driver. */
export interface PageBench {
  ready: Promise<ReadyState>;
  run(options: BenchOptions): Promise<PageReport>;
}

declare global {
  interface Window {
    wgtBench: PageBench;
  }
}

const form = document.querySelector<HTMLFormElement>('#cases')!;
const runButton = document.querySelector<HTMLButtonElement>('#run')!;
const status = document.querySelector<HTMLElement>('#status')!;
const started = startWebGpu();

const ready = showWebGpuStart(document.querySelector<HTMLElement>('#adapter')!, started).then((state) => {
  if (state.ok && state.adapter.isSoftware) {
    // VGG16 at 224x224, batch 32, takes minutes a step on the CPU: the bench's software-adapter size.
    (form.elements.namedItem('size') as HTMLInputElement).value = '64';
    (form.elements.namedItem('batch') as HTMLInputElement).value = '4';
  }
  runButton.disabled = !state.ok;
  return state;
});

let peer: Promise<TfjsPeer> | null = null;

/** tfjs on its 'webgpu' backend, started once (its own device, on the adapter it asks the browser for). */
function tfjsPeer(): Promise<TfjsPeer> {
  peer ??= (async () => {
    const tf = (await import('@tensorflow/tfjs')) as unknown as typeof TF;
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend');
    await tf.ready();
    // As tfjs's backend asks for its own (and ours for ours): only to describe it.
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('navigator.gpu gave tfjs no adapter');
    return peerOnCurrentBackend(tf, adapter);
  })();
  return peer;
}

async function run(options: BenchOptions): Promise<PageReport> {
  const start = await started;
  if (!start.ok) throw new Error(`WebGPU is unavailable: ${start.reason.detail}`);
  const ctx: GpuContext = start.ctx;
  const tfjs = options.tfjs ? await tfjsPeer() : null;
  const report: PageReport = {
    meta: {
      date: new Date().toISOString(),
      ...__WGT_SOURCE__,
      adapterLine: adapterLabel(ctx.adapter),
      tfjsAdapterLine: tfjs ? adapterLine(tfjs.adapter) : null,
      tfjsVersion: tfjs?.tfjsVersion ?? null,
      userAgent: navigator.userAgent,
      reps: options.reps,
    },
    ceilings: null,
    kernels: [],
    train: [],
    profiles: [],
    torch: null,
  };
  if (options.ceiling) {
    status.textContent = 'Measuring what this adapter does at best…';
    report.ceilings = await measureCeilings(ctx);
    render(report);
  }
  const wanted = options.kernels ? new RegExp(options.kernels, 'i') : null;
  const kernels = wanted ? kernelCases({ quick: false, hardware: !ctx.adapter.isSoftware }).filter((c) => wanted.test(`${c.name} ${c.shape}`)) : [];
  const total = options.specs.length + kernels.length;
  let done = 0;
  for (const spec of options.specs) {
    status.textContent = `Running ${stepName(spec)} (${++done} of ${total})…`;
    report.train.push(await raceSteps(ctx, tfjs, spec, { reps: options.reps }));
    render(report);
    if (options.profile) {
      status.textContent = `Profiling ${stepName(spec)}…`;
      report.profiles.push(await profileOurStep(ctx, spec, options.reps));
      render(report);
    }
  }
  for (const c of kernels) {
    status.textContent = `Running ${c.name} ${c.shape} (${++done} of ${total})…`;
    report.kernels.push(await runKernelCase(ctx, c, tfjs, options.reps, () => NaN)); // no load average in a page
    render(report);
  }
  status.textContent = `Done: ${total} benchmark${total === 1 ? '' : 's'}, ${options.reps} rounds each side.`;
  return report;
}

/** Our step for `spec`, `steps` of them profiled after two to warm up. */
async function profileOurStep(ctx: GpuContext, spec: StepSpec, steps: number): Promise<ProfileSummary> {
  const { parts, release } = ourStepParts(ctx, spec);
  try {
    const profile = await profileTrainStep(parts, { steps, warmup: 2, label: `${stepName(spec)} ${stepShape(spec)}` });
    const { dispatches: _each, modules: _paths, ...summary } = profile;
    return { ...summary, layers: layerCosts(profile) };
  } finally {
    await release();
  }
}

const fixed = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const mib = (bytes: number | null) => (bytes === null || !Number.isFinite(bytes) ? '-' : (bytes / 2 ** 20).toFixed(0));

function render(report: PageReport): void {
  const rows = report.train.map((r) => [
    r.name,
    r.shape,
    fixed(r.oursImagesPerSec),
    fixed(r.tfjsImagesPerSec),
    r.speedup === null ? '-' : `${r.speedup.toFixed(2)}x`,
    `${mib(r.oursPeakBytes)} / ${mib(r.tfjsPeakBytes)}`,
    r.invariants ? `${r.invariants.submitsPerStep} / ${r.invariants.buffersCreatedPerStep} / ${r.invariants.readbacksPerStep}` : '-',
    [r.error, r.tfjsError && `tfjs: ${r.tfjsError}`].filter(Boolean).join('; '),
  ]);
  const headers = ['step', 'input', 'ours img/s', 'tfjs img/s', 'ours / tfjs', 'peak MiB, ours / tfjs', 'per step: submits / buffers made / readbacks', 'errors'];
  const kernelRows = report.kernels.map((k) => [
    k.name,
    k.shape,
    `${fixed(k.oursRate, 2)} ${k.unit}`,
    k.tfjsRate === null ? '-' : `${fixed(k.tfjsRate, 2)} ${k.unit}`,
    k.speedup === null ? '-' : `${k.speedup.toFixed(2)}x`,
    ...(report.ceilings ? [shareOfCeiling(report.ceilings, k.oursRate, k.unit) ?? '-', shareOfCeiling(report.ceilings, k.tfjsRate, k.unit) ?? '-'] : []),
    [k.error, k.tfjsError && `tfjs: ${k.tfjsError}`].filter(Boolean).join('; '),
  ]);
  const kernelHeaders = ['kernel', 'shape', 'ours', 'tfjs', 'ours / tfjs', ...(report.ceilings ? ['ours, of ceiling', 'tfjs, of ceiling'] : []), 'errors'];
  const parts: HTMLElement[] = [];
  if (report.ceilings) parts.push(el('p', `This adapter's ceilings, measured first: ${describeCeilings(report.ceilings)}.`, 'note'));
  if (rows.length) parts.push(table(headers, rows, [2, 3, 4]));
  if (kernelRows.length) parts.push(table(kernelHeaders, kernelRows, report.ceilings ? [2, 3, 4, 5, 6] : [2, 3, 4]));
  for (const p of report.profiles) parts.push(...profileView(p, report.ceilings));
  document.querySelector('#results')!.replaceChildren(...parts);
  const link = document.querySelector<HTMLAnchorElement>('#download')!;
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }));
  link.hidden = false;
}

/** A profile as the profile command prints it: what it measured, a row per (phase, kernel), then one per layer. */
function profileView(p: ProfileSummary, ceilings: Ceilings | null): HTMLElement[] {
  const gflops = gflopsColumn(ceilings ? { ceilingGflops: ceilings.fmaGflops } : {});
  const timing = p.mode === 'timestamp-query' ? `kernels ${fixed(p.gpuMsPerStep)} ms` : 'no kernel times: this browser gives no timestamp-query';
  const summary = el('p', `${p.label}: ${p.steps} step(s) profiled; wall ${fixed(p.wallMsPerStep)} ms/step, ${timing}; ${p.dispatchesPerStep} dispatches per step. ${p.notes.join(' ')}`, 'note');
  const rows = p.kernels.map((k) => [
    k.phase, k.name, k.role, fixed(k.count, k.count % 1 ? 1 : 0), fixed(k.msPerStep, 2), k.share === null ? '-' : `${(100 * k.share).toFixed(1)}%`, gflops.cell(k.gflops) || '-',
  ]);
  const kernels = table(['phase', 'kernel', 'what it computes', 'count/step', 'ms/step', 'share', gflops.header], rows, [3, 4, 5, 6]);
  if (p.layers.length === 0) return [summary, kernels];
  // The same time by layer ('-': the layer ran none of that work), as `profile --layers` prints it.
  const layers = layerRows(p.layers, ceilings ? { ceilingGflops: ceilings.fmaGflops } : {});
  return [summary, kernels, table(layers.header, layers.rows, [...LAYER_NUMERIC_COLUMNS])];
}

/** The form's choices as the bench's step specs. */
function chosen(): BenchOptions {
  const value = (name: string) => Number((form.elements.namedItem(name) as HTMLInputElement).value);
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).checked;
  const specs: StepSpec[] = [];
  for (const frozenBase of [false, true]) {
    if (checked(`smallvgg.${frozenBase ? 'frozenBase' : 'full'}`)) specs.push({ model: 'smallvgg', batch: 32, size: 32, classes: 2, frozenBase });
  }
  for (const frozenBase of [false, true]) {
    if (checked(`vgg16.${frozenBase ? 'frozenBase' : 'full'}`)) specs.push({ model: 'vgg16', batch: value('batch'), size: value('size'), classes: 2, frozenBase });
  }
  const groups = ['matmul', 'conv2d', 'batchnorm', 'maxpool', 'augment'].filter((group) => checked(`kernels.${group}`));
  return { specs, reps: value('reps'), tfjs: checked('tfjs'), profile: checked('profile'), ceiling: checked('ceiling'), kernels: groups.length ? `^(${groups.join('|')})` : undefined };
}

runButton.addEventListener('click', () => {
  runButton.disabled = true;
  run(chosen())
    .catch((error: unknown) => {
      status.textContent = `Failed: ${error instanceof Error ? error.message : String(error)}`;
    })
    .finally(() => {
      runButton.disabled = false;
    });
});

window.wgtBench = { ready, run };
