// Helpers for the SVG figures the engine and its scripts write: training curves, gradient-flow heat
// maps, augmentation grids, the guide's charts. Browser-safe.

/** Text made safe inside an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The opening of a figure: the <svg> element (11 px sans-serif), a white background, a centred
 * title and grey subtitle lines under it. The caller adds the body and the closing </svg>.
 */
export function svgHeader(width: number, height: number, title: string, subtitle: readonly string[] = []): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width.toFixed(0)}" height="${height.toFixed(0)}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    ...subtitle.map((line, i) => `<text x="${width / 2}" y="${37 + 15 * i}" text-anchor="middle" fill="#555">${escapeXml(line)}</text>`),
  ];
}
