// The demo page: the embedded transfer-learning demo (`webgpu-transfer demo`) in the browser.
// The pretrained small VGG is fetched, its base frozen and a new head trained on the few-label
// target task, then everything fine-tuned at a lower rate, with live curves, the layers' frozen
// or trainable state phase by phase, a grid of the GPU's augmented samples, and per-kernel
// timings of one training step of each phase. The user's own weight file and images go through
// the same recipe. A run can be stopped between training steps. A browser without WebGPU gets a
// clear message instead.
import { DeviceLostError, type GpuContext, type Tensor } from '../src/index.js';
import { DEMO_MODEL, type DemoConfig } from '../src/demo/experiments.js';
import { targetTask, type TaskSplit } from '../src/demo/tasks.js';
import { blobSource, openWeights, type WeightFile } from '../src/models/formats/index.js';
import { loadWeights } from '../src/models/load-weights.js';
import { smallVgg } from '../src/models/vgg.js';
import demoWeightsUrl from '../assets/demo/source-smallvgg.safetensors?url';
import { renderAdapter, renderNoWebGpu, startWebGpu } from './panels/adapter.js';
import { AugmentGrid } from './panels/augment-grid.js';
import { el } from './panels/dom.js';
import { ImageClasses, showWeightFile } from './panels/files.js';
import { renderLayers } from './panels/layers.js';
import { renderTimings } from './panels/timings.js';
import { PAGE_CONFIG, TrainingPanel } from './panels/training.js';
import { profileTransferSteps, runTransfer, type TransferRun } from './transfer.js';

/** What the page has done, for people reading the console and for test/browser/demo.test.ts. */
export interface DemoState {
  /** The current or last training run, on the demo's task or the user's images. */
  transfer: TransferRun | null;
  /** Tiles in the augmented-sample grid. */
  augmentedTiles: number;
  /** Dispatches of one training step with the base frozen and with everything training (null until timed). */
  timings: { mode: string; frozenDispatches: number; fullDispatches: number } | null;
  /** The user's images: decoded (and used), and files skipped (not images, or not decodable). */
  files: { images: number; skipped: number };
  /** The file the next run's pretrained base comes from: the demo's, or the user's. */
  pretrained: string;
  /** GPU buffers held for tensors when the last run ended: a run frees what it made, however it ends. */
  liveGpuBuffers: number | null;
}

declare global {
  interface Window {
    wgtDemo: DemoState;
  }
}

type PageState = 'no-webgpu' | 'ready' | 'training' | 'trained' | 'stopped' | 'error';
const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const setState = (state: PageState) => (document.body.dataset.state = state);
window.wgtDemo = { transfer: null, augmentedTiles: 0, timings: null, files: { images: 0, skipped: 0 }, pretrained: '', liveGpuBuffers: null };

/** What a run is made of: its method and epochs, its pretrained base, the user's images. */
const RUN_SETTINGS = '#run-options select, #run-options input, #weights-input, #image-classes input, #add-class';
/** Changed while a run trains, a setting would describe a run other than the one training. */
const lockRunSettings = (locked: boolean) =>
  document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>(RUN_SETTINGS).forEach((control) => (control.disabled = locked));

const demoTask = (config: DemoConfig): TaskSplit => targetTask(config.labelled, config.validationPerClass, config.testPerClass, config.seeds[0]!);

async function main(): Promise<void> {
  const started = await startWebGpu();
  if (!started.ok) {
    renderNoWebGpu($('#adapter'), started.reason);
    setState('no-webgpu');
    return;
  }
  const ctx = started.ctx;
  renderAdapter($('#adapter'), ctx.adapter);
  void ctx.device.lost.then((info) => {
    if (info.reason !== 'destroyed') fail(new DeviceLostError(info.reason, info.message));
  });
  setState('training');

  const demoWeights = await openDemoWeights();
  let pretrained = demoWeights;
  window.wgtDemo.pretrained = pretrained.name;

  const grid = new AugmentGrid($('#augment-panel'), ctx, demoTask(PAGE_CONFIG), PAGE_CONFIG.seeds[0]!);
  await grid.draw();
  window.wgtDemo.augmentedTiles = document.querySelectorAll('#augment-panel canvas').length;

  const training = new TrainingPanel($('#training'));
  const trainButton = $<HTMLButtonElement>('#train');
  const stopButton = $<HTMLButtonElement>('#stop');
  const filesButton = $<HTMLButtonElement>('#train-files');
  const classes = new ImageClasses($('#image-classes'), () => showPickedImages());
  let busy = false;
  let stopRequest = new AbortController();
  /** Weight files picked and not yet tried as the base: tried one at a time, in the order picked. */
  const weightsPending: string[] = [];
  /** Settles when every file picked has been tried: with whether the last one could be loaded (taken or refused). */
  let weightsTried = Promise.resolve(true);

  /**
   * The base a run starts from, once every weight file picked has been tried: one still loading
   * when Train is pressed may yet become the base, and must not do so during the run (the file
   * input stays locked until the run ends). When the last file picked could not be loaded (not a
   * refusal: its bytes could not be read, say), the base the user asked for is unknown, and the
   * run does not start: null, the training panel saying why.
   */
  const settledBase = async (): Promise<WeightFile | null> => {
    const awaited = weightsPending.at(-1);
    if (awaited === undefined) return pretrained;
    training.waiting(`Waiting for ${awaited} to load: if it fits, the run starts from it.`);
    if (await weightsTried) return pretrained;
    training.waiting(`The run did not start: ${awaited} could not be loaded (see Your files). Pick it again, or start the run again to train from ${pretrained.name}.`);
    return null;
  };

  /**
   * One run at a time: a click while one trains (or while picked images still decode before it)
   * does nothing, and the buttons wait. After an error they stay off (fail). The run's settings
   * are locked meanwhile, and unlocked however it ends.
   */
  const exclusive = (run: () => Promise<void>) => () => {
    if (busy) return;
    busy = true;
    trainButton.disabled = filesButton.disabled = true;
    lockRunSettings(true);
    void run()
      .then(() => {
        busy = false;
        trainButton.disabled = false;
        showPickedImages();
      })
      .catch(fail)
      .finally(() => {
        lockRunSettings(false);
        window.wgtDemo.liveGpuBuffers = ctx.pool.stats.live;
      });
  };
  // The trainer stops before its next step; the page sees the click after a step (pacedToGpu) or between epochs (docs/browser.md).
  stopButton.addEventListener('click', () => {
    stopButton.disabled = true;
    stopRequest.abort();
    training.stopping();
  });
  const train = async (task: TransferRun['task'], images: TaskSplit, what: string, heldOut: string) => {
    const stateBefore = document.body.dataset.state as PageState;
    setState('training');
    stopRequest = new AbortController();
    stopButton.disabled = false;
    const base = await settledBase();
    if (!base) {
      // Nothing began: the page is as before the click, and the buttons come back (exclusive).
      stopButton.disabled = true;
      setState(stateBefore);
      return;
    }
    const { method, config } = training.options();
    const from = method === 'scratch' ? '' : ` Pretrained base: ${base.name}.`;
    training.start(`${what}${from}`, { task, method, trainImages: images.train.length, config });
    let parameters: [string, Tensor][] = [];
    const run = await runTransfer(ctx, { task, images, method, config, pretrained: base, stop: stopRequest.signal }, {
      phase: (r, model) => {
        window.wgtDemo.transfer = r;
        parameters = model.namedParameters();
        renderLayers($('#layers-panel'), parameters, r.phases);
      },
      step: (info) => training.step(info),
      epoch: (r) => {
        training.epoch(r);
        renderLayers($('#layers-panel'), parameters, r.phases);
      },
    });
    stopButton.disabled = true;
    if (run.stopped) {
      training.stopped(run);
      setState('stopped');
      return;
    }
    training.finish(run, heldOut, stopRequest.signal.aborted);
    // Once: a training step of each phase, kernel by kernel, on the demo's task.
    if (!window.wgtDemo.timings) await timeTrainingSteps(ctx, base, demoTask(config), config);
    setState('trained');
  };

  const trainOnDemoTask = () => {
    const images = demoTask(training.options().config);
    const what = `The demo's target task: ${images.classes.join(', ')}; ${images.train.length / images.classes.length} labelled images per class.`;
    return train('demo', images, what, `the ${images.test.length} held-out test images`);
  };
  const trainOnUserImages = async () => {
    await classes.settled();
    const images = classes.task();
    const perClass = images.classes.map((name, label) => `${name} (${images.train.filter((i) => i.label === label).length})`);
    const what = `Your images: ${perClass.join(', ')} to train on; ${images.validation.length} held out.`;
    // Too few images for a third part: the held-out ones also chose the best epoch, so the score flatters.
    await train('files', images, what, `your ${images.test.length} held-out images (which also chose the best epoch)`);
  };
  trainButton.addEventListener('click', exclusive(trainOnDemoTask));
  filesButton.addEventListener('click', exclusive(trainOnUserImages));

  function showPickedImages(): void {
    const { images, skipped, skippedFiles } = classes.counts();
    window.wgtDemo.files = { images, skipped };
    let problem = '';
    try {
      classes.task();
    } catch (error) {
      problem = ` ${(error as Error).message}`;
    }
    filesButton.disabled = busy || problem !== '';
    const skippedList = skippedFiles.length ? ` Skipped: ${skippedFiles.join('; ')}.` : '';
    $('#files-status').textContent = `${images} image${images === 1 ? '' : 's'} decoded, ${skipped} file${skipped === 1 ? '' : 's'} skipped.${skippedList}${problem}`;
  }
  showPickedImages();
  $('#add-class').addEventListener('click', () => classes.add());

  $<HTMLInputElement>('#weights-input').addEventListener('change', (event) => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    // Emptied (its panel names the file), so that picking the same file again, say after it could
    // not be read, is a change too.
    input.value = '';
    const useAsBase = async (weights: WeightFile) => {
      const loaded = await loadIntoDemoModel(ctx, weights);
      if (pretrained !== demoWeights) await pretrained.close();
      pretrained = weights;
      window.wgtDemo.pretrained = weights.name;
      return `Fits the demo's network (${loaded}): it is the pretrained base of the next runs.`;
    };
    // After the files picked before it: the last one picked that fits is the base. One that could
    // not be loaded says so in its panel (showWeightFile) and leaves the base as it was.
    weightsPending.push(file.name);
    weightsTried = weightsTried
      .then(() => showWeightFile($('#weights'), file, useAsBase))
      .then(
        () => true,
        (failure: unknown) => {
          console.warn(failure);
          return false;
        },
      )
      .finally(() => weightsPending.shift());
  });

  // A GPU trains the demo in seconds, so the page starts at once. A software adapter needs about
  // a minute of every core (40-60 s on SwiftShader): there the page waits for the button, or for
  // ?autorun in its address.
  if (!ctx.adapter.isSoftware || new URLSearchParams(location.search).has('autorun')) {
    exclusive(trainOnDemoTask)();
    return;
  }
  trainButton.disabled = false;
  training.waiting(`${ctx.adapter.description || ctx.adapter.device} is a software adapter: the demo run takes about a minute of CPU here. Press Train to start it.`);
  setState('ready');
}

/** The committed pretrained weights, a static asset of vite's (dev server and build alike). */
async function openDemoWeights(): Promise<WeightFile> {
  const response = await fetch(demoWeightsUrl);
  if (!response.ok) throw new Error(`could not fetch the pretrained weights (${demoWeightsUrl}): HTTP ${response.status}`);
  return openWeights(blobSource(await response.blob(), 'source-smallvgg.safetensors'));
}

/** Loads the file into a fresh demo network, its head skipped as a run skips it; throws why it does not fit. */
async function loadIntoDemoModel(ctx: GpuContext, weights: WeightFile): Promise<string> {
  const model = smallVgg({ ...DEMO_MODEL, numClasses: 2, ctx });
  try {
    const report = await loadWeights(model, weights, { head: 'skip' });
    return `${report.loadedKeys.length} tensors loaded; the head, ${report.skippedKeys.join(' and ')}, stays new`;
  } finally {
    model.dispose();
  }
}

async function timeTrainingSteps(ctx: GpuContext, pretrained: WeightFile, images: TaskSplit, config: DemoConfig): Promise<void> {
  const panel = $('#timings-panel');
  panel.replaceChildren(el('h2', 'Kernel timings'), el('p', 'Timing one training step of each phase…'));
  const [frozen, full] = await profileTransferSteps(ctx, pretrained, images, config);
  renderTimings(panel, frozen, full);
  window.wgtDemo.timings = { mode: frozen.mode, frozenDispatches: frozen.dispatchesPerStep, fullDispatches: full.dispatchesPerStep };
}

/**
 * A run failed, or the GPU went: the engine's context may hold a WebGPU error that every later
 * readback reports again, so the page says to reload rather than offer a run that cannot work.
 */
function fail(error: unknown): void {
  console.error(error);
  setState('error');
  for (const id of ['#train', '#stop', '#train-files']) $<HTMLButtonElement>(id).disabled = true;
  $('#adapter').append(el('p', `Error: ${error instanceof Error ? error.message : String(error)}. Reload the page to start again.`, 'error'));
}

main().catch(fail);
