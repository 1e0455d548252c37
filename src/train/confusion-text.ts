// Confusion counts as text, for eval's report and the end of a training run (browser-safe).

/** Up to this many classes the whole matrix is printed; a wider one does not read in a terminal. */
const MATRIX_CLASSES = 10;

/**
 * Per class: its images, how many were right, and what it was most often taken for; then, for a
 * few classes, the whole confusion matrix (a row per true class, a column per predicted class).
 */
export function describeConfusion(classes: readonly string[], counts: readonly (readonly number[])[]): string[] {
  const name = Math.max(5, ...classes.map((c) => c.length));
  const lines = [`${'class'.padEnd(name)}  images  correct  accuracy  most often taken for`];
  classes.forEach((c, i) => {
    const row = counts[i]!;
    const images = row.reduce((a, b) => a + b, 0);
    const wrong = row.map((n, j) => ({ n, j })).filter(({ n, j }) => j !== i && n > 0).sort((a, b) => b.n - a.n)[0];
    const accuracy = images > 0 ? `${((100 * row[i]!) / images).toFixed(1)}%` : '-';
    lines.push(`${c.padEnd(name)}  ${String(images).padStart(6)}  ${String(row[i]).padStart(7)}  ${accuracy.padStart(8)}  ${wrong ? `${classes[wrong.j]} (${wrong.n})` : '-'}`);
  });
  if (classes.length > MATRIX_CLASSES) return lines;
  const width = Math.max(...classes.map((c) => c.length), ...counts.flat().map((n) => String(n).length));
  lines.push('confusion (a row per true class, a column per predicted class):');
  lines.push(`${''.padEnd(name)}  ${classes.map((c) => c.padStart(width)).join('  ')}`);
  classes.forEach((c, i) => lines.push(`${c.padEnd(name)}  ${counts[i]!.map((n) => String(n).padStart(width)).join('  ')}`));
  return lines;
}
