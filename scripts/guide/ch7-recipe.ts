// Chapter 7: the two-phase recipe. The demo's four methods over its seeds (the accuracy table and
// the method's claims judged on it), each run watched by the gradient-flow monitor, plus one
// control: unfreezing at once at the fine-tuning rate (lr / 10), which separates "the head is
// random" from "the rate is ten times higher". Heat maps of the first seed, and per seed, what
// reached the pretrained base in the first steps it trained.
import type { GpuContext } from '../../src/runtime/context.js';
import { adapterLabel } from '../../src/runtime/adapter.js';
import type { Module } from '../../src/nn/module.js';
import { openWeightsFile } from '../../src/models/formats/node-file-source.js';
import { METHODS, runMethod, type DemoConfig, type MethodName, type MethodResult } from '../../src/demo/experiments.js';
import { formatReport, judgeClaims, summarise } from '../../src/demo/report.js';
import { GradientMonitor, type GradFlowRecord } from '../../src/train/grad-monitor.js';
import { gradFlowSvg, metricRange, type GradFlowMetric, type HeatMapPanel } from '../../src/train/grad-monitor-plot.js';
import { sig, table, type GuideOutput } from './output.js';

const CONTROL = 'unfreeze-at-once, lr/10';
type RunName = MethodName | typeof CONTROL;
const WATCHED: RunName[] = ['unfreeze-at-once', CONTROL, 'transfer+finetune'];
/** Steps compared: the first this many steps in which the base trains. */
const FIRST_STEPS = 5;

interface BaseFlow {
  grad: number;
  relativeUpdate: number;
  /** ‖p − p₀‖ / ‖p₀‖ over the base after those steps, and at the end of training. */
  driftEarly: number;
  driftEnd: number;
}

const isBase = (layer: string) => layer.startsWith('features.');

/** Norms over every base layer together (√Σ of the layers' squares). */
function baseNorm(record: GradFlowRecord, pick: (l: GradFlowRecord['layers'][number]) => number | null): number {
  return Math.hypot(...record.layers.filter((l) => isBase(l.layer)).map((l) => pick(l) ?? 0));
}

function baseFlow(records: readonly GradFlowRecord[]): BaseFlow {
  const training = records.filter((r) => r.layers.some((l) => isBase(l.layer) && l.grad !== null)).slice(0, FIRST_STEPS);
  const mean = (f: (r: GradFlowRecord) => number) => training.reduce((a, r) => a + f(r), 0) / Math.max(1, training.length);
  const drift = (r: GradFlowRecord | undefined) => (r ? baseNorm(r, (l) => l.drift) / baseNorm(r, (l) => l.start) : NaN);
  return {
    grad: mean((r) => baseNorm(r, (l) => l.grad)),
    relativeUpdate: mean((r) => baseNorm(r, (l) => l.update) / baseNorm(r, (l) => l.weight)),
    driftEarly: drift(training[training.length - 1]),
    driftEnd: drift(records[records.length - 1]),
  };
}

export async function chapter7(ctx: GpuContext, out: GuideOutput, o: { config: DemoConfig; weights: string; weightsNote: string }): Promise<void> {
  const c = o.config;
  const pretrained = await openWeightsFile(o.weights);
  const results: MethodResult[] = [];
  const controls: MethodResult[] = [];
  const flows = new Map<string, GradFlowRecord[]>();
  const log = (line: string) => console.log(`  ${line}`);
  try {
    for (const seed of c.seeds) {
      for (const run of [...METHODS, CONTROL] as RunName[]) {
        const method: MethodName = run === CONTROL ? 'unfreeze-at-once' : run;
        const config = run === CONTROL ? { ...c, lr: c.lr / 10 } : c;
        let monitor: GradientMonitor | undefined;
        const onModel = (model: Module) => {
          monitor = new GradientMonitor(model, { every: 1, drift: true });
          return monitor;
        };
        const result = await runMethod({ ctx, method, seed, config, pretrained, onModel });
        monitor!.dispose();
        (run === CONTROL ? controls : results).push({ ...result, method });
        if (WATCHED.includes(run)) flows.set(`${run}@${seed}`, monitor!.records);
        log(`seed ${seed} ${run.padEnd(24)} test accuracy ${(100 * result.testAccuracy).toFixed(1)}% (${result.seconds.toFixed(0)} s)`);
      }
    }
  } finally {
    await pretrained.close();
  }

  // The accuracy table and the claims, as the demo prints them, plus the control's row.
  const summary = summarise(results);
  const claims = judgeClaims(summary, results);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const controlMean = controls.reduce((a, r) => a + r.testAccuracy, 0) / controls.length;
  const meanOf = (m: MethodName) => summary.find((s) => s.method === m)!.mean;
  await out.fragment(
    'ch7-accuracy',
    [
      formatReport(summary, claims),
      '',
      `Control, ${CONTROL} (everything trains from the start at ${c.lr / 10}): test accuracy ${pct(controlMean)} (per seed ${controls.map((r) => pct(r.testAccuracy)).join(', ')}).`,
      '',
      `(${adapterLabel(ctx.adapter)}. Target task: ${c.labelled} labelled images per class, ${c.validationPerClass} validation and ${c.testPerClass} test images per class; ${c.headEpochs} + ${c.finetuneEpochs} epochs, batch ${c.batchSize}, SGD momentum 0.9, lr ${c.lr} (fine-tuning ${c.lr / 10}); seeds ${c.seeds.join(', ')}. ${o.weightsNote})`,
    ].join('\n'),
  );

  // What reached the base, per seed.
  const rows: string[][] = [];
  const firstRows: string[][] = [];
  const ratios: number[] = [];
  const driftRatios: number[] = [];
  const firstStepControl: number[] = [];
  const controlDrift: number[] = [];
  let frozenSteps = 0;
  let frozenStepsWithBaseKernels = 0;
  for (const seed of c.seeds) {
    const records = (run: RunName) => flows.get(`${run}@${seed}`)!;
    const base = Object.fromEntries(WATCHED.map((run) => [run, baseFlow(records(run))])) as Record<RunName, BaseFlow>;
    ratios.push(base['unfreeze-at-once'].grad / base['transfer+finetune'].grad);
    driftRatios.push(base['unfreeze-at-once'].driftEnd / base['transfer+finetune'].driftEnd);
    controlDrift.push(base[CONTROL].driftEnd / base['transfer+finetune'].driftEnd);
    // Same weights, same batch: the control's first gradient must be unfreeze-at-once's, exactly.
    const firstBase = (run: RunName) => baseNorm(records(run)[0]!, (l) => l.grad);
    firstStepControl.push(firstBase(CONTROL) / firstBase('unfreeze-at-once'));
    for (const run of WATCHED) {
      const b = base[run];
      rows.push([String(seed), run, sig(b.grad), sig(b.relativeUpdate), sig(b.driftEarly), sig(b.driftEnd)]);
      // The first step in which the base trains: what the head looked like then.
      const first = records(run).find((r) => r.layers.some((l) => isBase(l.layer) && l.grad !== null))!;
      const head = first.layers[first.layers.length - 1]!;
      firstRows.push([String(seed), run, `${first.phase}, step ${first.step}`, sig(baseNorm(first, (l) => l.grad)), sig(head.grad), sig(head.weight)]);
    }
    // Head first: during phase 1 no base layer may have run a backward kernel at all.
    const phase1 = records('transfer+finetune').filter((r) => r.phase === 'transfer');
    frozenSteps += phase1.length;
    frozenStepsWithBaseKernels += phase1.filter((r) => r.layers.some((l) => isBase(l.layer) && (l.inGraph || l.ranWeightGrad || l.ranInputGrad))).length;
  }
  const geomean = (xs: number[]) => Math.exp(xs.reduce((a, r) => a + Math.log(r), 0) / xs.length);
  const larger = ratios.filter((r) => r > 1).length;
  const headName = flows.get(`transfer+finetune@${c.seeds[0]}`)![0]!.layers.at(-1)!.layer;
  await out.fragment(
    'ch7-base-flow',
    [
      table(
        ['seed', 'run', `‖g‖ of the base, mean of its first ${FIRST_STEPS} trained steps`, '‖Δp‖ / ‖p‖ per step, same steps', `‖p − p₀‖ / ‖p₀‖ after those ${FIRST_STEPS} steps`, '‖p − p₀‖ / ‖p₀‖ at the end'],
        rows,
      ),
      '',
      `The base is \`features.*\` (the six pretrained convolutions) taken together; ‖·‖ over all of their weights and biases.`,
      '',
      table(['seed', 'run', 'first step the base trains', '‖g‖ of the base', `‖g‖ of the head (\`${headName}\`)`, `‖W‖ of the head`], firstRows),
    ].join('\n'),
  );
  const verdict = (holds: boolean) => (holds ? 'borne out' : 'NOT borne out');
  await out.fragment(
    'ch7-reading',
    [
      table(
        ['what the recipe says', 'this run', 'evidence'],
        [
          [
            'Training the head first keeps the base out of backward',
            verdict(frozenSteps > 0 && frozenStepsWithBaseKernels === 0),
            `in ${frozenSteps} monitored phase-1 steps of transfer+finetune, ${frozenStepsWithBaseKernels} had a base layer in the graph or running a backward kernel`,
          ],
          [
            'Unfreezing at once sends larger gradients into the base than unfreezing after the head is trained',
            verdict(geomean(ratios) > 1),
            `base ‖g‖ over the first ${FIRST_STEPS} trained steps, unfreeze-at-once ÷ transfer+finetune: ${ratios.map((r) => sig(r)).join(', ')} (geometric mean ${sig(geomean(ratios))}; larger on ${larger} of ${ratios.length} seeds)`,
          ],
          [
            'Unfreezing at once moves the pretrained weights further than the recipe does',
            verdict(geomean(driftRatios) > 1),
            `‖p − p₀‖ / ‖p₀‖ of the base at the end, unfreeze-at-once ÷ transfer+finetune: ${driftRatios.map((r) => sig(r)).join(', ')} (geometric mean ${sig(geomean(driftRatios))}; further on ${driftRatios.filter((r) => r > 1).length} of ${driftRatios.length} seeds)`,
          ],
        ],
      ),
      '',
      `The control, unfreezing at once at the fine-tuning rate: its first step's gradient into the base is ${firstStepControl.map((r) => sig(r)).join(', ')} times unfreeze-at-once's (the same weights and the same batch), ` +
        `and at the end it had moved the base ${controlDrift.map((r) => sig(r)).join(', ')} times as far as the recipe (per seed). ` +
        `Mean test accuracy: control ${pct(controlMean)}, unfreeze-at-once ${pct(meanOf('unfreeze-at-once'))}, transfer+finetune ${pct(meanOf('transfer+finetune'))}.`,
    ].join('\n'),
  );

  // Heat maps of the first seed, one colour scale per measure across the three runs.
  const seed = c.seeds[0]!;
  const panels: HeatMapPanel[] = WATCHED.map((run) => ({ title: `${run} (seed ${seed})`, records: flows.get(`${run}@${seed}`)! }));
  const subtitle = `demo network, ${adapterLabel(ctx.adapter)}; every step sampled`;
  const figures: string[] = [];
  for (const metric of ['grad', 'relative-update', 'relative-drift'] as GradFlowMetric[]) {
    figures.push(await out.figure(`ch7-grad-flow-${metric}.svg`, gradFlowSvg(panels, { metric, range: metricRange(panels, metric), subtitle })));
  }
  await out.figure('ch7-grad-flow.json', JSON.stringify(compact(panels)));
  await out.fragment(
    'ch7-heatmaps',
    [
      `![gradient norm per layer and step](${figures[0]})`,
      '',
      `![relative update per layer and step](${figures[1]})`,
      '',
      `![distance from the pretrained weights per layer and step](${figures[2]})`,
      '',
      `The numbers behind the three maps: [figures/ch7-grad-flow.json](figures/ch7-grad-flow.json).`,
    ].join('\n'),
  );
}

/** The heat maps' numbers, per run: layers, steps, phases, and one row per layer per measure. */
function compact(panels: readonly HeatMapPanel[]) {
  const round = (v: number | null) => (v === null ? null : Number(v.toPrecision(4)));
  return panels.map((p) => {
    const layers = p.records[0]?.layers.map((l) => l.layer) ?? [];
    const series = (f: (l: GradFlowRecord['layers'][number]) => number | null) => layers.map((_, i) => p.records.map((r) => round(f(r.layers[i]!))));
    return {
      run: p.title,
      layers,
      steps: p.records.map((r) => r.step),
      phases: p.records.map((r) => r.phase),
      grad: series((l) => l.grad),
      update: series((l) => l.update),
      weight: series((l) => l.weight),
      drift: series((l) => l.drift),
      start: series((l) => l.start),
    };
  });
}
