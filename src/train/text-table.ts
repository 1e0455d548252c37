// Plain-text tables for the terminal: columns padded to their widest cell (browser-safe).

/** `header` over a rule over `rows`; the columns in `rightAligned` (numbers) pad on the left. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A number with `digits` decimals; '-' for none. */
export const fixed = (x: number | null, digits = 1): string => (x === null ? '-' : x.toFixed(digits));

/** A fraction as a percentage with one decimal; '-' for none. */
export const percent = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
