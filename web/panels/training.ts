// The training panel: the run's options (method, epochs of each phase), its progress step by
// step, and its loss and accuracy curves epoch by epoch, drawn by the same `curvesSvg` that
// `webgpu-transfer demo` writes to disk; at the end its score, or where it was stopped.
import { DEMO_CONFIG, METHODS, phasesOf, type DemoConfig, type MethodName } from '../../src/demo/experiments.js';
import { curvesSvg } from '../../src/train/curves.js';
import type { StepInfo } from '../../src/train/trainer.js';
import type { TransferRun } from '../transfer.js';
import { el } from './dom.js';

/** Small enough to finish in about a minute on a software adapter (SwiftShader); a GPU takes seconds. */
export const PAGE_CONFIG: DemoConfig = { ...DEMO_CONFIG, seeds: [1], headEpochs: 3, finetuneEpochs: 2 };

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

export class TrainingPanel {
  private readonly method: HTMLSelectElement;
  private readonly headEpochs: HTMLInputElement;
  private readonly finetuneEpochs: HTMLInputElement;
  private readonly progress: HTMLProgressElement;
  private steps = { done: 0, total: 1 };
  /** Of the run, all phases together. */
  private epochs = 0;
  private title = '';

  constructor(private readonly panel: HTMLElement) {
    const $ = <T extends HTMLElement>(selector: string) => panel.querySelector<T>(selector)!;
    this.method = $('#method');
    this.headEpochs = $('#head-epochs');
    this.finetuneEpochs = $('#finetune-epochs');
    this.progress = $('#progress');
    for (const m of METHODS) this.method.append(new Option(m, m));
    this.method.value = 'transfer+finetune';
    this.headEpochs.value = String(PAGE_CONFIG.headEpochs);
    this.finetuneEpochs.value = String(PAGE_CONFIG.finetuneEpochs);
    for (const input of [this.method, this.headEpochs, this.finetuneEpochs]) input.addEventListener('input', () => this.showPlan());
    this.showPlan();
  }

  /** The run the options ask for. */
  options(): { method: MethodName; config: DemoConfig } {
    const epochs = (input: HTMLInputElement, min: number) => Math.max(min, Math.min(50, Math.round(Number(input.value)) || min));
    return {
      method: this.method.value as MethodName,
      config: { ...PAGE_CONFIG, headEpochs: epochs(this.headEpochs, 1), finetuneEpochs: epochs(this.finetuneEpochs, 0) },
    };
  }

  /** The phases in words: "1. transfer: head only, lr 0.01, 3 epochs; 2. finetune: ...". */
  private showPlan(): void {
    const { method, config } = this.options();
    const phases = phasesOf(method, config).map(
      (p, i) => `${i + 1}. ${p.name}: ${p.trainable.kind === 'head' ? 'the new head only, the pretrained base frozen' : 'everything trains'}, lr ${p.lr}, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}`,
    );
    const start = method === 'scratch' ? 'Random weights' : 'The pretrained base with a new random head';
    this.panel.querySelector('#plan')!.textContent = `${start}; ${phases.join('; ')}. SGD, momentum 0.9, batch ${config.batchSize}.`;
  }

  /** Why the page waits: for the Train button before the first run, for a weight file before a run, or for the user when a run could not start. */
  waiting(message: string): void {
    this.panel.querySelector('#training-status')!.textContent = message;
  }

  /** A run begins: `what` says what it trains on. */
  start(what: string, run: { task: TransferRun['task']; method: MethodName; trainImages: number; config: DemoConfig }): void {
    this.showPlan();
    this.epochs = phasesOf(run.method, run.config).reduce((sum, p) => sum + p.epochs, 0);
    this.steps = { done: 0, total: this.epochs * Math.ceil(run.trainImages / run.config.batchSize) };
    this.progress.value = 0;
    this.title = `${run.method}, ${run.task === 'demo' ? 'the demo task' : 'your images'}`;
    this.panel.querySelector('#run-what')!.textContent = what;
    this.panel.querySelector('#progress-text')!.textContent = 'starting (the first steps compile the kernels)…';
    this.panel.querySelector('#curves')!.replaceChildren(el('p', 'The curves appear after the first epoch.', 'note'));
    this.panel.querySelector('#training-status')!.textContent = '';
  }

  step(info: StepInfo): void {
    this.steps.done++;
    this.progress.value = this.steps.done / Math.max(1, this.steps.total);
    this.panel.querySelector('#progress-text')!.textContent = `${info.phase}, epoch ${info.epoch + 1}, batch ${info.batch} of ${info.batches}`;
  }

  epoch(run: TransferRun): void {
    const last = run.history.at(-1)!;
    this.panel.querySelector('#curves')!.innerHTML = curvesSvg(run.history, this.title);
    this.panel.querySelector('#training-status')!.textContent =
      `Epoch ${run.history.length}: training loss ${last.trainLoss.toFixed(3)}, validation accuracy ${percent(last.valAccuracy)} (${last.seconds.toFixed(1)} s).`;
  }

  /** Stop was pressed: the trainer stops before its next step (the page sees a click after a step, or between epochs). */
  stopping(): void {
    this.panel.querySelector('#training-status')!.textContent = 'Stopping before the next training step…';
  }

  stopped(run: TransferRun): void {
    const finished = run.history.length;
    const epochs = `${finished} of ${this.epochs} epochs`;
    this.panel.querySelector('#progress-text')!.textContent = `stopped after ${epochs}`;
    this.panel.querySelector('#training-status')!.textContent =
      `Stopped after ${epochs}, as asked: the run's model and optimiser are freed, and it has no test score.` +
      (finished > 0 ? ` The curves show the ${finished} epoch${finished === 1 ? '' : 's'} it finished.` : '');
  }

  /** `stopAsked`: Stop came after the last step, too late to stop anything: the run is scored as any finished run. */
  finish(run: TransferRun, heldOut: string, stopAsked: boolean): void {
    const best = Math.max(...run.accuracies);
    this.progress.value = 1;
    this.panel.querySelector('#progress-text')!.textContent = `done in ${run.seconds!.toFixed(0)} s`;
    this.panel.querySelector('#training-status')!.textContent =
      (stopAsked ? `Stop came after the last training step: the run had trained all ${this.epochs} epochs, so it finished. ` : '') +
      `Training loss ${run.losses[0]!.toFixed(3)} → ${run.losses.at(-1)!.toFixed(3)}. ` +
      `Accuracy on ${heldOut}: ${percent(run.testAccuracy!)} with the weights of the best validation epoch (${percent(best)}); ` +
      `chance is ${percent(1 / run.classes.length)}.`;
  }
}
