// Per-kernel GPU time from `timestamp-query` (ctx.startProfiling / stopProfiling), summed by kernel.
import type { KernelTiming } from '../../src/runtime/profiler.js';
import { el, table } from './dom.js';

export interface KernelSummary {
  name: string;
  dispatches: number;
  totalUs: number;
}

export function summariseTimings(timings: readonly KernelTiming[]): KernelSummary[] {
  const byName = new Map<string, KernelSummary>();
  for (const t of timings) {
    const row = byName.get(t.name) ?? { name: t.name, dispatches: 0, totalUs: 0 };
    row.dispatches++;
    row.totalUs += (t.endNs - t.startNs) / 1000;
    byName.set(t.name, row);
  }
  return [...byName.values()].sort((a, b) => b.totalUs - a.totalUs);
}

export function renderTimings(panel: HTMLElement, what: string, timings: readonly KernelTiming[] | null): void {
  panel.replaceChildren(el('h2', 'Kernel timings'));
  if (timings === null) {
    panel.append(el('p', 'This adapter has no timestamp-query feature: kernels cannot be timed here.'));
    return;
  }
  const rows = summariseTimings(timings);
  const total = rows.reduce((s, r) => s + r.totalUs, 0);
  panel.append(
    el('p', `${what}: ${timings.length} dispatches, ${total.toFixed(0)} µs of GPU time.`),
    table(
      ['kernel', 'dispatches', 'total µs', 'mean µs'],
      rows.map((r) => [r.name, String(r.dispatches), r.totalUs.toFixed(1), (r.totalUs / r.dispatches).toFixed(1)]),
      [1, 2, 3],
    ),
    el('p', 'Browsers may round timestamps (Chromium to 100 µs unless started with --enable-webgpu-developer-features).', 'note'),
  );
  panel.querySelector('table')!.id = 'timings';
}
