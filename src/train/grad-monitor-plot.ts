/**
 * The gradient-flow monitor's records as a heat map (layers × sampled steps), an SVG document
 * with no dependencies, like curves.ts. Several runs can share one figure and one colour scale,
 * so that "unfreeze at once" and "head first" are compared cell for cell.
 */
import type { GradFlowRecord, LayerFlow } from './grad-monitor.js';
import { escapeXml, svgHeader } from '../svg.js';

export type GradFlowMetric = 'grad' | 'update' | 'relative-update' | 'relative-drift';

export const METRIC_LABELS: Record<GradFlowMetric, string> = {
  grad: 'gradient norm ‖g‖',
  update: 'update norm ‖Δp‖',
  'relative-update': 'relative update ‖Δp‖ / ‖p‖',
  'relative-drift': 'distance from the starting weights ‖p − p₀‖ / ‖p₀‖',
};

/** One cell's value: null where the layer had no gradient (frozen, or pruned from the graph). */
export function metricValue(layer: LayerFlow, metric: GradFlowMetric): number | null {
  switch (metric) {
    case 'grad':
      return layer.grad;
    case 'update':
      return layer.update;
    case 'relative-update':
      return layer.update === null || layer.weight === 0 ? null : layer.update / layer.weight;
    case 'relative-drift':
      return layer.drift === null || !layer.start ? null : layer.drift / layer.start;
  }
}

export interface HeatMapPanel {
  title: string;
  records: readonly GradFlowRecord[];
}

export interface HeatMapOptions {
  metric: GradFlowMetric;
  title?: string;
  /** log10 range of the colour scale; by default the range of every panel's values. */
  range?: [number, number];
  /** A line under the title (e.g. the adapter and settings the run used). */
  subtitle?: string;
}

/** The log10 range [lo, hi] of the positive values of `metric` over all panels. */
export function metricRange(panels: readonly HeatMapPanel[], metric: GradFlowMetric): [number, number] {
  const logs = panels.flatMap((p) => p.records.flatMap((r) => r.layers.map((l) => metricValue(l, metric)))).filter((v): v is number => v !== null && v > 0).map(Math.log10);
  if (logs.length === 0) return [-1, 0];
  const lo = Math.floor(Math.min(...logs) * 2) / 2;
  const hi = Math.ceil(Math.max(...logs) * 2) / 2;
  return [lo, hi > lo ? hi : lo + 1];
}

const LABEL_W = 120;
const CELL_H = 15;
const PLOT_W = 560;
const BAR_W = 14;

export function gradFlowSvg(panels: readonly HeatMapPanel[], options: HeatMapOptions): string {
  const { metric } = options;
  const [lo, hi] = options.range ?? metricRange(panels, metric);
  const columns = Math.max(1, ...panels.map((p) => p.records.length));
  const cellW = PLOT_W / columns;
  const plotW = cellW * columns;
  const layersOf = (p: HeatMapPanel) => p.records[0]?.layers.map((l) => l.layer) ?? [];
  const heights = panels.map((p) => layersOf(p).length * CELL_H);
  const top = options.subtitle ? 84 : 68;
  const gap = 78;
  const height = top + heights.reduce((a, h) => a + h + gap, 0) + 10;
  const width = LABEL_W + plotW + 110;
  const parts = svgHeader(width, height, options.title ?? METRIC_LABELS[metric], options.subtitle ? [options.subtitle] : []);
  parts.push(
    `<defs><pattern id="none" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="6" height="6" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#cfcfcf" stroke-width="2"/></pattern></defs>`,
  );
  let y = top;
  panels.forEach((panel, k) => {
    const layers = layersOf(panel);
    parts.push(`<text x="${LABEL_W}" y="${y - 22}" font-size="12" font-weight="bold">${escapeXml(panel.title)}</text>`);
    layers.forEach((name, row) => {
      parts.push(`<text x="${LABEL_W - 6}" y="${y + row * CELL_H + CELL_H - 4}" text-anchor="end">${escapeXml(name)}</text>`);
    });
    panel.records.forEach((record, col) => {
      const x = LABEL_W + col * cellW;
      record.layers.forEach((layer, row) => {
        const v = metricValue(layer, metric);
        const fill = v === null ? 'url(#none)' : colour((Math.log10(Math.max(v, 1e-30)) - lo) / (hi - lo));
        parts.push(`<rect x="${x.toFixed(2)}" y="${y + row * CELL_H}" width="${(cellW + 0.5).toFixed(2)}" height="${CELL_H}" fill="${fill}"/>`);
      });
      const previous = panel.records[col - 1];
      if (col === 0 || previous!.phase !== record.phase) {
        if (col > 0) parts.push(`<line x1="${x}" x2="${x}" y1="${y - 4}" y2="${y + heights[k]! + 4}" stroke="#000" stroke-dasharray="4 2"/>`);
        parts.push(`<text x="${x + 2}" y="${y - 5}" fill="#333">${escapeXml(record.phase)}</text>`);
      }
    });
    const steps = panel.records.map((r) => r.step);
    const ticks = [...new Set([0, Math.floor((steps.length - 1) / 2), steps.length - 1])].filter((i) => i >= 0 && i < steps.length);
    for (const i of ticks) {
      parts.push(`<text x="${LABEL_W + (i + 0.5) * cellW}" y="${y + heights[k]! + 13}" text-anchor="middle" fill="#555">${steps[i]}</text>`);
    }
    parts.push(`<text x="${LABEL_W + plotW / 2}" y="${y + heights[k]! + 27}" text-anchor="middle" fill="#555">training step (${steps.length} sampled)</text>`);
    y += heights[k]! + gap;
  });
  // Colour bar: integer (or half) powers of ten.
  const barX = LABEL_W + plotW + 24;
  const barTop = top;
  const barH = Math.max(120, Math.min(260, heights[0] ?? 120));
  const stops = 24;
  for (let i = 0; i < stops; i++) {
    parts.push(`<rect x="${barX}" y="${(barTop + barH - ((i + 1) / stops) * barH).toFixed(2)}" width="${BAR_W}" height="${(barH / stops + 0.3).toFixed(2)}" fill="${colour((i + 0.5) / stops)}"/>`);
  }
  const step = hi - lo > 4 ? 1 : 0.5;
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) {
    const ty = barTop + barH - ((v - lo) / (hi - lo)) * barH;
    parts.push(`<text x="${barX + BAR_W + 4}" y="${ty + 4}">${formatPower(v)}</text>`);
  }
  parts.push(`<text x="${barX}" y="${barTop + barH + 16}" fill="#555">(0 and below:</text><text x="${barX}" y="${barTop + barH + 29}" fill="#555">the darkest)</text>`);
  parts.push(`<rect x="${barX}" y="${barTop + barH + 40}" width="${BAR_W}" height="${BAR_W}" fill="url(#none)" stroke="#bbb"/>`);
  parts.push(`<text x="${barX}" y="${barTop + barH + 68}">no gradient</text><text x="${barX}" y="${barTop + barH + 81}">(frozen)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function formatPower(v: number): string {
  const value = 10 ** v;
  return Number.isInteger(v) ? `1e${v}` : value.toExponential(1).replace('e+', 'e');
}

// A perceptually ordered ramp (viridis, sampled at 6 points): dark blue small, yellow large.
const RAMP = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
] as const;

function colour(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const c = RAMP[i]!.map((a, k) => Math.round(a + (RAMP[i + 1]![k]! - a) * f));
  return `rgb(${c.join(',')})`;
}
