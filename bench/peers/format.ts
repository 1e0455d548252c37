/** Markdown formatting of peer results (shared by tfjs and torch reports). */

export interface RowLike {
  name: string;
  shape: string;
  medianMs: number | null;
  minMs: number | null;
  gflops?: number | null;
  gbps?: number | null;
  imagesPerSec?: number | null;
  samples?: number;
  error?: string;
  check?: string;
  notes?: string;
  memory?: { numBytesInGPU: number; numBytesAllocatedInGPU: number } | undefined;
  loadAvg1?: number;
}

const f = (x: number | null | undefined, d = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(d);

export function rateOf(r: RowLike): string {
  if (r.error) return 'FAILED';
  if (r.imagesPerSec !== undefined) return `${f(r.imagesPerSec)} img/s`;
  if (r.gflops !== undefined) return `${f(r.gflops)} GFLOP/s`;
  if (r.gbps !== undefined) return `${f(r.gbps)} GB/s`;
  return '-';
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** A Markdown table: benchmark | shape | median ms | min ms | rate | n (samples) | load (1-min load average after it) | notes. */
export function markdownTable(rows: readonly RowLike[]): string {
  const lines = [
    '| benchmark | shape | median ms | min ms | rate | n | load | notes |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const notes: string[] = [];
    if (r.error) notes.push(`**error**: ${r.error.replace(/\|/g, '/')}`);
    if (r.check) notes.push(r.check);
    if (r.memory) notes.push(`tfjs GPU memory: ${mib(r.memory.numBytesInGPU)} in use, ${mib(r.memory.numBytesAllocatedInGPU)} pooled (~peak)`);
    if (r.notes) notes.push(r.notes);
    lines.push(
      `| ${r.name} | ${r.shape} | ${f(r.medianMs, 3)} | ${f(r.minMs, 3)} | ${rateOf(r)} | ${r.samples ?? ''} | ${r.loadAvg1 ?? ''} | ${notes.join('; ')} |`,
    );
  }
  return lines.join('\n');
}
