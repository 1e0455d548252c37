// Per-kernel GPU time of one training step in each phase of the recipe, side by side: the table
// `webgpu-transfer profile` prints (src/train/profile.ts), drawn as HTML, then the same time by
// layer (`profile --layers`, src/train/profile-layers.ts). The frozen-base column has no
// convolution gradient at all, and its base's layers ran their forward alone. Without
// `timestamp-query` it shows dispatch counts only, and no layers.
import { COMPARE_NUMERIC_COLUMNS, compareRows, profileSummary, type StepProfile } from '../../src/train/profile.js';
import { COMPARE_LAYER_NUMERIC_COLUMNS, compareLayerRows } from '../../src/train/profile-layers.js';
import { el, table } from './dom.js';

export function renderTimings(panel: HTMLElement, frozen: StepProfile, everything: StepProfile): void {
  const { header, rows } = compareRows(frozen, everything);
  const comparison = table(header, rows, [...COMPARE_NUMERIC_COLUMNS]);
  comparison.id = 'timings';
  for (const row of Array.from(comparison.tBodies[0]!.rows)) row.classList.toggle('total', row.cells[1]!.textContent!.startsWith('('));
  const byLayer = [];
  if (frozen.mode === 'timestamp-query' && everything.mode === 'timestamp-query') {
    const { header: layerHeader, rows: layerRows } = compareLayerRows(frozen, everything);
    const layers = table(layerHeader, layerRows, [...COMPARE_LAYER_NUMERIC_COLUMNS]);
    layers.id = 'layer-timings';
    byLayer.push(el('h3', 'By layer'), el('p', 'The same time (ms per step) under the layer each dispatch ran for: its forward, its backward through the data, its parameters\' gradients, their update; "-" where it ran none of that.'), layers);
  }
  panel.replaceChildren(
    el('h2', 'Kernel timings'),
    el('p', 'One training step of each phase (batch of the demo task, the same kernels as training), every dispatch timed on the GPU. "n": dispatches per step.'),
    el('pre', `${profileSummary(frozen)}\n${profileSummary(everything)}`, 'summary'),
    comparison,
    ...byLayer,
    el('p', 'Browsers may round timestamps (Chromium to 100 µs unless started with --enable-webgpu-developer-features).', 'note'),
  );
}
