// Chapter 5: what the requiresGrad masks change, measured. The demo's network in three training
// states, each after warm-up steps: dispatches of the step's forward, backward and update; GPU
// time of each part from the profiler (median over repeats); wall time of the whole step; memory
// of the buffers handed out: at the end of the forward pass (what backward will need) and at the
// step's peak; gradients and optimiser state.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { trainableSummary } from '../../src/models/freeze.js';
import { applyState, demoBatch, demoModel, recordStep, sgdFor, STATES, type StepPart } from './common.js';
import { profileStep, trackLiveBytes } from './measure.js';
import { memoryTimelineSvg, stackedBarsSvg, type MemoryPanel } from './charts.js';
import { median, mib, sig, table, type GuideOutput } from './output.js';

const PARTS: readonly StepPart[] = ['forward', 'backward', 'update'];

export interface FreezingResult {
  state: string;
  trainableParams: number;
  dispatches: Record<StepPart, number>;
  gpuMs: Record<StepPart, number> | null;
  wallMs: number;
  liveAfterForward: number;
  peakDuringStep: number;
  /** Live bytes (beyond the step's start) after each hand-out or return, and where each part began. */
  timeline: MemoryPanel;
  gradientBytes: number;
  optimizerBytes: number;
}

export async function chapter5(ctx: GpuContext, out: GuideOutput, o: { batch: number; repeats: number }): Promise<FreezingResult[]> {
  const bytes = trackLiveBytes(ctx.pool);
  const { images, labels } = demoBatch(ctx, o.batch);
  const results: FreezingResult[] = [];
  for (const state of STATES) {
    const model = demoModel(ctx);
    applyState(model, state);
    model.train();
    const optimizer = sgdFor(model);
    for (let i = 0; i < 2; i++) recordStep(model, optimizer, images, labels); // compile and create optimiser state
    await ctx.recorder.sync();

    // One step, part by part: dispatches and memory.
    const dispatches = { forward: 0, backward: 0, update: 0 };
    const baseline = bytes.live;
    bytes.resetPeak();
    let liveAfterForward = 0;
    let gradientBytes = 0;
    const step = (mark: (part: StepPart) => void) => recordStep(model, optimizer, images, labels, mark);
    let last = ctx.recorder.stats.dispatches;
    const live: number[] = [0];
    const parts: MemoryPanel['parts'][number][] = [{ name: 'forward', from: 0 }];
    let handedOut = 0;
    ctx.pool.observer = (event, size) => live.push((handedOut += event === 'acquire' ? size : -size));
    step((part) => {
      dispatches[part] = ctx.recorder.stats.dispatches - last;
      last = ctx.recorder.stats.dispatches;
      if (part === 'forward') liveAfterForward = bytes.live - baseline;
      if (part === 'backward') gradientBytes = model.parameters().reduce((a, p) => a + (p.grad?.byteSize ?? 0), 0);
      const next = PARTS[PARTS.indexOf(part) + 1];
      if (next) parts.push({ name: next, from: live.length - 1 });
    });
    ctx.pool.observer = null;
    ctx.recorder.flush();
    await ctx.recorder.sync();
    const peakDuringStep = bytes.peak - baseline;
    const optimizerBytes = [...optimizer.state.values()].reduce((a, s) => a + Object.values(s.buffers).reduce((b, t) => b + t.byteSize, 0), 0);

    // Time: the whole step on the wall clock, and each part on the GPU clock.
    const wall: number[] = [];
    const gpu: Record<string, number[]> = { forward: [], backward: [], update: [] };
    let timed = true;
    for (let r = 0; r < o.repeats; r++) {
      const started = performance.now();
      recordStep(model, optimizer, images, labels);
      await ctx.recorder.sync();
      wall.push(performance.now() - started);
      const parts = await profileStep(ctx, (mark) => step(mark));
      if (!parts) timed = false;
      for (const part of parts ?? []) gpu[part.name]!.push(part.gpuMs);
    }
    results.push({
      state,
      trainableParams: trainableSummary(model).trainable.numel,
      dispatches,
      gpuMs: timed ? { forward: median(gpu.forward!), backward: median(gpu.backward!), update: median(gpu.update!) } : null,
      wallMs: median(wall),
      liveAfterForward,
      peakDuringStep,
      timeline: { title: state, live, parts },
      gradientBytes,
      optimizerBytes,
    });
    optimizer.dispose();
    model.dispose();
  }
  images.dispose();

  const setting = `demo network, batch ${o.batch} of 32×32 images, SGD with momentum; median of ${o.repeats} step${o.repeats > 1 ? 's' : ''}; ${adapterLabel(ctx.adapter)}`;
  const label = (s: string) => s.replace(' + ', ' +\n');
  const subtitle = [`demo network, batch ${o.batch} of 32×32 images, SGD with momentum; median of ${o.repeats}`, adapterLabel(ctx.adapter)];
  const svg = stackedBarsSvg('One training step, three ways of freezing the same network', subtitle, [
    { title: 'dispatches', unit: 'kernel dispatches', bars: results.map((r) => ({ label: label(r.state), segments: PARTS.map((p) => ({ name: p, value: r.dispatches[p] })) })) },
    { title: 'GPU time (profiler)', unit: 'ms', bars: results.map((r) => ({ label: label(r.state), segments: PARTS.map((p) => ({ name: p, value: r.gpuMs?.[p] ?? 0 })) })) },
    {
      title: 'memory handed out by the pool',
      unit: 'MiB',
      bars: results.map((r) => ({
        label: label(r.state),
        segments: [
          { name: 'saved for backward (live after forward)', value: r.liveAfterForward / 2 ** 20 },
          { name: 'rest of the step’s peak', value: Math.max(0, r.peakDuringStep - r.liveAfterForward) / 2 ** 20 },
        ],
      })),
    },
  ]);
  const figure = await out.figure('ch5-frozen-vs-unfrozen.svg', svg);
  const memory = await out.figure(
    'ch5-memory-through-a-step.svg',
    memoryTimelineSvg(
      'Live memory through one step, three ways of freezing',
      [`demo network, batch ${o.batch} of 32×32 images, SGD with momentum; one step after warm-up`, adapterLabel(ctx.adapter)],
      results.map((r) => r.timeline),
    ),
  );
  await out.fragment(
    'ch5-freezing',
    [
      `![dispatches, GPU time and memory of one step in three freezing states](${figure})`,
      '',
      table(
        ['trainable', 'parameters trained', 'dispatches forward / backward / update', 'GPU ms forward / backward / update', 'wall ms per step', 'live after forward', 'peak during step', 'gradients', 'optimiser state'],
        results.map((r) => [
          r.state,
          r.trainableParams.toLocaleString('en-US'),
          PARTS.map((p) => r.dispatches[p]).join(' / '),
          r.gpuMs ? PARTS.map((p) => sig(r.gpuMs![p])).join(' / ') : 'no timestamp-query',
          sig(r.wallMs),
          mib(r.liveAfterForward),
          mib(r.peakDuringStep),
          mib(r.gradientBytes),
          mib(r.optimizerBytes),
        ]),
      ),
      '',
      `(${setting}. Memory is the pool's buffers handed out beyond those held before the step, at bucket size; "live after forward" is what the graph keeps for backward plus the loss.)`,
    ].join('\n'),
  );
  await out.fragment(
    'ch5-memory-timeline',
    [
      `![live memory through one step, event by event, in three freezing states](${memory})`,
      '',
      `(demo network, batch ${o.batch} of 32×32 images, SGD with momentum, one step after warm-up; ${adapterLabel(ctx.adapter)}. Each point is the memory handed out, beyond what was held before the step, after one buffer was handed out or returned, at bucket size; the bands are the step's parts.)`,
    ].join('\n'),
  );
  return results;
}
