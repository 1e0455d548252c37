// The guide's charts as plain SVG: stacked bars (one panel per measure), a timeline of a step's
// dispatches on the GPU clock, and a step's live memory, event by event.
import { escapeXml, svgHeader } from '../../src/svg.js';
export interface Segment {
  name: string;
  value: number;
}

export interface BarPanel {
  title: string;
  unit: string;
  bars: { label: string; segments: Segment[] }[];
}

const COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

export function colourOf(names: readonly string[], name: string): string {
  return COLOURS[names.indexOf(name) % COLOURS.length]!;
}

export function stackedBarsSvg(title: string, subtitle: readonly string[], panels: readonly BarPanel[]): string {
  const panelW = 250;
  const plotH = 200;
  const top = 70 + 15 * subtitle.length;
  const width = 40 + panels.length * (panelW + 30);
  const names = [...new Set(panels.flatMap((p) => p.bars.flatMap((b) => b.segments.map((s) => s.name))))];
  const parts = svgHeader(width, top + plotH + 110, title, subtitle);
  panels.forEach((panel, k) => {
    const x0 = 60 + k * (panelW + 30);
    const max = Math.max(1e-12, ...panel.bars.map((b) => b.segments.reduce((a, s) => a + s.value, 0)));
    const barW = (panelW - 20) / panel.bars.length - 14;
    parts.push(`<text x="${x0 + panelW / 2}" y="${top - 22}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
    parts.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`);
    parts.push(`<text x="${x0 - 4}" y="${top + 4}" text-anchor="end" fill="#555">${formatValue(max)}</text>`);
    parts.push(`<text x="${x0 - 4}" y="${top + plotH}" text-anchor="end" fill="#555">0</text>`);
    parts.push(`<text x="${x0 - 40}" y="${top + plotH / 2}" transform="rotate(-90 ${x0 - 40} ${top + plotH / 2})" text-anchor="middle" fill="#555">${escapeXml(panel.unit)}</text>`);
    panel.bars.forEach((bar, i) => {
      const x = x0 + 10 + i * (barW + 14);
      let y = top + plotH;
      for (const s of bar.segments) {
        const h = (s.value / max) * plotH;
        y -= h;
        parts.push(`<rect x="${x}" y="${y.toFixed(2)}" width="${barW.toFixed(2)}" height="${h.toFixed(2)}" fill="${colourOf(names, s.name)}"/>`);
      }
      const totalValue = bar.segments.reduce((a, s) => a + s.value, 0);
      parts.push(`<text x="${x + barW / 2}" y="${y - 4}" text-anchor="middle">${formatValue(totalValue)}</text>`);
      bar.label.split('\n').forEach((line, j) => {
        parts.push(`<text x="${x + barW / 2}" y="${top + plotH + 15 + j * 13}" text-anchor="middle">${escapeXml(line)}</text>`);
      });
    });
  });
  let x = 60;
  names.forEach((name) => {
    parts.push(`<rect x="${x}" y="${top + plotH + 62}" width="12" height="12" fill="${colourOf(names, name)}"/>`);
    parts.push(`<text x="${x + 17}" y="${top + plotH + 72}">${escapeXml(name)}</text>`);
    x += 40 + 6.5 * name.length;
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export interface TimelineItem {
  name: string;
  part: string;
  startMs: number;
  endMs: number;
}

/** One row per part of the step; each dispatch a bar from its start to its end on the GPU clock. */
export function timelineSvg(title: string, subtitle: readonly string[], items: readonly TimelineItem[], parts: readonly string[]): string {
  const width = 900;
  const left = 90;
  const plotW = width - left - 20;
  const rowH = 26;
  const top = 45 + 15 * subtitle.length;
  const t0 = Math.min(...items.map((i) => i.startMs));
  const t1 = Math.max(...items.map((i) => i.endMs));
  const sx = (t: number) => left + ((t - t0) / Math.max(t1 - t0, 1e-9)) * plotW;
  const out = svgHeader(width, top + parts.length * rowH + 50, title, subtitle);
  parts.forEach((part, row) => {
    out.push(`<text x="${left - 6}" y="${top + row * rowH + 16}" text-anchor="end">${escapeXml(part)}</text>`);
    out.push(`<rect x="${left}" y="${top + row * rowH + 2}" width="${plotW}" height="${rowH - 4}" fill="#f4f4f4"/>`);
  });
  for (const item of items) {
    const row = parts.indexOf(item.part);
    const x = sx(item.startMs);
    const w = Math.max(0.6, sx(item.endMs) - x);
    out.push(`<rect x="${x.toFixed(2)}" y="${top + row * rowH + 4}" width="${w.toFixed(2)}" height="${rowH - 8}" fill="${colourOf(parts, item.part)}" stroke="white" stroke-width="0.3"><title>${escapeXml(item.name)} ${(item.endMs - item.startMs).toFixed(3)} ms</title></rect>`);
  }
  const axisY = top + parts.length * rowH + 14;
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    out.push(`<text x="${sx(t)}" y="${axisY}" text-anchor="${i === 0 ? 'start' : i === 4 ? 'end' : 'middle'}" fill="#555">${(t - t0).toFixed(1)} ms</text>`);
  }
  out.push(`<text x="${left + plotW / 2}" y="${axisY + 16}" text-anchor="middle" fill="#555">GPU clock, from the step's first dispatch</text>`);
  out.push('</svg>');
  return out.join('\n');
}

export interface MemoryPanel {
  title: string;
  /** Live bytes after each hand-out or return of a buffer, in order. */
  live: readonly number[];
  /** Where each part of the step begins, as an index into `live`. */
  parts: readonly { name: string; from: number }[];
}

/** One panel per step: live memory (MiB) through the step, over bands for its parts, on a shared scale. */
export function memoryTimelineSvg(title: string, subtitle: readonly string[], panels: readonly MemoryPanel[]): string {
  const panelW = 250;
  const plotH = 180;
  const top = 70 + 15 * subtitle.length;
  const width = 60 + panels.length * (panelW + 30);
  const names = [...new Set(panels.flatMap((p) => p.parts.map((part) => part.name)))];
  const max = Math.max(1, ...panels.flatMap((p) => p.live)) / 2 ** 20;
  const out = svgHeader(width, top + plotH + 80, title, subtitle);
  panels.forEach((panel, k) => {
    const x0 = 60 + k * (panelW + 30);
    const sx = (i: number) => x0 + (i / Math.max(1, panel.live.length - 1)) * panelW;
    const sy = (bytes: number) => top + plotH - (bytes / 2 ** 20 / max) * plotH;
    out.push(`<text x="${x0 + panelW / 2}" y="${top - 22}" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
    panel.parts.forEach((part, j) => {
      const to = panel.parts[j + 1]?.from ?? panel.live.length - 1;
      out.push(`<rect x="${sx(part.from).toFixed(2)}" y="${top}" width="${Math.max(0, sx(to) - sx(part.from)).toFixed(2)}" height="${plotH}" fill="${colourOf(names, part.name)}" fill-opacity="0.15"/>`);
    });
    const path = panel.live.map((bytes, i) => `${i === 0 ? 'M' : 'L'}${sx(i).toFixed(2)},${sy(bytes).toFixed(2)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="#333" stroke-width="1.5"/>`);
    out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>`);
    out.push(`<text x="${x0 - 4}" y="${top + 4}" text-anchor="end" fill="#555">${formatValue(max)}</text>`);
    out.push(`<text x="${x0 - 4}" y="${top + plotH}" text-anchor="end" fill="#555">0</text>`);
    out.push(`<text x="${x0 + panelW / 2}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">buffers handed out and returned, in order</text>`);
  });
  out.push(`<text x="20" y="${top + plotH / 2}" transform="rotate(-90 20 ${top + plotH / 2})" text-anchor="middle" fill="#555">live MiB</text>`);
  let x = 60;
  names.forEach((name) => {
    out.push(`<rect x="${x}" y="${top + plotH + 40}" width="12" height="12" fill="${colourOf(names, name)}" fill-opacity="0.35"/>`);
    out.push(`<text x="${x + 17}" y="${top + plotH + 50}">${escapeXml(name)}</text>`);
    x += 40 + 6.5 * name.length;
  });
  out.push('</svg>');
  return out.join('\n');
}

function formatValue(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(2);
}
