/**
 * Node only: the gradient-flow monitor's log on disk (one JSON line per sampled step) and its
 * heat maps as PNG (sharp renders the SVG of grad-monitor-plot.ts).
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { GradFlowRecord } from './grad-monitor.js';
import { gradFlowSvg, type HeatMapOptions, type HeatMapPanel } from './grad-monitor-plot.js';

/** An `onRecord` callback that appends each record to `path` as one JSON line. */
export function appendGradFlowLog(path: string): (record: GradFlowRecord) => Promise<void> {
  return (record) => appendFile(path, `${JSON.stringify({ kind: 'grad-flow', ...record })}\n`);
}

/** The records of a log written by `appendGradFlowLog` (other lines are skipped). */
export async function readGradFlowLog(path: string): Promise<GradFlowRecord[]> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line.trim() !== '');
  return lines.map((line) => JSON.parse(line) as GradFlowRecord & { kind?: string }).filter((r) => r.kind === 'grad-flow');
}

/** Writes the heat map as `<base>.svg`, and `<base>.png` when `png` is set. */
export async function writeGradFlowHeatMap(base: string, panels: readonly HeatMapPanel[], options: HeatMapOptions & { png?: boolean }): Promise<string[]> {
  const svg = gradFlowSvg(panels, options);
  await writeFile(`${base}.svg`, svg);
  if (!options.png) return [`${base}.svg`];
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(`${base}.png`);
  return [`${base}.svg`, `${base}.png`];
}
