/**
 * Another framework's layers beside ours: each layer of the model timed alone by a peer
 * (bench/gpu/torch_steps.py --layers-out: PyTorch, on CUDA or the CPU), next to what the same
 * layer cost in our profiled training step, with the ratio. Where a step is slower than the
 * peer's, this says which layers, and in which of forward, data gradient and weight gradient.
 * Browser-safe.
 */
import { InputError } from '../runtime/errors.js';
import { layerCosts, type LayerCost, type LayerWork } from './profile-layers.js';
import type { StepProfile } from './profile.js';
import { fixed, textTable } from './text-table.js';

export interface PeerLayer {
  /** The module path, as torchvision names it (`features.0`, `classifier.0`). */
  layer: string;
  forwardMs: number;
  /** The gradient for the layer below; null where the peer computed none (the first layer). */
  dataMs: number | null;
  /** The weight and bias gradients. */
  paramsMs: number;
}

export interface PeerLayers {
  /** Who measured, and on what: `PyTorch 2.11.0`, `NVIDIA H200 (cuda, fp32, TF32 off)`. */
  peer: string;
  device: string;
  model: string;
  batch: number;
  size: number;
  layers: PeerLayer[];
}

/** `json` as PeerLayers, or an InputError naming `source` and what is wrong with it. */
export function parsePeerLayers(json: unknown, source: string): PeerLayers {
  const refuse = (what: string) => new InputError(`${source}: ${what} (expected bench/gpu/torch_steps.py --layers-out's JSON)`);
  const o = json as Partial<PeerLayers> | null;
  if (typeof o !== 'object' || o === null) throw refuse('not a JSON object');
  for (const key of ['peer', 'device', 'model'] as const) if (typeof o[key] !== 'string') throw refuse(`no '${key}' text`);
  for (const key of ['batch', 'size'] as const) if (!Number.isInteger(o[key]) || o[key]! < 1) throw refuse(`no whole '${key}'`);
  if (!Array.isArray(o.layers) || o.layers.length === 0) throw refuse("no 'layers'");
  const ms = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  for (const l of o.layers) {
    if (typeof l?.layer !== 'string' || !ms(l.forwardMs) || !ms(l.paramsMs) || !(l.dataMs === null || ms(l.dataMs))) {
      throw refuse(`a layer without a name and its times: ${JSON.stringify(l).slice(0, 120)}`);
    }
  }
  return o as PeerLayers;
}

/** The columns of `peerLayerRows` that hold numbers. */
export const PEER_LAYER_NUMERIC_COLUMNS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

const COLUMNS: readonly [LayerWork, keyof PeerLayer, string][] = [
  ['forward', 'forwardMs', 'fwd'],
  ['dataGradient', 'dataMs', 'bwd data'],
  ['parameterGradients', 'paramsMs', 'bwd params'],
];

/**
 * A row per layer the peer timed: our ms per step and the peer's, and how many times the peer's
 * time ours took; then the sums over those layers. Refuses a peer whose layers the profile lacks
 * (another model).
 */
export function peerLayerRows(costs: readonly LayerCost[], peer: PeerLayers): { header: string[]; rows: string[][] } {
  const ours = new Map(costs.map((c) => [c.layer, c]));
  const missing = peer.layers.filter((l) => !ours.has(l.layer)).map((l) => l.layer);
  if (missing.length > 0) throw new InputError(`the peer's layers ${missing.join(', ')} are not in this profile: it timed ${peer.model}, by torchvision's names`);
  const sums = COLUMNS.map(() => ({ ours: 0, peer: 0 }));
  const rows = peer.layers.map((p) => {
    const row = ours.get(p.layer)!;
    return [
      p.layer,
      ...COLUMNS.flatMap(([work, key], i) => {
        const [mine, theirs] = [row.dispatches[work] > 0 ? row.ms[work] : null, p[key] as number | null];
        if (mine !== null && theirs !== null) {
          sums[i]!.ours += mine;
          sums[i]!.peer += theirs;
        }
        return [cell(mine), cell(theirs), ratio(mine, theirs)];
      }),
    ];
  });
  const total = ['(these layers)', ...sums.flatMap((s) => [cell(s.ours), cell(s.peer), ratio(s.ours, s.peer)])];
  const header = ['layer', ...COLUMNS.flatMap(([, , name]) => [`${name}: ours`, 'peer', 'ours/peer'])];
  return { header, rows: [...rows, total] };
}

/** peerLayerRows as text, titled with who the peer was. */
export function peerLayerTable(profile: StepProfile, peer: PeerLayers): string {
  const { header, rows } = peerLayerRows(layerCosts(profile), peer);
  const title =
    `${profile.label}, layer by layer beside ${peer.peer} on ${peer.device}, each of its layers timed alone (ms; ours per step, ` +
    `with the ReLU a convolution runs in its own kernel in its forward and data gradient; ours/peer: how many times the peer's time ours took)`;
  return `${title}\n${textTable(header, rows, new Set(PEER_LAYER_NUMERIC_COLUMNS))}`;
}

const cell = (ms: number | null) => fixed(ms, 2);
const ratio = (ours: number | null, peer: number | null) => (ours === null || peer === null || peer <= 0 ? '-' : `${(ours / peer).toFixed(2)}x`);
