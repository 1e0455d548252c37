// A grid of augmented samples: one image of each class as the validation transform shows it,
// then as training epochs 1, 2, ... draw it (GPU RandomResizedCrop, flips, colour jitter, in the
// same kernel training runs). With the run's seed and the images' indices these are exactly the
// crops phase 1 trains on. Hover a tile for the parameters it was drawn with.
import type { GpuContext } from '../../src/index.js';
import type { TrainTransformOptions } from '../../src/data/augment/options.js';
import { describeParams, toRgbImages } from '../../src/data/augment/grid.js';
import { packBatch } from '../../src/data/pack-batch.js';
import { demoTransforms, DEMO_TRAIN_TRANSFORM, type TaskSplit } from '../../src/demo/tasks.js';
import { el, rgbCanvas } from './dom.js';

/** The study notes' other changes (vertical flip, rotation, colour jitter): shown here, not used by the demo. */
const MORE_CHANGES: TrainTransformOptions = {
  ...DEMO_TRAIN_TRANSFORM,
  verticalFlip: 0.5,
  rotation: 25,
  colorJitter: { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
};

const EPOCHS_SHOWN = 5;
const TILE_PX = 64;

export class AugmentGrid {
  private firstEpoch = 0;
  private readonly grid = el('div', '', 'augment-grid');
  private readonly transform = el('select');
  private readonly next = el('button', `Next ${EPOCHS_SHOWN} epochs`);

  constructor(
    panel: HTMLElement,
    private readonly ctx: GpuContext,
    private readonly task: TaskSplit,
    private readonly seed: number,
  ) {
    this.transform.id = 'augment-transform';
    this.next.id = 'augment-next';
    this.transform.append(new Option("the demo's training transform: random resized crop, horizontal flip", 'demo'));
    this.transform.append(new Option('+ vertical flip, rotation ±25°, colour jitter (not in training)', 'more'));
    const actions = el('span', '', 'actions');
    actions.append(this.next);
    const heading = el('h2', 'Augmented samples');
    heading.append(actions);
    panel.replaceChildren(heading, this.transform, this.grid, el('p', 'Hover a tile to see what was done to it.', 'note'));
    this.transform.addEventListener('change', () => void this.draw());
    this.next.addEventListener('click', () => void this.draw(this.firstEpoch + EPOCHS_SHOWN));
  }

  /**
   * Draws the grid from `firstEpoch` on, or says in its place why it could not (the page goes on
   * without it; "Next" tries the same epochs again). Its controls wait meanwhile: two draws at
   * once could finish out of order, and the older epochs (or transform) would replace the newer.
   */
  async draw(firstEpoch = this.firstEpoch): Promise<void> {
    this.next.disabled = this.transform.disabled = true;
    try {
      await this.render(firstEpoch);
      this.firstEpoch = firstEpoch;
    } catch (error) {
      // The old tiles would no longer match the controls: the message replaces them.
      this.grid.style.gridTemplateColumns = '';
      this.grid.replaceChildren(el('p', `Could not draw the augmented samples: ${(error as Error).message}`, 'error'));
    } finally {
      this.next.disabled = this.transform.disabled = false;
    }
  }

  /** Augments the images on the GPU, reads them back and draws one canvas per tile. */
  private async render(firstEpoch: number): Promise<void> {
    const { task, ctx, seed } = this;
    const picks = task.classes.map((_, label) => task.train.findIndex((image) => image.label === label)).filter((i) => i >= 0);
    const batch = packBatch(picks.map((i) => ({ ...task.train[i]!, path: `train:${i}`, sampleIndex: i })));
    const { trainTransform, evalTransform } = demoTransforms(ctx, this.transform.value === 'more' ? MORE_CHANGES : DEMO_TRAIN_TRANSFORM);
    const epochs = Array.from({ length: EPOCHS_SHOWN }, (_, k) => firstEpoch + k);
    // Made inside the try: one that fails partway still frees those made before it.
    const columns: ReturnType<typeof evalTransform.apply>[] = [];
    try {
      columns.push(evalTransform.apply(batch));
      for (const epoch of epochs) columns.push(trainTransform.apply(batch, { seed, epoch }));
      const { mean, std } = evalTransform.options;
      const rgb = await Promise.all(columns.map(async ({ images }) => toRgbImages((await images.read()) as Float32Array, images.shape, mean, std)));
      const { outHeight: height, outWidth: width } = evalTransform.options;
      const cells: HTMLElement[] = [el('span'), el('span', 'validation', 'column'), ...epochs.map((e) => el('span', `epoch ${e + 1}`, 'column'))];
      picks.forEach((pick, row) => {
        cells.push(el('span', task.classes[task.train[pick]!.label]!, 'row'));
        columns.forEach((column, k) => cells.push(tile(rgb[k]![row]!, width, height, describeParams(column.params[row]!).join('\n'))));
      });
      this.grid.style.gridTemplateColumns = `auto repeat(${columns.length}, ${TILE_PX}px)`;
      this.grid.replaceChildren(...cells);
    } finally {
      for (const { images } of columns) images.dispose();
      trainTransform.dispose();
      evalTransform.dispose();
    }
  }
}

function tile(rgb: Uint8Array, width: number, height: number, title: string): HTMLCanvasElement {
  const canvas = rgbCanvas(rgb, width, height);
  canvas.className = 'tile';
  canvas.title = title;
  return canvas;
}
