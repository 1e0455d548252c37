/**
 * What a training step costs, kernel by kernel. Browser-safe (profile-node.ts writes the trace).
 *
 * `trainStep` is one step as the Trainer runs it: forward, cross-entropy, backward, optimizer
 * update and zeroGrad, recorded into one command buffer and submitted once. It notes the dispatch
 * at which each phase begins, so every dispatch can be named forward, backward or optimizer.
 *
 * `profileTrainStep` runs a few steps with every dispatch timed by `timestamp-query` (each
 * dispatch gets its own compute pass with a begin and an end timestamp, see runtime/profiler.ts).
 * Without that feature it falls back to dispatch counts and wall time, and says so.
 *
 * While it profiles, each module's forward runs under its path as the dispatch label
 * (layer-labels.ts), so every timed dispatch also names the layer it ran for: profile-layers.ts
 * sums a step by layer.
 *
 * `kernelTable` and `compareTable` print the result; `chromeTrace` turns it into a trace file
 * that chrome://tracing and Perfetto open: one track of phases, one of kernels, per profile.
 * Compare a full fine-tune with a frozen base and the frozen one has no convolution weight
 * gradient at all: backward stops at the first trainable layer.
 */
import type { Tensor } from '../autograd/tensor.js';
import { tidy } from '../autograd/scope.js';
import { backward } from '../ops/grad.js';
import { crossEntropy } from '../ops/loss.js';
import type { Module } from '../nn/module.js';
import type { GpuContext } from '../runtime/context.js';
import type { KernelTiming } from '../runtime/profiler.js';
import { median } from '../runtime/median.js';
import { withDispatchLabel } from '../runtime/dispatch-label.js';
import { fixed, percent, textTable } from './text-table.js';
import { labelLayers } from './layer-labels.js';
import { savedBytesByLayer } from './saved-by-layer.js';

export type Phase = 'forward' | 'backward' | 'optimizer';
export const PHASES: readonly Phase[] = ['forward', 'backward', 'optimizer'];

export interface TrainStepParts {
  ctx: GpuContext;
  model: Module;
  optimizer: { step(): void; zeroGrad(): void };
  images: Tensor;
  /** int32 class indices, one per image. */
  labels: Tensor;
}

/** Where each phase of one step begins, counted in dispatches from the step's start; `end` is the total. */
export type PhaseStarts = Record<Phase | 'end', number>;

export interface StepRecord {
  starts: PhaseStarts;
  /** Dispatches per kernel name in each phase. */
  counts: Record<Phase, Map<string, number>>;
}

/** The dispatch label of the loss's kernels (runtime/dispatch-label.ts): they belong to no layer. */
export const LOSS_LAYER = 'loss';

/** A dispatch's layer as the tables and the trace name it: its path, '(model)' for the model's own forward, '(none)'. */
export function layerName(label: string | undefined): string {
  return label === undefined ? '(none)' : label === '' ? '(model)' : label;
}

/** One training step, one `queue.submit`, no readback. `afterForward` sees the loss before backward runs. */
export function trainStep(parts: TrainStepParts, afterForward?: (loss: Tensor) => void): StepRecord {
  const { ctx, model, optimizer } = parts;
  const stats = ctx.recorder.stats;
  const start = stats.dispatches;
  const starts: PhaseStarts = { forward: 0, backward: 0, optimizer: 0, end: 0 };
  const snapshots = [new Map(stats.perKernel)];
  const mark = (phase: Phase | 'end') => {
    starts[phase] = stats.dispatches - start;
    snapshots.push(new Map(stats.perKernel));
  };
  tidy(() => {
    const logits = model.forward(parts.images);
    const loss = withDispatchLabel(LOSS_LAYER, () => crossEntropy(logits, parts.labels));
    afterForward?.(loss);
    mark('backward');
    backward(loss);
    mark('optimizer');
    optimizer.step();
    optimizer.zeroGrad();
  });
  ctx.recorder.flush();
  mark('end');
  const diff = (from: Map<string, number>, to: Map<string, number>) =>
    new Map([...to].map(([name, n]) => [name, n - (from.get(name) ?? 0)] as const).filter(([, n]) => n > 0));
  const [s0, s1, s2, s3] = snapshots as [Map<string, number>, Map<string, number>, Map<string, number>, Map<string, number>];
  return { starts, counts: { forward: diff(s0, s1), backward: diff(s1, s2), optimizer: diff(s2, s3) } };
}

export function phaseOf(index: number, starts: PhaseStarts): Phase {
  return index < starts.backward ? 'forward' : index < starts.optimizer ? 'backward' : 'optimizer';
}

/**
 * What a kernel does in a training step, from its name (as kernels/ names them) and phase: the
 * column a reader scans to see which gradients a step computes. Unknown names get ''.
 */
const ROLES: readonly [RegExp, Phase | null, string][] = [
  [/^conv2d\.forward.*\.relu$/, null, 'convolution + ReLU'],
  [/^conv2d\.forward/, null, 'convolution'],
  [/^conv2d\.input_grad/, null, 'convolution: input gradient'],
  [/^conv2d\.weight_grad/, null, 'convolution: weight gradient'],
  [/^conv2d\.bias_grad/, null, 'convolution: bias gradient'],
  [/^conv2d\.filter_matrix/, null, 'convolution: filters in the GPU kernel\'s order'],
  [/^conv2d\.winograd/, null, 'convolution: Winograd transform'],
  [/^matmul\.\w+\.NT/, 'forward', 'linear: x·Wᵀ + b'],
  [/^matmul\.\w+\.NN/, 'backward', 'linear: input gradient dy·W'],
  [/^matmul\.\w+\.TN/, 'backward', 'linear: weight gradient dyᵀ·x'],
  [/^reduce\.sum/, 'backward', 'linear: bias gradient Σdy'],
  [/^reduce\.sum/, 'forward', 'loss: mean over the batch'],
  [/^unary\.relu/, null, 'ReLU'],
  [/^binary\.relu_backward/, null, 'ReLU: gradient'],
  [/^pool\.max\.forward/, null, 'max-pool'],
  [/^pool\.max\.backward/, null, 'max-pool: gradient'],
  [/^pool\.\w+\.forward/, null, 'average pool'],
  [/^pool\.\w+\.backward/, null, 'average pool: gradient'],
  [/^batchnorm\./, null, 'batch norm'],
  [/^dropout/, null, 'dropout'],
  [/^cross_entropy\.forward/, null, 'loss: softmax cross-entropy'],
  [/^cross_entropy\.backward/, null, 'loss: gradient'],
  [/^binary\.add/, 'backward', 'gradient accumulation'],
  [/^optim\./, null, 'parameter update'],
  [/^fill$/, null, 'new tensor filled with NaN (fillUninitialized)'],
];

export function kernelRole(name: string, phase: Phase): string {
  return ROLES.find(([re, p]) => re.test(name) && (p === null || p === phase))?.[2] ?? '';
}

/** Kernels that compute a parameter's gradient (what a frozen layer never runs). */
export function isParameterGradient(name: string, phase: Phase): boolean {
  return /(weight|bias) gradient/.test(kernelRole(name, phase));
}

export interface KernelRow {
  phase: Phase;
  name: string;
  role: string;
  /** Dispatches per step. */
  count: number;
  /** GPU time per step, and per dispatch (null without timestamp-query). */
  msPerStep: number | null;
  meanUs: number | null;
  /** Share of the step's summed kernel time. */
  share: number | null;
  /**
   * Floating-point operations per step (2 per multiply-add) and the rate they ran at, for the
   * products whose launches count them (matmul, the convolutions); null for the others.
   */
  flopsPerStep: number | null;
  gflops: number | null;
}

export interface TimedDispatch {
  step: number;
  index: number;
  phase: Phase;
  name: string;
  /** On the GPU clock, in ns from the first profiled dispatch. */
  startNs: number;
  endNs: number;
  /** What it computes, where its launch counts it (KernelTiming.flops). */
  flops?: number;
  /** The layer it ran for: a module path (`features.0`, '' for the model's own forward) or LOSS_LAYER. */
  layer?: string;
}

export interface StepProfile {
  label: string;
  mode: 'timestamp-query' | 'dispatch-counts';
  steps: number;
  /** Median wall time of a profiled step, submit to GPU idle (timing every dispatch slows it a little). */
  wallMsPerStep: number;
  /**
   * Median CPU time of recording a step, up to its submit: the part of the wall time before the
   * GPU starts (a pass per dispatch while profiling makes it a little longer than unprofiled).
   */
  recordMsPerStep: number;
  /** Summed kernel time per step (null without timestamp-query). */
  gpuMsPerStep: number | null;
  dispatchesPerStep: number;
  submitsPerStep: number;
  readbacksPerStep: number;
  /** Pool buffers created during the profiled steps (0 once warm). */
  buffersCreated: number;
  /** Bind groups created during the profiled steps (0 once warm: runtime/bind-group-cache.ts). */
  bindGroupsCreated: number;
  /** Kernels compiled during the profiled steps (0 once warm: the warm-up compiled them). */
  kernelsCompiled: number;
  /**
   * The unprofiled steps before: their wall time, and the kernels first compiled in them, with
   * what createComputePipeline took (runtime/pipelines.ts: in Node, the compilation itself).
   */
  warmup: { steps: number; wallMs: number; kernelsCompiled: number; compileMs: number };
  phases: PhaseStarts;
  kernels: KernelRow[];
  dispatches: TimedDispatch[];
  /** The model's modules by path ('' is the model), their classes: what the layers of `dispatches` are. */
  modules: Record<string, string>;
  /**
   * Bytes of activations each layer's operations saved for backward during the forward, besides
   * the weights and the batch (train/saved-by-layer.ts), by layer as `layerName` gives it; a layer
   * that saved nothing is absent.
   */
  savedBytes: Record<string, number>;
  notes: string[];
}

export interface ProfileOptions {
  /** Profiled steps (default 3). */
  steps?: number;
  /** Steps first, unprofiled: pipelines compile, the pool and optimizer state fill (default 1). */
  warmup?: number;
  /** Time kernels with timestamp-query when the adapter has it (default true). */
  timestamps?: boolean;
  label?: string;
}

/** Runs `steps` training steps and reports each kernel's count and GPU time. */
export async function profileTrainStep(parts: TrainStepParts, options: ProfileOptions = {}): Promise<StepProfile> {
  const { ctx } = parts;
  const steps = Math.max(1, options.steps ?? 3);
  const timed = (options.timestamps ?? true) && ctx.hasFeature('timestamp-query');
  const warmup = options.warmup ?? 1;
  const stats = ctx.recorder.stats;
  const snapshot = () => ({
    submits: stats.submits, readbacks: stats.readbacks, created: ctx.pool.stats.created, bindGroups: ctx.recorder.bindGroups.misses,
    kernels: ctx.pipelines.stats.compiled, compileMs: ctx.pipelines.stats.compileMs, at: performance.now(),
  });
  const counts = new Map<string, { phase: Phase; name: string; count: number; ns: number; flops: number; flopsNs: number }>();
  const dispatches: TimedDispatch[] = [];
  const walls: number[] = [];
  const records: number[] = [];
  const notes: string[] = [];
  let phases: PhaseStarts = { forward: 0, backward: 0, optimizer: 0, end: 0 };
  let origin: number | null = null;
  const row = (phase: Phase, name: string) => {
    const key = `${phase} ${name}`;
    return counts.get(key) ?? counts.set(key, { phase, name, count: 0, ns: 0, flops: 0, flopsNs: 0 }).get(key)!;
  };
  // What each layer saves for backward, read from the graph of an untimed step when there is one.
  let savedBytes: Record<string, number> | null = null;
  const readSaved = (loss: Tensor) => {
    const heldAnyway = [parts.images, parts.labels, ...parts.model.parameters()];
    savedBytes = Object.fromEntries([...savedBytesByLayer(loss, heldAnyway)].map(([label, bytes]) => [layerName(label), bytes]));
  };
  // Each module's forward runs under its path, so that every timed dispatch names its layer.
  const unlabel = labelLayers(parts.model);
  const start = snapshot();
  let before = start;
  try {
    for (let i = 0; i < warmup; i++) {
      trainStep(parts, i === warmup - 1 ? readSaved : undefined);
      await ctx.recorder.sync();
    }
    before = snapshot();
    for (let step = 1; step <= steps; step++) {
      if (timed) ctx.startProfiling();
      const t0 = performance.now();
      const record = trainStep(parts, savedBytes === null ? readSaved : undefined);
      records.push(performance.now() - t0);
      const timings: KernelTiming[] = timed ? await ctx.stopProfiling() : [];
      await ctx.recorder.sync();
      walls.push(performance.now() - t0);
      phases = record.starts;
      for (const phase of PHASES) for (const [name, n] of record.counts[phase]) row(phase, name).count += n;
      if (timed && timings.length < phases.end) {
        notes.push(`step ${step}: ${phases.end - timings.length} of ${phases.end} dispatches untimed (more than one query set holds)`);
      }
      timings.forEach((t, index) => {
        const phase = phaseOf(index, phases);
        origin ??= t.startNs;
        const r = row(phase, t.name);
        r.ns += t.endNs - t.startNs;
        if (t.flops !== undefined) {
          r.flops += t.flops;
          r.flopsNs += t.endNs - t.startNs;
        }
        dispatches.push({
          step, index, phase, name: t.name, startNs: t.startNs - origin, endNs: t.endNs - origin,
          ...(t.flops === undefined ? {} : { flops: t.flops }),
          ...(t.layer === undefined ? {} : { layer: t.layer }),
        });
      });
    }
  } finally {
    unlabel();
  }
  const totalNs = [...counts.values()].reduce((s, r) => s + r.ns, 0);
  const kernels: KernelRow[] = [...counts.values()]
    .map((r) => ({
      phase: r.phase,
      name: r.name,
      role: kernelRole(r.name, r.phase),
      count: r.count / steps,
      msPerStep: timed ? r.ns / steps / 1e6 : null,
      meanUs: timed ? r.ns / r.count / 1e3 : null,
      share: timed && totalNs > 0 ? r.ns / totalNs : null,
      flopsPerStep: r.flops > 0 ? r.flops / steps : null,
      // A rate needs a time: a dispatch shorter than a coarse clock's tick reads as 0 ns.
      gflops: r.flops > 0 && r.flopsNs > 0 ? r.flops / r.flopsNs : null,
    }))
    .sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) || (b.msPerStep ?? 0) - (a.msPerStep ?? 0) || b.count - a.count);
  const tick = timestampTick(dispatches);
  if (tick !== null && tick >= COARSE_TICK_NS) {
    notes.push(`this adapter's timestamps move in steps of ${fixed(tick / 1e3)} µs: a kernel shorter than that reads as 0 or one step, so sum many of them, not one`);
  }
  const buffersCreated = ctx.pool.stats.created - before.created;
  const bindGroupsCreated = ctx.recorder.bindGroups.misses - before.bindGroups;
  const kernelsCompiled = ctx.pipelines.stats.compiled - before.kernels;
  if (buffersCreated + bindGroupsCreated + kernelsCompiled > 0) {
    notes.push(`not warm: ${buffersCreated} buffer(s), ${bindGroupsCreated} bind group(s) and ${kernelsCompiled} kernel(s) were created during the profiled steps, so their times include that; profile after more warm-up steps (the warmup option; --warmup in the CLI)`);
  }
  if (!timed) {
    notes.push(
      ctx.hasFeature('timestamp-query')
        ? 'kernel timing was turned off: dispatch counts and wall time only'
        : `this adapter has no 'timestamp-query': dispatch counts and wall time only, no per-kernel times`,
    );
  }
  return {
    label: options.label ?? 'training step',
    mode: timed ? 'timestamp-query' : 'dispatch-counts',
    steps,
    wallMsPerStep: median(walls),
    recordMsPerStep: median(records),
    gpuMsPerStep: timed ? totalNs / steps / 1e6 : null,
    dispatchesPerStep: phases.end,
    submitsPerStep: (stats.submits - before.submits) / steps,
    readbacksPerStep: (stats.readbacks - before.readbacks) / steps,
    buffersCreated,
    bindGroupsCreated,
    kernelsCompiled,
    warmup: { steps: warmup, wallMs: before.at - start.at, kernelsCompiled: before.kernels - start.kernels, compileMs: before.compileMs - start.compileMs },
    phases,
    kernels,
    dispatches,
    modules: Object.fromEntries(parts.model.namedModules().map(([path, m]) => [path, m.constructor.name])),
    savedBytes: savedBytes ?? {},
    notes,
  };
}

/** A timestamp step at least this coarse (lavapipe's is 65.5 µs) is worth a note: GPUs tick in ns. */
const COARSE_TICK_NS = 1000;

/**
 * The smallest step between two distinct timestamps of the profile: the clock's resolution, or
 * an upper bound on it. Null with fewer than two distinct timestamps.
 */
export function timestampTick(dispatches: readonly TimedDispatch[]): number | null {
  const times = [...new Set(dispatches.flatMap((d) => [d.startNs, d.endNs]))].sort((a, b) => a - b);
  let tick: number | null = null;
  for (let i = 1; i < times.length; i++) tick = Math.min(tick ?? Infinity, times[i]! - times[i - 1]!);
  return tick;
}

// ---------------------------------------------------------------------------------------------
// Text tables

/** GFLOP/s with three significant digits: 9.87, 98.7, 987, 9870. */
const rate = (x: number | null): string => (x === null ? '' : x >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** How the tables give a kernel's GFLOP/s. */
export interface RateOptions {
  /** The adapter's multiply-add ceiling (kernels/ceiling.ts): each rate also as a share of it, "28.7 (24%)". */
  ceilingGflops?: number;
}

/** The GFLOP/s column of the tables: its header, and a cell for a rate (with its share of the ceiling when given). */
export function gflopsColumn(options: RateOptions): { header: string; cell: (x: number | null) => string } {
  const ceiling = options.ceilingGflops;
  if (!ceiling) return { header: 'GFLOP/s', cell: rate };
  const share = (x: number) => {
    const percent = (100 * x) / ceiling;
    return percent >= 10 ? percent.toFixed(0) : percent.toFixed(1);
  };
  return { header: 'GFLOP/s (of ceiling)', cell: (x) => (x === null ? '' : `${rate(x)} (${share(x)}%)`) };
}

export function profileSummary(p: StepProfile): string {
  const lines = [
    `${p.label}: ${p.steps} step(s) profiled, ${p.mode === 'timestamp-query' ? 'kernel times from timestamp-query' : 'NO kernel times (dispatch counts only)'}`,
    `  wall ${fixed(p.wallMsPerStep)} ms/step` + (p.gpuMsPerStep !== null ? `, kernels ${fixed(p.gpuMsPerStep)} ms/step` : '') +
      `; recording on the CPU ${fixed(p.recordMsPerStep)} ms/step, before the GPU starts`,
    `  per step: ${p.dispatchesPerStep} dispatches (forward ${p.phases.backward}, backward ${p.phases.optimizer - p.phases.backward}, ` +
      `optimizer ${p.phases.end - p.phases.optimizer}), ${p.submitsPerStep} submit(s), ${p.readbacksPerStep} readback(s); ` +
      `${p.buffersCreated} buffer(s), ${p.bindGroupsCreated} bind group(s) and ${p.kernelsCompiled} kernel(s) created while profiling`,
  ];
  const w = p.warmup;
  if (w.steps > 0) {
    lines.push(
      `  warm-up: ${w.steps} step(s) first, ${fixed(w.wallMs)} ms, ${fixed(w.compileMs)} of them in createComputePipeline for the ` +
        `${w.kernelsCompiled} kernel(s) first used (in Node that is the compilation; a browser compiles after the call returns)`,
    );
  }
  for (const note of p.notes) lines.push(`  note: ${note}`);
  return lines.join('\n');
}

/** Per-kernel rows, forward then backward then optimizer, slowest first. */
export function kernelTable(p: StepProfile, options: RateOptions = {}): string {
  const gflops = gflopsColumn(options);
  const rows = p.kernels.map((k) => [k.phase, k.name, k.role, fixed(k.count, k.count % 1 ? 1 : 0), fixed(k.msPerStep), fixed(k.meanUs, 0), percent(k.share), gflops.cell(k.gflops)]);
  const totals = PHASES.map((phase) => {
    const ks = p.kernels.filter((k) => k.phase === phase);
    const ms = p.gpuMsPerStep === null ? null : ks.reduce((s, k) => s + (k.msPerStep ?? 0), 0);
    return [phase, '(all)', '', fixed(ks.reduce((s, k) => s + k.count, 0), 0), fixed(ms), '', percent(ms === null || !p.gpuMsPerStep ? null : ms / p.gpuMsPerStep), ''];
  });
  return textTable(['phase', 'kernel', 'what it computes', 'count/step', 'ms/step', 'mean µs', 'share', gflops.header], [...rows, ...totals], new Set([3, 4, 5, 6, 7]));
}

/**
 * Two profiles side by side, one row per (phase, kernel): typically a full fine-tune next to a
 * frozen base. The parameter-gradient lines at the end are the point: a frozen layer runs none.
 */
export function compareTable(a: StepProfile, b: StepProfile, options: RateOptions = {}): string {
  const { header, rows } = compareRows(a, b, options);
  return textTable(header, rows, new Set(COMPARE_NUMERIC_COLUMNS));
}

/** The columns of `compareRows` that hold numbers. */
export const COMPARE_NUMERIC_COLUMNS = [3, 4, 5, 6, 7, 8] as const;

/** compareTable's cells (the demo page draws them as an HTML table). */
export function compareRows(a: StepProfile, b: StepProfile, options: RateOptions = {}): { header: string[]; rows: string[][] } {
  const gflops = gflopsColumn(options);
  const keys = new Map<string, { phase: Phase; name: string }>();
  for (const k of [...a.kernels, ...b.kernels]) keys.set(`${k.phase} ${k.name}`, { phase: k.phase, name: k.name });
  const find = (p: StepProfile, phase: Phase, name: string) => p.kernels.find((k) => k.phase === phase && k.name === name);
  const ordered = [...keys.values()].sort(
    (x, y) =>
      PHASES.indexOf(x.phase) - PHASES.indexOf(y.phase) ||
      (find(a, y.phase, y.name)?.msPerStep ?? 0) - (find(a, x.phase, x.name)?.msPerStep ?? 0) ||
      x.name.localeCompare(y.name),
  );
  const cell = (k: KernelRow | undefined) => [k ? fixed(k.count, k.count % 1 ? 1 : 0) : '0', k ? fixed(k.msPerStep) : '-', k ? gflops.cell(k.gflops) : ''];
  const rows = ordered.map(({ phase, name }) => [phase, name, kernelRole(name, phase), ...cell(find(a, phase, name)), ...cell(find(b, phase, name))]);
  const sum = (p: StepProfile, keep: (k: KernelRow) => boolean) => {
    const ks = p.kernels.filter(keep);
    return [fixed(ks.reduce((s, k) => s + k.count, 0), 0), p.gpuMsPerStep === null ? '-' : fixed(ks.reduce((s, k) => s + (k.msPerStep ?? 0), 0)), ''];
  };
  const isConvGrad = (k: KernelRow) => /^conv2d\.(weight|bias)_grad/.test(k.name);
  const isGrad = (k: KernelRow) => isParameterGradient(k.name, k.phase);
  rows.push(
    ['backward', '(conv weight/bias gradients)', '', ...sum(a, isConvGrad), ...sum(b, isConvGrad)],
    ['backward', '(all parameter gradients)', '', ...sum(a, isGrad), ...sum(b, isGrad)],
    ...PHASES.map((phase) => [phase, '(all)', '', ...sum(a, (k) => k.phase === phase), ...sum(b, (k) => k.phase === phase)]),
    ['step', 'wall time', '', '', fixed(a.wallMsPerStep), '', '', fixed(b.wallMsPerStep), ''],
  );
  const header = ['phase', 'kernel', 'what it computes', `${a.label}: n`, 'ms', gflops.header, `${b.label}: n`, 'ms', gflops.header];
  return { header, rows };
}

// ---------------------------------------------------------------------------------------------
// Chrome trace (the JSON "Trace Event Format" that chrome://tracing and ui.perfetto.dev open)

export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

/**
 * One process per profile (e.g. "full fine-tune", "frozen base"), each with a track of phases
 * (step 1 forward, step 1 backward, ...) above a track of kernels. Times in µs on the GPU clock,
 * each profile starting at 0 so that two are easy to lay side by side.
 */
export function chromeTrace(profiles: readonly StepProfile[], otherData: Record<string, unknown> = {}): ChromeTrace {
  const events: TraceEvent[] = [];
  profiles.forEach((p, i) => {
    const pid = i + 1;
    events.push(
      { name: 'process_name', ph: 'M', pid, tid: 0, args: { name: p.label } },
      { name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: i } },
      { name: 'thread_name', ph: 'M', pid, tid: 1, args: { name: 'phases' } },
      { name: 'thread_name', ph: 'M', pid, tid: 2, args: { name: 'kernels' } },
    );
    for (let step = 1; step <= p.steps; step++) {
      for (const phase of PHASES) {
        const ds = p.dispatches.filter((d) => d.step === step && d.phase === phase);
        if (ds.length === 0) continue;
        const start = Math.min(...ds.map((d) => d.startNs));
        const end = Math.max(...ds.map((d) => d.endNs));
        events.push({ name: `step ${step} ${phase}`, cat: phase, ph: 'X', pid, tid: 1, ts: start / 1e3, dur: (end - start) / 1e3, args: { dispatches: ds.length } });
      }
    }
    for (const d of p.dispatches) {
      events.push({
        // The layer first, so that the track reads as the model does: `features.0 conv2d.forward...`.
        name: d.layer === undefined ? d.name : `${layerName(d.layer)} ${d.name}`,
        cat: d.phase,
        ph: 'X',
        pid,
        tid: 2,
        ts: d.startNs / 1e3,
        dur: (d.endNs - d.startNs) / 1e3,
        args: {
          step: d.step, dispatch: d.index, phase: d.phase, kernel: d.name, role: kernelRole(d.name, d.phase),
          ...(d.layer === undefined ? {} : { layer: d.layer, module: p.modules[d.layer] ?? '' }),
          ...(d.flops === undefined ? {} : { gflop: d.flops / 1e9, 'GFLOP/s': d.endNs > d.startNs ? d.flops / (d.endNs - d.startNs) : null }),
        },
      });
    }
  });
  const summaries = profiles.map((p) => ({
    label: p.label, mode: p.mode, wallMsPerStep: p.wallMsPerStep, recordMsPerStep: p.recordMsPerStep, gpuMsPerStep: p.gpuMsPerStep,
    dispatchesPerStep: p.dispatchesPerStep, notes: p.notes,
  }));
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { ...otherData, profiles: summaries } };
}
