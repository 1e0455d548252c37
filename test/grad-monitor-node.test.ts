// The monitor's files: JSON lines that read back as written, and heat maps that open as images.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import type { GradFlowRecord, LayerFlow } from '../src/train/grad-monitor.js';
import { appendGradFlowLog, readGradFlowLog, writeGradFlowHeatMap } from '../src/train/grad-monitor-node.js';
import { metricRange, metricValue } from '../src/train/grad-monitor-plot.js';
import { gradMonitorOption } from '../src/cli/commands/train.js';
import { UsageError } from '../src/cli/command.js';

const dir = mkdtempSync(join(tmpdir(), 'wgt-grad-flow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layer(name: string, grad: number | null): LayerFlow {
  const weight = 2;
  return {
    layer: name,
    trainable: grad !== null,
    grad,
    update: grad === null ? null : grad / 100,
    weight,
    drift: grad === null ? 0 : grad / 10,
    start: weight,
    params: [],
    inGraph: grad !== null,
    backwardKernels: grad === null ? {} : { 'conv2d.weight_grad.blocked': 1 },
    ranWeightGrad: grad !== null,
    ranInputGrad: false,
  };
}

const records: GradFlowRecord[] = [1, 2, 3].map((step) => ({
  step,
  phase: step < 3 ? 'transfer' : 'finetune',
  epoch: 0,
  batch: step,
  layers: [layer('features.0', step < 3 ? null : 0.5), layer('classifier.2', step * 1.5)],
  stepKernels: {},
  monitorDispatches: 4,
}));

describe('gradient-flow files', () => {
  it('writes one JSON line per record and reads them back, skipping other lines', async () => {
    const path = join(dir, 'log.jsonl');
    writeFileSync(path, `${JSON.stringify({ phase: 'transfer', epoch: 1 })}\n`); // an epoch line
    const append = appendGradFlowLog(path);
    for (const r of records) await append(r);
    const back = await readGradFlowLog(path);
    expect(back.map(({ step, phase, layers }) => ({ step, phase, layers }))).toEqual(records.map(({ step, phase, layers }) => ({ step, phase, layers })));
  });

  it('plots every measure, frozen cells as "no gradient", and writes SVG and PNG that open', async () => {
    expect(metricValue(records[0]!.layers[0]!, 'grad')).toBeNull();
    expect(metricValue(records[2]!.layers[0]!, 'relative-update')).toBeCloseTo(0.005 / 2);
    expect(metricValue(records[2]!.layers[0]!, 'relative-drift')).toBeCloseTo(0.05 / 2);
    expect(metricRange([{ title: 't', records }], 'grad')).toEqual([-0.5, 1]);
    const files = await writeGradFlowHeatMap(join(dir, 'grad-flow'), [{ title: 'test', records }], { metric: 'grad', png: true });
    for (const file of files) expect((await sharp(file).metadata()).width).toBeGreaterThan(300);
  });

  it('--grad-monitor takes a whole number of steps', () => {
    const args = (value?: string) => ({ values: value === undefined ? {} : { 'grad-monitor': value }, positionals: [] });
    expect(gradMonitorOption(args())).toBe(0);
    expect(gradMonitorOption(args('5'))).toBe(5);
    expect(() => gradMonitorOption(args('2.5'))).toThrow(UsageError);
    expect(() => gradMonitorOption(args('-1'))).toThrow(UsageError);
  });
});
