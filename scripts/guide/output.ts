// Where the guide's generated material goes: figures (SVG, PNG, JSON) under figures/, Markdown
// fragments under generated/. The chapters include the fragments between markers (chapters.ts),
// so every number a chapter shows was written by this script on the current code.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class GuideOutput {
  readonly written: string[] = [];

  constructor(readonly root: string) {}

  get figuresDir(): string {
    return join(this.root, 'figures');
  }

  async init(): Promise<void> {
    await mkdir(join(this.root, 'figures'), { recursive: true });
    await mkdir(join(this.root, 'generated'), { recursive: true });
  }

  /** Writes figures/<name> and returns its path relative to the guide's root (for links). */
  async figure(name: string, data: string | Uint8Array): Promise<string> {
    await writeFile(join(this.root, 'figures', name), data);
    this.written.push(`figures/${name}`);
    return `figures/${name}`;
  }

  /** Writes generated/<name>.md, a fragment a chapter includes. */
  async fragment(name: string, markdown: string): Promise<void> {
    await writeFile(join(this.root, 'generated', `${name}.md`), `${markdown.trim()}\n`);
    this.written.push(`generated/${name}.md`);
  }
}

/** A Markdown table. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A number with `digits` significant digits, in plain notation where that reads well. */
export function sig(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e6) return Number(value.toPrecision(digits)).toString();
  return value.toExponential(digits - 1);
}

/** Bytes in KiB or MiB, whichever reads better. */
export function mib(bytes: number): string {
  return bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A fenced code block. */
export function code(language: string, text: string): string {
  return `\`\`\`${language}\n${text.trim()}\n\`\`\``;
}
