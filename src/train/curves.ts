import type { EpochRecord } from './trainer.js';
import { escapeXml } from '../svg.js';

/**
 * Loss and accuracy curves of a run as an SVG document (no dependencies; opens in any browser):
 * two panels, training and validation lines, a dashed line where a phase begins.
 */
export function curvesSvg(history: readonly EpochRecord[], title = 'webgpu-transfer run'): string {
  const width = 760;
  const panel = { w: 340, h: 230, top: 50 };
  const panels = [
    { x: 50, label: 'loss', series: [['train', (r: EpochRecord) => r.trainLoss], ['validation', (r: EpochRecord) => r.valLoss]] as const },
    { x: 420, label: 'accuracy', series: [['train', (r: EpochRecord) => r.trainAccuracy], ['validation', (r: EpochRecord) => r.valAccuracy]] as const },
  ];
  const colours = { train: '#1f77b4', validation: '#d62728' };
  const n = history.length;
  const parts: string[] = [
    // The viewBox lets a page scale the drawing to its column (the demo page draws it live).
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="330" viewBox="0 0 ${width} 330" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  for (const p of panels) {
    const values = history.flatMap((r) => p.series.map(([, f]) => f(r))).filter(Number.isFinite);
    const lo = p.label === 'accuracy' ? 0 : Math.min(0, ...values);
    const hi = p.label === 'accuracy' ? 1 : Math.max(1e-9, ...values) * 1.05;
    const sx = (i: number) => p.x + (n <= 1 ? panel.w / 2 : (i / (n - 1)) * panel.w);
    const sy = (v: number) => panel.top + panel.h - ((v - lo) / (hi - lo || 1)) * panel.h;
    parts.push(`<rect x="${p.x}" y="${panel.top}" width="${panel.w}" height="${panel.h}" fill="none" stroke="#999"/>`);
    parts.push(`<text x="${p.x + panel.w / 2}" y="${panel.top - 8}" text-anchor="middle">${p.label}</text>`);
    for (const t of [0, 0.5, 1]) {
      const v = lo + t * (hi - lo);
      parts.push(`<text x="${p.x - 6}" y="${sy(v) + 4}" text-anchor="end" fill="#555">${v.toFixed(2)}</text>`);
    }
    history.forEach((r, i) => {
      if (i > 0 && r.phase !== history[i - 1]!.phase) {
        const x = (sx(i - 1) + sx(i)) / 2;
        parts.push(`<line x1="${x}" x2="${x}" y1="${panel.top}" y2="${panel.top + panel.h}" stroke="#888" stroke-dasharray="4 3"/>`);
        parts.push(`<text x="${x + 3}" y="${panel.top + 12}" fill="#555">${escapeXml(r.phase)}</text>`);
      }
    });
    for (const [name, f] of p.series) {
      const points = history.map((r, i) => `${sx(i).toFixed(1)},${sy(f(r)).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${colours[name]}" stroke-width="2"/>`);
      history.forEach((r, i) => parts.push(`<circle cx="${sx(i).toFixed(1)}" cy="${sy(f(r)).toFixed(1)}" r="2.5" fill="${colours[name]}"/>`));
    }
    parts.push(`<text x="${p.x + panel.w / 2}" y="${panel.top + panel.h + 18}" text-anchor="middle" fill="#555">epoch (1..${n})</text>`);
  }
  parts.push(`<text x="50" y="318" fill="${colours.train}">— train</text><text x="120" y="318" fill="${colours.validation}">— validation</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
