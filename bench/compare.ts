// Two bench reports side by side, row by row: how our figure moved, whether that is more than the
// rows' own spread, how the peer (tfjs) moved on the same row (when it moved as much, the
// machine did; "ours over tfjs's move" divides it out), and ours as a share of PyTorch's where a
// report has PyTorch's figures.
//   npx tsx bench/compare.ts BEFORE.json AFTER.json
// The reports are bench/run.ts's JSON (bench/results/*.json, bench/reports/*/bench.json). The GPU
// script runs this after its benchmarks: that run against the last one kept from an H200, and
// each variant (plain order, Winograd) against that run.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { halfRange } from './util/timing.js';

/** The parts of a report (bench/run.ts) this reads; older reports may lack the samples. */
export interface ComparedReport {
  meta: { commit?: string; date?: string; adapterLine?: string; dirty?: boolean | null };
  kernels: { name: string; shape: string; unit: string; oursMs: number | null; tfjsMs: number | null; oursRate: number | null; oursSamplesMs?: number[] }[];
  train: { name: string; shape: string; oursMs: number | null; tfjsMs: number | null; oursImagesPerSec: number | null; oursPeakBytes?: number | null; oursSamplesMs?: number[] }[];
  torch?: { results: { name: string; shape: string; medianMs?: number; error?: string }[] } | null;
}

interface Row {
  name: string;
  shape: string;
  unit: string;
  oursMs: number | null;
  tfjsMs: number | null;
  rate: number | null;
  samples: number[];
  peakBytes: number | null;
}

function rowsOf(report: ComparedReport): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const t of report.train) {
    rows.set(`${t.name} ${t.shape}`, { name: t.name, shape: t.shape, unit: 'img/s', oursMs: t.oursMs, tfjsMs: t.tfjsMs, rate: t.oursImagesPerSec, samples: t.oursSamplesMs ?? [], peakBytes: t.oursPeakBytes ?? null });
  }
  for (const k of report.kernels) {
    rows.set(`${k.name} ${k.shape}`, { name: k.name, shape: k.shape, unit: k.unit, oursMs: k.oursMs, tfjsMs: k.tfjsMs, rate: k.oursRate, samples: k.oursSamplesMs ?? [], peakBytes: null });
  }
  return rows;
}

const finite = (x: number | null | undefined): x is number => x !== null && x !== undefined && Number.isFinite(x) && x > 0;
const fixed = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const times = (x: number | null): string => (x === null ? '-' : `${x.toFixed(2)}x`);

/** Before's time over after's: above 1, faster now (the same work on both sides of a row). */
function speedup(before: number | null, after: number | null): number | null {
  return finite(before) && finite(after) ? before / after : null;
}

/** Is `change` more than the larger half-range of the two rows' samples? */
function verdict(change: number | null, before: Row, after: Row): string {
  if (change === null) return '-';
  const spreads = [halfRange(before.samples), halfRange(after.samples)].filter((s): s is number => s !== null);
  if (spreads.length === 0) return 'no samples';
  const spread = Math.max(...spreads);
  if (change > 1 + spread) return 'faster';
  if (change < 1 / (1 + spread)) return 'slower';
  return `within ±${(100 * spread).toFixed(0)}%`;
}

/** Ours as a share of PyTorch's speed on this row, where the report has PyTorch's time. */
function shareOfTorch(report: ComparedReport, row: Row): string {
  const torch = report.torch?.results.find((t) => t.name === row.name && t.shape === row.shape);
  return torch && !torch.error && finite(torch.medianMs) && finite(row.oursMs) ? `${((100 * torch.medianMs) / row.oursMs).toFixed(0)}%` : '-';
}

function describe(label: string, report: ComparedReport): string {
  const m = report.meta;
  return `- ${label}: commit ${m.commit ?? '?'}${m.dirty ? ' (uncommitted changes)' : ''}, ${m.date ?? '?'}, ${m.adapterLine ?? 'adapter unknown'}`;
}

/** The comparison as Markdown. */
export function compareReports(before: ComparedReport, after: ComparedReport): string {
  const lines = [describe('before', before), describe('after', after)];
  if (before.meta.adapterLine !== after.meta.adapterLine) lines.push('- **the adapters differ**: the figures compare machines, not only code');
  lines.push(
    '',
    '| benchmark | shape | ours before | ours after | after vs before | verdict | tfjs after vs before | ours over tfjs\'s move | ours / PyTorch, before -> after | peak MiB, before -> after |',
    '|---|---|---:|---:|---:|---|---:|---:|---|---|',
  );
  const beforeRows = rowsOf(before);
  const afterRows = rowsOf(after);
  for (const [key, a] of afterRows) {
    const b = beforeRows.get(key);
    if (!b) continue;
    const change = speedup(b.oursMs, a.oursMs);
    const peerChange = speedup(b.tfjsMs, a.tfjsMs);
    const rate = (r: Row) => (finite(r.rate) ? `${fixed(r.rate)} ${r.unit}` : '-');
    const torch = `${shareOfTorch(before, b)} -> ${shareOfTorch(after, a)}`;
    const peak = finite(b.peakBytes) && finite(a.peakBytes) ? `${(b.peakBytes / 2 ** 20).toFixed(0)} -> ${(a.peakBytes / 2 ** 20).toFixed(0)}` : '-';
    lines.push(`| ${a.name} | ${a.shape} | ${rate(b)} | ${rate(a)} | ${times(change)} | ${verdict(change, b, a)} | ${times(peerChange)} | ${times(change !== null && peerChange !== null ? change / peerChange : null)} | ${torch === '- -> -' ? '-' : torch} | ${peak} |`);
  }
  const only = (rows: Map<string, Row>, other: Map<string, Row>) => [...rows.keys()].filter((k) => !other.has(k));
  const onlyBefore = only(beforeRows, afterRows);
  const onlyAfter = only(afterRows, beforeRows);
  if (onlyBefore.length > 0) lines.push('', `Only before: ${onlyBefore.join('; ')}`);
  if (onlyAfter.length > 0) lines.push('', `Only after: ${onlyAfter.join('; ')}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [beforePath, afterPath] = process.argv.slice(2);
  if (!beforePath || !afterPath) {
    console.error('usage: npx tsx bench/compare.ts BEFORE.json AFTER.json');
    process.exit(2);
  }
  const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as ComparedReport;
  console.log(compareReports(read(beforePath), read(afterPath)));
}
