// Which layers train and which are frozen, phase by phase, from `named parameters`: the same
// pairs PyTorch's `named_parameters()` gives, so any module that lists its parameters fits.
// One column per phase begun so far; the run adds a column as each phase starts, and says how far
// each layer's values moved once the phase has ended.
import { el, formatCount } from './dom.js';

/** What the panel needs of a parameter (a Tensor has it). */
export interface ParameterLike {
  readonly shape: readonly number[];
}

/** A phase as the panel shows it: its name, rate, the parameters it trains, and how far each moved (once it ended). */
export interface PhaseColumn {
  name: string;
  lr: number;
  trainable: readonly string[];
  changes: Readonly<Record<string, number>> | null;
}

interface Layer {
  name: string;
  params: [string, ParameterLike][];
}

/** `features.0.weight` belongs to layer `features.0`. */
function layersOf(named: Iterable<readonly [string, ParameterLike]>): Layer[] {
  const layers = new Map<string, Layer>();
  for (const [name, p] of named) {
    const layerName = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : '(top level)';
    let layer = layers.get(layerName);
    if (!layer) layers.set(layerName, (layer = { name: layerName, params: [] }));
    layer.params.push([name, p]);
  }
  return [...layers.values()];
}

const count = (p: ParameterLike) => p.shape.reduce((a, d) => a * d, 1);

/** One row per layer, one column per phase: "trains" or "frozen"; the last phase is the current one. */
export function renderLayers(panel: HTMLElement, named: Iterable<readonly [string, ParameterLike]>, phases: readonly PhaseColumn[]): void {
  const layers = layersOf(named);
  const table = el('table');
  table.id = 'layers';
  const head = table.createTHead().insertRow();
  for (const h of ['layer', 'shapes', 'values']) head.append(el('th', h));
  phases.forEach((phase, i) => head.append(el('th', `${i + 1}. ${phase.name} (lr ${phase.lr})`, i === phases.length - 1 ? 'current' : '')));
  const body = table.createTBody();
  const sets = phases.map((phase) => new Set(phase.trainable));
  for (const layer of layers) {
    const row = body.insertRow();
    row.dataset.layer = layer.name;
    const shapes = el('td', layer.params.map(([, p]) => `[${p.shape.join(', ')}]`).join(' + '), 'shapes');
    shapes.title = layer.params.map(([name, p]) => `${name} [${p.shape.join(', ')}]`).join('\n');
    row.append(el('td', layer.name), shapes, el('td', formatCount(layer.params.reduce((s, [, p]) => s + count(p), 0)), 'num'));
    sets.forEach((trainable, i) => {
      const trains = layer.params.filter(([name]) => trainable.has(name)).length;
      const state = trains === layer.params.length ? 'trains' : trains === 0 ? 'frozen' : 'partly';
      const cell = el('td', '', `state ${state}${i === sets.length - 1 ? ' current' : ''}`);
      cell.append(el('span', state, 'state-name'));
      const changes = phases[i]!.changes;
      if (changes) {
        const moved = Math.max(...layer.params.map(([name]) => changes[name] ?? 0));
        cell.append(el('span', moved === 0 ? 'unchanged' : `Δ ${moved.toPrecision(2)}`, 'change'));
      }
      row.append(cell);
    });
  }
  const current = sets.at(-1);
  let summary = 'Not training yet.';
  if (current) {
    let trainable = 0;
    let frozen = 0;
    for (const layer of layers) for (const [name, p] of layer.params) (current.has(name) ? (trainable += count(p)) : (frozen += count(p)));
    summary = `Phase ${phases.length} (${phases.at(-1)!.name}): ${formatCount(trainable)} trainable values, ${formatCount(frozen)} frozen.`;
  }
  panel.replaceChildren(
    el('h2', 'Layers'),
    el(
      'p',
      'A frozen layer computes no gradient and keeps no optimiser state: backward stops at the first layer that trains. ' +
        "Under each phase, once it has ended: Δ, the largest change of any of the layer's values, read back from the GPU.",
      'note',
    ),
    table,
    el('p', summary, 'layers-summary'),
  );
}
