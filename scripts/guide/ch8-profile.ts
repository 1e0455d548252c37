// Chapter 8: reading a profile and a trace. One warm training step of the demo network with every
// dispatch timed: the profile (time per kernel, per part of the step), the trace (each dispatch on
// the GPU clock, as a figure and as a Chrome trace-event file for Perfetto / chrome://tracing),
// and the wall clock beside them.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { applyState, demoBatch, demoModel, recordStep, sgdFor } from './common.js';
import { profileStep, type ProfiledPart } from './measure.js';
import { timelineSvg } from './charts.js';
import { median, sig, table, type GuideOutput } from './output.js';
import { describeCeilings, measureCeilings } from '../../src/kernels/ceiling.js';
import { gflopsColumn } from '../../src/train/profile.js';

export async function chapter8(ctx: GpuContext, out: GuideOutput, o: { batch: number; repeats: number }): Promise<void> {
  // What the adapter does at best, for the GFLOP/s column to be read against (as `profile --ceiling`).
  const ceilings = await measureCeilings(ctx);
  const gflops = gflopsColumn({ ceilingGflops: ceilings.fmaGflops });
  const model = demoModel(ctx);
  applyState(model, 'everything');
  model.train();
  const optimizer = sgdFor(model);
  const { images, labels } = demoBatch(ctx, o.batch);
  for (let i = 0; i < 2; i++) recordStep(model, optimizer, images, labels);
  await ctx.recorder.sync();

  const wallOff: number[] = [];
  const wallOn: number[] = [];
  let profile: ProfiledPart[] | null = null;
  for (let r = 0; r < o.repeats; r++) {
    let started = performance.now();
    recordStep(model, optimizer, images, labels);
    await ctx.recorder.sync();
    wallOff.push(performance.now() - started);
    started = performance.now();
    profile = await profileStep(ctx, (mark) => recordStep(model, optimizer, images, labels, mark));
    wallOn.push(performance.now() - started);
  }
  images.dispose();
  optimizer.dispose();
  model.dispose();
  const setting = `demo network, everything trainable, batch ${o.batch} of 32×32; ${adapterLabel(ctx.adapter)}`;
  if (!profile) {
    await out.fragment('ch8-profile', `This adapter has no \`timestamp-query\`: kernels cannot be timed (${setting}).`);
    await out.fragment('ch8-trace', '');
    return;
  }

  const all = profile.flatMap((p) => p.timings.map((t) => ({ ...t, part: p.name })));
  const t0 = Math.min(...all.map((t) => t.startNs));
  const busyMs = all.reduce((a, t) => a + (t.endNs - t.startNs), 0) / 1e6;
  const spanMs = (Math.max(...all.map((t) => t.endNs)) - t0) / 1e6;
  const byKernel = new Map<string, { n: number; ns: number; flops: number; parts: Set<string> }>();
  for (const t of all) {
    const k = byKernel.get(t.name) ?? { n: 0, ns: 0, flops: 0, parts: new Set<string>() };
    k.n++;
    k.ns += t.endNs - t.startNs;
    k.flops += t.flops ?? 0; // counted by the products' launches (matmul, the convolutions)
    k.parts.add(t.part);
    byKernel.set(t.name, k);
  }
  const kernels = [...byKernel].sort((a, b) => b[1].ns - a[1].ns);
  // Timestamps come in ticks: the shortest non-zero duration shows how coarse they are here.
  const durations = all.map((t) => t.endNs - t.startNs);
  const tickUs = Math.min(...durations.filter((d) => d > 0)) / 1000;
  const zero = durations.filter((d) => d === 0).length;
  const top = kernels.slice(0, 12);

  const trace = {
    displayTimeUnit: 'ms',
    otherData: { adapter: adapterLabel(ctx.adapter), setting },
    traceEvents: all.map((t) => ({
      name: t.name,
      cat: t.part,
      ph: 'X',
      ts: (t.startNs - t0) / 1000,
      dur: (t.endNs - t.startNs) / 1000,
      pid: 1,
      tid: ['forward', 'backward', 'update'].indexOf(t.part) + 1,
    })),
  };
  const traceFile = await out.figure('ch8-step-trace.json', JSON.stringify(trace));
  const timeline = await out.figure(
    'ch8-step-timeline.svg',
    timelineSvg(
      'One training step on the GPU clock, dispatch by dispatch',
      [`demo network, everything trainable, batch ${o.batch} of 32×32`, adapterLabel(ctx.adapter)],
      all.map((t) => ({ name: t.name, part: t.part, startMs: t.startNs / 1e6, endMs: t.endNs / 1e6 })),
      ['forward', 'backward', 'update'],
    ),
  );

  await out.fragment(
    'ch8-profile',
    [
      table(
        ['part of the step', 'dispatches', 'GPU ms (Σ of dispatches)', 'share'],
        profile.map((p) => [p.name, p.timings.length, sig(p.gpuMs), `${((100 * p.gpuMs) / busyMs).toFixed(1)}%`]),
      ),
      '',
      `The ${top.length} kernels that took longest, of ${kernels.length} distinct kernels:`,
      '',
      table(
        ['kernel', 'part', 'dispatches', 'GPU ms', 'share', 'µs per dispatch', gflops.header],
        top.map(([name, k]) => [
          `\`${name}\``, [...k.parts].join(', '), k.n, sig(k.ns / 1e6), `${((100 * k.ns) / 1e6 / busyMs).toFixed(1)}%`, sig(k.ns / 1e3 / k.n),
          k.flops > 0 && k.ns > 0 ? gflops.cell(k.flops / k.ns) : '',
        ]),
      ),
      '',
      `This adapter's ceilings, measured first (src/kernels/ceiling.ts): ${describeCeilings(ceilings)}.`,
      '',
      table(
        ['clock', 'ms'],
        [
          ['GPU busy: Σ of the dispatches', sig(busyMs)],
          ['GPU span: first dispatch start to last dispatch end', sig(spanMs)],
          [`wall clock, profiler off (record + submit + wait; median of ${o.repeats})`, sig(median(wallOff))],
          [`wall clock, profiler on (median of ${o.repeats})`, sig(median(wallOn))],
        ],
      ),
      '',
      `The shortest non-zero dispatch measured ${sig(tickUs)} µs and ${zero} of the ${all.length} dispatches measured 0: on this adapter a dispatch's time is known only to about one such tick.`,
      '',
      `(${setting}.)`,
    ].join('\n'),
  );
  await out.fragment(
    'ch8-trace',
    [`![one training step, dispatch by dispatch](${timeline})`, '', `The same step as a Chrome trace-event file: [${traceFile}](${traceFile}) (open it in https://ui.perfetto.dev or chrome://tracing).`].join(
      '\n',
    ),
  );
}
