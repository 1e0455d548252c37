// The demo page: which adapter the browser gave us, a small training run with its loss curve,
// the layers and whether they train, per-kernel GPU time, and the user's own weight files and
// images. Every panel works from what the engine offers; a browser without WebGPU gets a clear
// message instead.
import type { GpuContext } from '../src/index.js';
import { encodeModelSafetensors } from '../src/models/save-weights.js';
import { SGD } from '../src/optim/index.js';
import { renderAdapter, renderNoWebGpu, startWebGpu } from './panels/adapter.js';
import { el } from './panels/dom.js';
import { showImages, showWeightFile } from './panels/files.js';
import { renderLayers } from './panels/layers.js';
import { LossCurve } from './panels/loss-curve.js';
import { renderTimings } from './panels/timings.js';
import { accuracy, circleTask, circleTensors, DEFAULT_TRAINING, TinyMlp, trainStep } from './tiny-mlp.js';

/** What the page has done, for people reading the console and for test/browser/demo.test.ts. */
export interface DemoState {
  losses: number[];
  accuracy: number | null;
}

declare global {
  interface Window {
    wgtDemo: DemoState;
  }
}

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const setState = (state: 'no-webgpu' | 'training' | 'trained' | 'error') => (document.body.dataset.state = state);
window.wgtDemo = { losses: [], accuracy: null };

async function main(): Promise<void> {
  const started = await startWebGpu();
  if (!started.ok) {
    renderNoWebGpu($('#adapter'), started.reason);
    setState('no-webgpu');
    return;
  }
  const ctx = started.ctx;
  renderAdapter($('#adapter'), ctx.adapter);

  let model = new TinyMlp();
  let optimizer = new SGD(model.parameters(), { lr: DEFAULT_TRAINING.lr });
  const showLayers = () => renderLayers($('#layers-panel'), model.namedParameters());
  showLayers();
  const task = circleTask(DEFAULT_TRAINING.samples, DEFAULT_TRAINING.seed);
  const data = circleTensors(task);
  const step = (): Promise<number> => trainStep(model, optimizer, data.x, data.labels);
  const curve = new LossCurve($('#curve'), DEFAULT_TRAINING.steps);
  const download = el('a', 'Download these weights (.safetensors)');
  download.download = 'tiny-mlp.safetensors';

  const trainButton = $<HTMLButtonElement>('#train');
  const resetButton = $<HTMLButtonElement>('#reset');
  const train = async () => {
    setState('training');
    trainButton.disabled = resetButton.disabled = true;
    curve.reset(DEFAULT_TRAINING.steps);
    const losses: number[] = (window.wgtDemo.losses = []);
    for (let i = 0; i < DEFAULT_TRAINING.steps; i++) {
      losses.push(await step());
      curve.push(losses.at(-1)!);
    }
    const acc = (window.wgtDemo.accuracy = await accuracy(model, data.x, data.labels));
    $('#training-status').replaceChildren(
      `Loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}; ${(100 * acc).toFixed(1)}% of the ${task.labels.length} points right. `,
      await refreshDownload(download, model),
    );
    await timeOneStep(ctx, step);
    trainButton.disabled = resetButton.disabled = false;
    setState('trained');
  };
  trainButton.textContent = `Train ${DEFAULT_TRAINING.steps} more steps`;
  trainButton.addEventListener('click', () => void train().catch(fail));

  $<HTMLInputElement>('#weights-input').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) await showWeightFile($('#weights'), file, model);
  });
  $<HTMLInputElement>('#images-input').addEventListener('change', (event) => {
    void showImages($('#images'), Array.from((event.target as HTMLInputElement).files ?? []));
  });
  // A fresh model with new random weights, each layer as trainable as before.
  resetButton.addEventListener('click', () => {
    const trainable = new Map(model.namedParameters().map(([name, p]) => [name, p.requiresGrad]));
    model.dispose();
    model = new TinyMlp(undefined, Date.now() % 1000);
    for (const [name, p] of model.namedParameters()) p.requiresGrad = trainable.get(name) ?? true;
    optimizer = new SGD(model.parameters(), { lr: DEFAULT_TRAINING.lr });
    showLayers();
  });
  await train();
}

/** Times one training step kernel by kernel, where the adapter can; a failure stays in its panel. */
async function timeOneStep(ctx: GpuContext, step: () => Promise<unknown>): Promise<void> {
  const panel = $('#timings-panel');
  if (!ctx.hasFeature('timestamp-query')) return renderTimings(panel, '', null);
  try {
    ctx.startProfiling();
    await step();
    renderTimings(panel, 'One more training step (forward, backward, SGD)', await ctx.stopProfiling());
  } catch (error) {
    console.error(error);
    panel.append(el('p', `Timing failed: ${error instanceof Error ? error.message : String(error)}`, 'error'));
  }
}

async function refreshDownload(link: HTMLAnchorElement, model: TinyMlp): Promise<HTMLAnchorElement> {
  if (link.href) URL.revokeObjectURL(link.href);
  // The writers' chunks are ArrayBuffer-backed: Blob's typing only needs to be told.
  link.href = URL.createObjectURL(new Blob((await encodeModelSafetensors(model)) as Uint8Array<ArrayBuffer>[]));
  return link;
}

function fail(error: unknown): void {
  console.error(error);
  setState('error');
  $('#adapter').append(el('p', `Error: ${error instanceof Error ? error.message : String(error)}`, 'error'));
}

main().catch(fail);
