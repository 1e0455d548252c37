import type { StepInfo } from './trainer.js';

/**
 * Progress on a terminal: one bar redrawn in place (batches, loss, images/s, ETA); when the
 * output is not a terminal (CI logs, pipes), a plain line every `plainEvery` batches instead.
 */
export class ProgressPrinter {
  private lastLoss: number | undefined;
  /** A bar is drawn on the terminal's current line. */
  private barShown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEvery = 25,
  ) {}

  step(info: StepInfo): void {
    if (info.loss !== undefined) this.lastLoss = info.loss;
    const rate = info.images / Math.max(info.elapsed, 1e-9);
    const remaining = info.batches > info.batch ? ((info.batches - info.batch) * info.elapsed) / info.batch : 0;
    const loss = this.lastLoss === undefined ? '' : ` loss ${this.lastLoss.toFixed(4)}`;
    const text = `${info.phase} epoch ${info.epoch + 1} ${info.batch}/${info.batches}${loss} ${rate.toFixed(1)} img/s ETA ${formatSeconds(remaining)}`;
    if (this.stream.isTTY) {
      const width = 24;
      const filled = Math.round((width * Math.min(info.batch, info.batches)) / Math.max(info.batches, 1));
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      this.barShown = true;
    } else if (info.batch % this.plainEvery === 0 || info.batch === info.batches) {
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the bar's line before other output (once: a second call writes nothing). */
  done(): void {
    if (this.barShown) this.stream.write('\n');
    this.barShown = false;
    this.lastLoss = undefined;
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}
