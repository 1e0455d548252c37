// Chapter 8, by layer: one warm training step of the demo network profiled in each of the three
// training states (everything, the last block and the classifier, the head alone), each timed
// dispatch summed under the layer it ran for (`profile --layers`, src/train/profile-layers.ts),
// beside what each layer keeps for backward (src/train/saved-by-layer.ts).
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import { Tensor } from '../../src/autograd/tensor.js';
import { profileTrainStep } from '../../src/train/profile.js';
import { layerCosts, type LayerCost, type LayerWork } from '../../src/train/profile-layers.js';
import { formatBytes } from '../../src/runtime/errors.js';
import { applyState, demoBatch, demoModel, sgdFor, STATES, type TrainState } from './common.js';
import { sig, table, type GuideOutput } from './output.js';

/** The letters of the table's "ran" cells, in the step's order. */
const LETTERS: readonly [LayerWork, string][] = [['forward', 'F'], ['dataGradient', 'D'], ['parameterGradients', 'P'], ['update', 'U']];

const ran = (row: LayerCost | undefined) => (row ? LETTERS.filter(([work]) => row.dispatches[work] > 0).map(([, letter]) => letter).join(' ') : '–');

export async function chapter8Layers(ctx: GpuContext, out: GuideOutput, o: { batch: number; repeats: number }): Promise<void> {
  const setting = `demo network, batch ${o.batch} of 32×32, the mean of ${o.repeats} profiled steps after 2 unprofiled ones; ${adapterLabel(ctx.adapter)}`;
  if (!ctx.hasFeature('timestamp-query')) {
    await out.fragment('ch8-layers', `This adapter has no \`timestamp-query\`: layers cannot be timed (${setting}).`);
    return;
  }
  const model = demoModel(ctx);
  model.train();
  const { images, labels: classes } = demoBatch(ctx, o.batch);
  const labels = Tensor.fromData(ctx, classes, [classes.length], 'int32', 'labels');
  // The order of the states in the table: the most that trains first.
  const states: TrainState[] = [...STATES].reverse();
  const costs = new Map<TrainState, LayerCost[]>();
  const steps = new Map<TrainState, number>();
  for (const state of states) {
    applyState(model, state);
    const optimizer = sgdFor(model);
    const profile = await profileTrainStep({ ctx, model, optimizer, images, labels }, { steps: o.repeats, warmup: 2, label: state });
    optimizer.dispose();
    costs.set(state, layerCosts(profile));
    steps.set(state, profile.gpuMsPerStep ?? 0);
  }
  images.dispose();
  labels.dispose();
  model.dispose();

  const layers = [...new Set(states.flatMap((s) => costs.get(s)!.map((r) => r.layer)))];
  const find = (state: TrainState, layer: string) => costs.get(state)!.find((r) => r.layer === layer);
  const rows = layers.map((layer) => [
    `\`${layer}\``,
    states.map((s) => find(s, layer)?.module).find(Boolean) ?? '',
    ...states.flatMap((s) => {
      const row = find(s, layer);
      return [row ? sig(row.totalMs) : '–', ran(row), row && row.savedBytes > 0 ? formatBytes(row.savedBytes) : '–'];
    }),
  ]);
  const savedOf = (s: TrainState) => costs.get(s)!.reduce((sum, r) => sum + r.savedBytes, 0);
  rows.push(['all layers', '', ...states.flatMap((s) => [sig(steps.get(s)!), '', formatBytes(savedOf(s))])]);
  await out.fragment(
    'ch8-layers',
    [
      table(['layer', 'module', ...states.flatMap((s) => [`${s}: GPU ms`, 'ran', 'saved'])], rows),
      '',
      'ran: F forward, D backward through the data (the gradient passed to the layer below, and the activation\'s), P its parameters\' gradients, U their update. saved: the activations its operations kept in the forward for backward to read (the weights and the batch, which live on anyway, not counted).',
      '',
      `(${setting}.)`,
    ].join('\n'),
  );
}
