// Chapter 1: from a tensor operation to a GPU dispatch. One relu, then one whole training step:
// what the recorder counted (dispatches, submits, readbacks), what the pipeline cache compiled,
// and the WGSL and bindings of the relu kernel as reflection read them.
import type { GpuContext } from '../../src/runtime/context.js';
import { randn } from '../../src/ops/creation.js';
import { relu } from '../../src/ops/elementwise.js';
import { captureKernels, demoBatch, demoModel, kernelDelta, recordStep, sgdFor, total } from './common.js';
import { code, sig, table, type GuideOutput } from './output.js';

export async function chapter1(ctx: GpuContext, out: GuideOutput, o: { batch: number }): Promise<void> {
  const kernels = captureKernels(ctx);
  const stats = ctx.recorder.stats;
  const snapshot = () => ({ submits: stats.submits, dispatches: stats.dispatches, readbacks: stats.readbacks });
  const diff = (a: ReturnType<typeof snapshot>) => {
    const b = snapshot();
    return [b.dispatches - a.dispatches, b.submits - a.submits, b.readbacks - a.readbacks];
  };

  // One operation: recorded, not submitted, until something reads it.
  const x = randn([2, 16, 32, 32], 1, { ctx });
  ctx.recorder.flush();
  const s0 = snapshot();
  const y = relu(x);
  const afterRelu = diff(s0);
  await y.read();
  const afterRead = diff(s0);
  x.dispose();
  y.dispose();
  const reluSource = kernels.get('unary.relu')!;
  const reluKernel = ctx.pipelines.get(reluSource);

  // One training step of the demo's network, everything trainable.
  const model = demoModel(ctx);
  const optimizer = sgdFor(model);
  const { images, labels } = demoBatch(ctx, o.batch);
  ctx.recorder.flush();
  const timeStep = async () => {
    const started = performance.now();
    const before = new Map(stats.perKernel);
    const s = snapshot();
    recordStep(model, optimizer, images, labels);
    ctx.recorder.flush();
    const counts = diff(s);
    const perKernel = kernelDelta(before, stats.perKernel);
    await ctx.recorder.sync();
    return { ms: performance.now() - started, counts, perKernel };
  };
  const compiledBefore = ctx.pipelines.size;
  const first = await timeStep();
  const compiledByFirst = ctx.pipelines.size - compiledBefore;
  const second = await timeStep();
  const compiledBySecond = ctx.pipelines.size - compiledBefore - compiledByFirst;

  const rows = [...second.perKernel].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  await out.fragment(
    'ch1-relu',
    [
      table(
        ['after', 'dispatches recorded', 'queue.submit calls', 'readbacks'],
        [
          ['`y = relu(x)`', ...afterRelu],
          ['`await y.read()`', ...afterRead],
        ],
      ),
      '',
      `The kernel \`${reluSource.name}\`, as the pipeline cache compiled it (workgroup size ${reluKernel.workgroupSize.join('×')}), and the bindings reflection read from its WGSL:`,
      '',
      table(
        ['binding', 'name', 'kind', 'uniform members'],
        reluKernel.bindings.map((b) => [b.binding, `\`${b.name}\``, b.kind, b.uniform ? b.uniform.members.map((m) => `${m.name} (${m.scalarType}, offset ${m.offset})`).join(', ') : '']),
      ),
      '',
      '<details><summary>WGSL of <code>unary.relu</code> (generated)</summary>',
      '',
      code('wgsl', reluSource.code),
      '',
      '</details>',
    ].join('\n'),
  );
  await out.fragment(
    'ch1-step',
    [
      table(
        ['training step (batch ' + o.batch + ', 32×32, everything trainable)', 'dispatches', 'queue.submit calls', 'readbacks', 'pipelines compiled', 'wall time'],
        [
          ['first (cold: compiles its kernels)', ...first.counts, compiledByFirst, `${sig(first.ms)} ms`],
          ['second (warm)', ...second.counts, compiledBySecond, `${sig(second.ms)} ms`],
        ],
      ),
      '',
      `The warm step's ${total(second.perKernel)} dispatches, by kernel:`,
      '',
      table(['kernel', 'dispatches'], rows.map(([name, n]) => [`\`${name}\``, n])),
    ].join('\n'),
  );
  images.dispose();
  optimizer.dispose();
  model.dispose();
}
