/**
 * The embedded demo end to end (the README's main job): load the pretrained source weights,
 * run the four methods on the few-label target task over several seeds, print the table and
 * what it says about the method's claims, and write the numbers and curves.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from '../runtime/context.js';
import type { Module } from '../nn/module.js';
import { adapterLabel } from '../runtime/adapter.js';
import { openWeightsFile } from '../models/formats/node-file-source.js';
import { curvesSvg } from '../train/curves.js';
import { GradientMonitor, type GradFlowRecord } from '../train/grad-monitor.js';
import { appendGradFlowLog, writeGradFlowHeatMap } from '../train/grad-monitor-node.js';
import { DEMO_CONFIG, METHODS, runMethod, type DemoConfig, type MethodResult } from './experiments.js';
import { formatReport, judgeClaims, summarise } from './report.js';

/** Where the committed pretrained weights live, found from this file (src/ or dist/). */
export const DEFAULT_DEMO_WEIGHTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'demo', 'source-smallvgg.safetensors');

export interface DemoRunOptions {
  config: DemoConfig;
  weights: string;
  out: string;
  log?: (line: string) => void;
  /** Sample the gradient flow every this many steps (0 or absent: off). */
  gradMonitor?: number;
}

export async function runDemo(ctx: GpuContext, o: DemoRunOptions): Promise<{ results: MethodResult[]; report: string }> {
  const log = o.log ?? console.log;
  const c = o.config;
  log(`adapter: ${adapterLabel(ctx.adapter)}`);
  log(
    `target task: 4 new shape classes, ${c.labelled} labelled images each, ${c.testPerClass} held out per class; ` +
      `${c.headEpochs + c.finetuneEpochs} epochs per method; seeds ${c.seeds.join(', ')}`,
  );
  const pretrained = await openWeightsFile(o.weights);
  log(`pretrained base: ${relative(process.cwd(), o.weights) || o.weights} (${pretrained.metadata.command ?? 'no command recorded'}; source accuracy ${pretrained.metadata.validation_accuracy ?? '?'})`);
  await mkdir(o.out, { recursive: true });
  const results: MethodResult[] = [];
  const flows: { title: string; records: GradFlowRecord[] }[] = [];
  try {
    for (const seed of c.seeds) {
      for (const method of METHODS) {
        let monitor: GradientMonitor | undefined;
        const onModel = o.gradMonitor
          ? (model: Module) => (monitor = new GradientMonitor(model, { every: o.gradMonitor!, drift: true, onRecord: appendGradFlowLog(join(o.out, `grad-flow-${method}-seed${seed}.jsonl`)) }))
          : undefined;
        const result = await runMethod({ ctx, method, seed, config: c, pretrained, onModel });
        monitor?.dispose();
        if (monitor && seed === c.seeds[0]) flows.push({ title: `${method} (seed ${seed})`, records: monitor.records });
        results.push(result);
        log(`seed ${seed} ${method.padEnd(18)} test accuracy ${(100 * result.testAccuracy).toFixed(1)}% (best validation ${(100 * result.bestValAccuracy).toFixed(1)}%, ${result.seconds.toFixed(0)} s)`);
        if (seed === c.seeds[0]) await writeFile(join(o.out, `curves-${method}.svg`), curvesSvg(result.history, `demo: ${method} (seed ${seed})`));
      }
    }
  } finally {
    await pretrained.close();
  }
  if (flows.length > 0) {
    await writeGradFlowHeatMap(join(o.out, 'grad-flow'), flows, { metric: 'grad', subtitle: `adapter: ${adapterLabel(ctx.adapter)}` });
    log(`gradient flow: grad-flow-*.jsonl per method and seed, heat map of seed ${c.seeds[0]} in ${join(o.out, 'grad-flow.svg')}`);
  }
  const summary = summarise(results);
  const claims = judgeClaims(summary, results);
  const report = formatReport(summary, claims);
  log(`\n${report}`);
  await writeFile(join(o.out, 'demo.md'), `# webgpu-transfer demo\n\nadapter: ${adapterLabel(ctx.adapter)}\n\n${report}\n`);
  await writeFile(join(o.out, 'demo.json'), JSON.stringify({ adapter: ctx.adapter, config: c, results, summary, claims }, null, 2));
  log(`\nwrote ${join(o.out, 'demo.md')}, demo.json and curves-*.svg`);
  return { results, report };
}

export { DEMO_CONFIG };
