/**
 * What each layer costs in a training step: a profile's timed dispatches summed by the layer
 * they ran for (the module path of runtime/dispatch-label.ts) and by what they did there: the
 * forward; backward through the data (the gradient of the layer's input, its activation's
 * gradient: cuDNN's "backward data"); backward into its parameters' gradients ("backward
 * filter"); and the update of its parameters. Read side by side for a full fine-tune and a frozen base, it shows
 * the transfer step layer by layer: a frozen layer costs its forward and nothing else, and the
 * backward stops at the first layer that trains. Browser-safe.
 */
import { gflopsColumn, isParameterGradient, layerName, LOSS_LAYER, type RateOptions, type StepProfile, type TimedDispatch } from './profile.js';
import { fixed, percent, textTable } from './text-table.js';
import { formatBytes } from '../runtime/errors.js';

/** What a layer's dispatches did, the columns of the tables. */
export type LayerWork = 'forward' | 'dataGradient' | 'parameterGradients' | 'update';
const WORK: readonly LayerWork[] = ['forward', 'dataGradient', 'parameterGradients', 'update'];

export interface LayerCost {
  /** The module path (`features.0`); '(model)' for the model's own forward, 'loss', or '(none)' for a dispatch with no layer. */
  layer: string;
  /** The module's class (`Conv2d`; `Conv2d + ReLU` where the next layer's ReLU ran in its kernel), 'cross-entropy' for the loss, '' where unknown. */
  module: string;
  /** GPU milliseconds per step, by what the dispatches did. */
  ms: Record<LayerWork, number>;
  totalMs: number;
  /** Share of the step's summed kernel time. */
  share: number;
  /** Dispatches per step, by what they did (0: the layer did none of it). */
  dispatches: Record<LayerWork, number>;
  /** The rate of its products (convolutions, matmuls) over all phases; null without any. */
  gflops: number | null;
  /** Bytes its operations saved in the forward for backward to read (0 for a frozen layer). */
  savedBytes: number;
}

const FUSED_RELU = ' + ReLU';

/** The work of one dispatch: its phase, and in backward whether it computes a parameter's gradient. */
function workOf(d: TimedDispatch): LayerWork {
  if (d.phase === 'forward') return 'forward';
  if (d.phase === 'optimizer') return 'update';
  return isParameterGradient(d.name, d.phase) ? 'parameterGradients' : 'dataGradient';
}

/** Per layer, in the order the step first ran them (the forward's order); [] without timestamps. */
export function layerCosts(p: StepProfile): LayerCost[] {
  const zero = (): Record<LayerWork, number> => ({ forward: 0, dataGradient: 0, parameterGradients: 0, update: 0 });
  const rows = new Map<string, LayerCost & { flops: number; flopsNs: number }>();
  let totalNs = 0;
  for (const d of p.dispatches) {
    const layer = layerName(d.layer);
    let row = rows.get(layer);
    if (!row) {
      const module = d.layer === LOSS_LAYER ? 'cross-entropy' : d.layer === undefined ? '' : (p.modules[d.layer] ?? '');
      row = { layer, module, ms: zero(), totalMs: 0, share: 0, dispatches: zero(), gflops: null, savedBytes: p.savedBytes[layer] ?? 0, flops: 0, flopsNs: 0 };
      rows.set(layer, row);
    }
    const ns = d.endNs - d.startNs;
    const work = workOf(d);
    // A Conv2d followed by a ReLU runs both in one kernel: the ReLU's layer then has no dispatch of its own.
    if (work === 'forward' && /^conv2d\..*\.relu$/.test(d.name) && !row.module.endsWith(FUSED_RELU)) row.module += FUSED_RELU;
    row.ms[work] += ns / p.steps / 1e6;
    row.dispatches[work] += 1 / p.steps;
    row.totalMs += ns / p.steps / 1e6;
    totalNs += ns;
    if (d.flops !== undefined) {
      row.flops += d.flops;
      row.flopsNs += ns;
    }
  }
  return [...rows.values()].map(({ flops, flopsNs, ...row }) => ({
    ...row,
    share: totalNs > 0 ? (row.totalMs * p.steps * 1e6) / totalNs : 0,
    gflops: flops > 0 && flopsNs > 0 ? flops / flopsNs : null,
  }));
}

/** A cell: the bytes a layer saved for backward, '-' where it saved none. */
const savedCell = (row: LayerCost | undefined) => (row && row.savedBytes > 0 ? formatBytes(row.savedBytes) : '-');

/** A cell: milliseconds where the layer dispatched that work, '-' where it did none. */
const msCell = (row: LayerCost | undefined, work: LayerWork) => (row && row.dispatches[work] > 0 ? fixed(row.ms[work]) : '-');

const WORK_HEADERS: Record<LayerWork, string> = {
  forward: 'forward',
  dataGradient: 'backward: data',
  parameterGradients: 'backward: parameters',
  update: 'update',
};

/** One row per layer: ms per step by what it did, its total and share, and its products' rate. */
export function layerTable(p: StepProfile, options: RateOptions = {}): string {
  const { header, rows } = layerRows(layerCosts(p), options);
  return textTable(header, rows, new Set(LAYER_NUMERIC_COLUMNS));
}

/** The columns of `layerRows` that hold numbers. */
export const LAYER_NUMERIC_COLUMNS = [2, 3, 4, 5, 6, 7, 8, 9] as const;

/** layerTable's cells, from a profile's layer costs (the benchmark page keeps those, not the dispatches). */
export function layerRows(costs: readonly LayerCost[], options: RateOptions = {}): { header: string[]; rows: string[][] } {
  const gflops = gflopsColumn(options);
  const rows = costs.map((r) => [r.layer, r.module, ...WORK.map((w) => msCell(r, w)), fixed(r.totalMs), percent(r.share), gflops.cell(r.gflops), savedCell(r)]);
  return { header: ['layer', 'module', ...WORK.map((w) => `${WORK_HEADERS[w]} ms`), 'total ms', 'share', gflops.header, 'saved for backward'], rows };
}

/**
 * Two profiles layer by layer (a full fine-tune and a frozen base): what each layer ran in each,
 * '-' where it ran none of that work.
 */
export function compareLayerTable(a: StepProfile, b: StepProfile): string {
  const { header, rows } = compareLayerRows(a, b);
  return textTable(header, rows, new Set(COMPARE_LAYER_NUMERIC_COLUMNS));
}

/** The columns of `compareLayerRows` that hold numbers. */
export const COMPARE_LAYER_NUMERIC_COLUMNS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] as const;

/** compareLayerTable's cells (the demo page draws them as an HTML table). */
export function compareLayerRows(a: StepProfile, b: StepProfile): { header: string[]; rows: string[][] } {
  const [costsA, costsB] = [layerCosts(a), layerCosts(b)];
  const layers = [...new Set([...costsA, ...costsB].map((r) => r.layer))];
  const find = (costs: LayerCost[], layer: string) => costs.find((r) => r.layer === layer);
  const cells = (row: LayerCost | undefined) => [...WORK.map((w) => msCell(row, w)), row ? fixed(row.totalMs) : '-', savedCell(row)];
  const rows = layers.map((layer) => {
    const [ra, rb] = [find(costsA, layer), find(costsB, layer)];
    return [layer, (ra ?? rb)!.module, ...cells(ra), ...cells(rb)];
  });
  const short: Record<LayerWork, string> = { forward: 'fwd', dataGradient: 'bwd data', parameterGradients: 'bwd params', update: 'update' };
  const columns = (label: string) => [...WORK.map((w, i) => (i === 0 ? `${label}: ${short[w]}` : short[w])), 'total', 'saved'];
  return { header: ['layer', 'module', ...columns(a.label), ...columns(b.label)], rows };
}
