// Which layers train and which are frozen, from `named parameters with requiresGrad`: the same
// pairs PyTorch's `named_parameters()` gives, so any module that lists its parameters fits.
import { el, formatCount } from './dom.js';

/** What the panel needs of a parameter (a Tensor has it). */
export interface ParameterLike {
  readonly shape: readonly number[];
  requiresGrad: boolean;
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

/**
 * Renders one row per layer with a "trainable" checkbox; toggling it sets `requiresGrad` on the
 * layer's parameters (the next step then neither computes nor applies their gradients).
 */
export function renderLayers(panel: HTMLElement, named: Iterable<readonly [string, ParameterLike]>, onChange: () => void = () => {}): void {
  const layers = layersOf(named);
  const table = el('table');
  table.id = 'layers';
  const head = table.createTHead().insertRow();
  for (const h of ['layer', 'parameters', 'values', 'trainable']) head.append(el('th', h));
  const body = table.createTBody();
  const summary = el('p');
  const summarise = () => {
    let trainable = 0;
    let frozen = 0;
    for (const layer of layers) for (const [, p] of layer.params) (p.requiresGrad ? (trainable += count(p)) : (frozen += count(p)));
    summary.textContent = `${formatCount(trainable)} trainable values, ${formatCount(frozen)} frozen`;
  };
  for (const layer of layers) {
    const row = body.insertRow();
    row.dataset.layer = layer.name;
    const shapes = layer.params.map(([name, p]) => `${name.slice(layer.name.length + 1) || name} [${p.shape.join(', ')}]`).join(', ');
    row.append(el('td', layer.name), el('td', shapes), el('td', formatCount(layer.params.reduce((s, [, p]) => s + count(p), 0)), 'num'));
    const box = el('input');
    box.type = 'checkbox';
    box.checked = layer.params.every(([, p]) => p.requiresGrad);
    box.title = `train ${layer.name}`;
    box.addEventListener('change', () => {
      for (const [, p] of layer.params) p.requiresGrad = box.checked;
      row.classList.toggle('frozen', !box.checked);
      summarise();
      onChange();
    });
    const cell = el('td');
    cell.append(box, el('span', box.checked ? '' : ' frozen'));
    row.classList.toggle('frozen', !box.checked);
    row.append(cell);
  }
  summarise();
  panel.replaceChildren(el('h2', 'Layers'), table, summary);
}
