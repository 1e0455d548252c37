import { describe, expect, it } from 'vitest';
import { ProgressPrinter } from '../../src/train/progress.js';

/** A stream that records what is written, a terminal or not. */
function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (text: string) => writes.push(text) > 0 } as unknown as NodeJS.WriteStream };
}

const info = (batch: number) => ({ phase: 'transfer', epoch: 0, batch, batches: 4, images: batch * 8, elapsed: batch * 0.5 });

describe('ProgressPrinter', () => {
  it('on a terminal, ends the bar line once before other output, however often it is asked', () => {
    const { writes, stream: out } = stream(true);
    const progress = new ProgressPrinter(out);
    progress.step(info(1));
    progress.step(info(2));
    progress.done(); // before a log line in the middle of the epoch (the validation cache's)
    progress.done(); // and again at the epoch's end: no blank line
    expect(writes.filter((w) => w === '\n')).toHaveLength(1);
    expect(writes.slice(0, 2).every((w) => w.startsWith('\r['))).toBe(true);
  });

  it('in a log (not a terminal), writes whole lines and nothing on done', () => {
    const { writes, stream: out } = stream(false);
    const progress = new ProgressPrinter(out, 2);
    for (let batch = 1; batch <= 4; batch++) progress.step(info(batch));
    progress.done();
    expect(writes).toEqual(['transfer epoch 1 2/4 16.0 img/s ETA 1s\n', 'transfer epoch 1 4/4 16.0 img/s ETA 0s\n']);
  });
});
