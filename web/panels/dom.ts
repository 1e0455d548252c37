// The little DOM building the demo needs; no framework.

/** A new element with text content and an optional class. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', className = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A table with a header row and one row per entry of `rows` (cells as text). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], numericColumns: readonly number[] = []): HTMLTableElement {
  const t = el('table');
  const head = t.createTHead().insertRow();
  for (const h of headers) head.append(el('th', h));
  const body = t.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    cells.forEach((text, i) => row.append(el('td', text, numericColumns.includes(i) ? 'num' : '')));
  }
  return t;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en');
}

/** RGB bytes (row-major, height x width x 3) on a canvas of the same size. */
export function rgbCanvas(rgb: Uint8Array, width: number, height: number): HTMLCanvasElement {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, 255], 4 * i);
  const canvas = el('canvas');
  canvas.width = width;
  canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(rgba, width, height), 0, 0);
  return canvas;
}
