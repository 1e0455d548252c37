// The benchmark page: the training steps of `npm run bench` raced against tfjs-backend-webgpu's
// on this browser's adapter (bench/step-race.ts, the code the Node bench runs), for anyone with a
// GPU and a browser. A person clicks "Run"; a driver (test/browser/bench-page.test.ts) calls
// `window.wgtBench.run`. The results download as the bench's JSON, which bench/compare.ts reads.
import type * as TF from '@tensorflow/tfjs';
import { adapterLabel, type GpuContext } from '../src/index.js';
import { raceSteps, type StepRaceResult } from '../bench/step-race.js';
import { stepName, type StepSpec } from '../bench/train-step.js';
import { peerOnCurrentBackend, type TfjsPeer } from '../bench/peers/tfjs-peer.js';
import { adapterLine } from '../bench/util/timing.js';
import { showWebGpuStart, startWebGpu, type ReadyState } from './panels/adapter.js';
import { table } from './panels/dom.js';

export interface BenchOptions {
  specs: StepSpec[];
  /** Timed steps of each side. */
  reps: number;
  /** Race tfjs's steps beside ours (else ours alone). */
  tfjs: boolean;
}

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
  kernels: never[];
  train: StepRaceResult[];
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

/** tfjs on its 'webgpu' backend, started once (its own device on this browser's default adapter). */
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
    kernels: [],
    train: [],
    torch: null,
  };
  for (const [i, spec] of options.specs.entries()) {
    status.textContent = `Running ${stepName(spec)} (${i + 1} of ${options.specs.length})…`;
    report.train.push(await raceSteps(ctx, tfjs, spec, { reps: options.reps }));
    render(report);
  }
  status.textContent = `Done: ${options.specs.length} step${options.specs.length === 1 ? '' : 's'} raced, ${options.reps} timed each side.`;
  return report;
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
  document.querySelector('#results')!.replaceChildren(table(headers, rows, [2, 3, 4]));
  const link = document.querySelector<HTMLAnchorElement>('#download')!;
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([JSON.stringify(report, null, 2)], { type: 'application/json' }));
  link.hidden = false;
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
  return { specs, reps: value('reps'), tfjs: checked('tfjs') };
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
