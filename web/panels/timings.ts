// Per-kernel GPU time of one training step in each phase of the recipe, side by side: the table
// `webgpu-transfer profile` prints (src/train/profile.ts), drawn as HTML. The frozen-base column
// has no convolution gradient at all. Without `timestamp-query` it shows dispatch counts only.
import { COMPARE_NUMERIC_COLUMNS, compareRows, profileSummary, type StepProfile } from '../../src/train/profile.js';
import { el, table } from './dom.js';

export function renderTimings(panel: HTMLElement, frozen: StepProfile, everything: StepProfile): void {
  const { header, rows } = compareRows(frozen, everything);
  const comparison = table(header, rows, [...COMPARE_NUMERIC_COLUMNS]);
  comparison.id = 'timings';
  for (const row of Array.from(comparison.tBodies[0]!.rows)) row.classList.toggle('total', row.cells[1]!.textContent!.startsWith('('));
  panel.replaceChildren(
    el('h2', 'Kernel timings'),
    el('p', 'One training step of each phase (batch of the demo task, the same kernels as training), every dispatch timed on the GPU. "n": dispatches per step.'),
    el('pre', `${profileSummary(frozen)}\n${profileSummary(everything)}`, 'summary'),
    comparison,
    el('p', 'Browsers may round timestamps (Chromium to 100 µs unless started with --enable-webgpu-developer-features).', 'note'),
  );
}
