// Chapter 2: how backward walks the graph, and how "needs no gradient" prunes it. The demo's
// network in the three training states: the graph the forward pass recorded (operations and what
// they saved), the backward kernels it ran, and which parameters received a gradient.
import type { GpuContext } from '../../src/runtime/context.js';
import type { Tensor } from '../../src/autograd/tensor.js';
import type { GradNode } from '../../src/autograd/graph.js';
import { tidy } from '../../src/autograd/scope.js';
import { backward } from '../../src/ops/grad.js';
import { crossEntropy } from '../../src/ops/loss.js';
import { applyState, demoBatch, demoModel, kernelDelta, STATES, total } from './common.js';
import { mib, table, type GuideOutput } from './output.js';

interface GraphSummary {
  nodes: number;
  ops: Map<string, number>;
  savedTensors: number;
  savedBytes: number;
}

function summarise(root: Tensor): GraphSummary {
  const ops = new Map<string, number>();
  const seen = new Set<GradNode>();
  const storages = new Set<GPUBuffer>();
  let savedTensors = 0;
  let savedBytes = 0;
  const stack = root.gradFn ? [root.gradFn] : [];
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    ops.set(node.op, (ops.get(node.op) ?? 0) + 1);
    for (const t of node.saved) {
      savedTensors++;
      // Handles on one storage (a view, an input saved twice) hold its memory once.
      if (!storages.has(t.buffer)) savedBytes += t.byteSize;
      storages.add(t.buffer);
    }
    for (const input of node.inputs) if (input.gradFn) stack.push(input.gradFn);
  }
  return { nodes: seen.size, ops, savedTensors, savedBytes };
}

export async function chapter2(ctx: GpuContext, out: GuideOutput, o: { batch: number }): Promise<void> {
  const model = demoModel(ctx);
  const { images, labels } = demoBatch(ctx, o.batch);
  const rows: (string | number)[][] = [];
  const gotGrad: string[][] = [];
  for (const state of STATES) {
    applyState(model, state);
    model.train();
    ctx.recorder.flush();
    const result = tidy(() => {
      const loss = crossEntropy(model.forward(images), labels);
      const graph = summarise(loss);
      const before = new Map(ctx.recorder.stats.perKernel);
      backward(loss);
      const kernels = kernelDelta(before, ctx.recorder.stats.perKernel);
      return { graph, kernels };
    });
    ctx.recorder.flush();
    const { graph, kernels } = result;
    const count = (re: RegExp) => [...kernels].filter(([k]) => re.test(k)).reduce((a, [, n]) => a + n, 0);
    rows.push([
      state,
      graph.nodes,
      [...graph.ops].map(([op, n]) => `${op}×${n}`).join(', '),
      `${graph.savedTensors} (${mib(graph.savedBytes)})`,
      total(kernels),
      count(/^conv2d\.(weight|bias)_grad/),
      count(/^conv2d\.input_grad/),
      count(/^matmul/),
    ]);
    gotGrad.push(model.namedParameters().filter(([, p]) => p.grad).map(([n]) => n));
    model.zeroGrad();
  }
  await out.fragment(
    'ch2-pruning',
    [
      table(
        ['trainable', 'graph nodes', 'operations recorded', 'saved for backward', 'backward dispatches', 'conv weight/bias-gradient', 'conv input-gradient', 'matmul'],
        rows,
      ),
      '',
      table(
        ['trainable', 'parameters that received a gradient'],
        STATES.map((state, i) => [state, gotGrad[i]!.length === model.namedParameters().length ? `all ${gotGrad[i]!.length}` : gotGrad[i]!.map((n) => `\`${n}\``).join(', ')]),
      ),
      '',
      `(Demo network, batch ${o.batch} of 32×32 images, training mode; "saved" counts the handles the graph's nodes hold and the distinct GPU memory behind them.)`,
    ].join('\n'),
  );
  images.dispose();
  model.dispose();
}
