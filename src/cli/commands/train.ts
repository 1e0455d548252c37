import { COUNT, FRACTION, NON_NEGATIVE, numberOption, POSITIVE, requiredString, stringOption, UsageError, WHOLE, type Command, type NumberRule, type ParsedArgs } from '../command.js';
import { augmentHelp, augmentOptions, checkTransforms, trainTransformOrNone } from '../augment-options.js';
import { modelOption } from '../model-option.js';
import { initNode } from '../../node.js';
import { MODELS } from '../../models/registry.js';
import { isPlanName, NOTEBOOK_PLAN, type SchedulerConfig } from '../../train/plan.js';
import { trainRun, type TrainRunOptions } from '../../train/run-node.js';
import { describeConfusion } from '../../train/confusion-text.js';
import { MAX_RECORDED_CONFUSION, type CheckpointEvery } from '../../train/trainer.js';

export const train: Command = {
  name: 'train',
  summary: 'Train on an image folder: freeze the pretrained base and train a new head, then fine-tune (the recipe).',
  usage: '--data DIR --model vgg16 [--weights FILE] [--plan transfer|finetune|both|scratch] [options]',
  help: [
    '  --data DIR           one sub-folder per class (split 80/20 by --seed), or train/ and validation/ folders',
    `  --model NAME         ${Object.keys(MODELS).join(' | ')}`,
    '  --weights FILE       pretrained weights (.pth or .safetensors); the head is replaced for your classes',
    '  --plan NAME          transfer: frozen base, new head | finetune: everything | both: transfer then finetune (default) | scratch',
    '  --epochs N           epochs of the first phase (default 10)  --finetune-epochs N  of --plan both\'s second (default: --epochs)',
    '  --lr F               learning rate of the first phase (default 0.001)  --finetune-lr F  of the second (default lr/10)',
    '  --unfreeze-from PATH fine-tune only from this module on (e.g. features.24)',
    '  --optimizer NAME     sgd (default) | adam | adamw      --momentum F (0.9)   --weight-decay F (0)',
    '  --step-size N --gamma F   StepLR per epoch (default 7, 0.1, as the notebook); --cosine for cosine annealing',
    '  --batch-size N       (default 4, as the notebook)       --seed N (default 0)',
    '  --image-size N       crop size (default 224)            --resize N  validation Resize (default 256)',
    '  --val-fraction F     validation share when splitting one folder (default 0.2)',
    '  --out DIR            run folder: log, checkpoints, best weights, curves (default runs/train)',
    '  --resume             continue the run in --out from its last checkpoint',
    '  --checkpoint-every N also checkpoint inside an epoch, every N steps   --checkpoint-minutes M  and every M minutes',
    '                       (default 30; 0: after each epoch only; each reads the weights and the optimizer state back)',
    '  --progress-every N   read the loss back every N steps for the progress line (default 10; 0: never)',
    '  --grad-monitor N     every N steps, log each layer\'s gradient and update norms and backward kernels (grad-flow.jsonl, grad-flow.svg)',
    '  --gpu-timeout S      a wait on the GPU longer than S seconds ends the run with an error (a hung driver); default: none',
    '  --tune-kernels       on a GPU: time the convolution tiles on each layer first and keep the fastest (as cudnn.benchmark)',
    '  --tuning-file FILE   where --tune-kernels keeps its choices for the next run on this adapter',
    '                       (default ~/.cache/webgpu-transfer/conv-tuning.json; none: not kept)',
    '  --feature-cache-mb N while the base is frozen, run it once per phase on the validation images (and with --no-augment on the',
    '                       training images) and keep its outputs, up to N MiB (default 512; 0: off)',
    '  --no-augment         train on the validation transform (Resize + CenterCrop), nothing random: feature extraction, where',
    '                       a frozen base\'s later epochs train the head alone',
    augmentHelp,
  ].join('\n'),
  options: {
    data: { type: 'string' },
    model: { type: 'string' },
    weights: { type: 'string' },
    plan: { type: 'string' },
    epochs: { type: 'string' },
    'finetune-epochs': { type: 'string' },
    lr: { type: 'string' },
    'finetune-lr': { type: 'string' },
    'unfreeze-from': { type: 'string' },
    optimizer: { type: 'string' },
    momentum: { type: 'string' },
    'weight-decay': { type: 'string' },
    'step-size': { type: 'string' },
    gamma: { type: 'string' },
    cosine: { type: 'boolean' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    'image-size': { type: 'string' },
    resize: { type: 'string' },
    'val-fraction': { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    'checkpoint-every': { type: 'string' },
    'checkpoint-minutes': { type: 'string' },
    'progress-every': { type: 'string' },
    'grad-monitor': { type: 'string' },
    'gpu-timeout': { type: 'string' },
    'tune-kernels': { type: 'boolean' },
    'tuning-file': { type: 'string' },
    'feature-cache-mb': { type: 'string' },
    'no-augment': { type: 'boolean' },
    ...augmentOptions,
  },
  async run(args) {
    const plan = stringOption(args, 'plan') ?? 'both';
    if (!isPlanName(plan)) throw new UsageError(`--plan must be transfer, finetune, both or scratch; got '${plan}'`);
    const secondPhase = (name: string) => {
      if (args.values[name] !== undefined && plan !== 'both') throw new UsageError(`--${name} is for the fine-tuning phase of --plan both; --plan ${plan} has one phase, set by --lr and --epochs`);
    };
    secondPhase('finetune-epochs');
    secondPhase('finetune-lr');
    if (args.values['unfreeze-from'] !== undefined && plan !== 'both' && plan !== 'finetune') throw new UsageError(`--unfreeze-from is for --plan both or finetune, not ${plan}`);
    const optimizer = stringOption(args, 'optimizer') ?? 'sgd';
    if (optimizer !== 'sgd' && optimizer !== 'adam' && optimizer !== 'adamw') throw new UsageError(`--optimizer must be sgd, adam or adamw; got '${optimizer}'`);
    const scheduler: SchedulerConfig = args.values.cosine
      ? { kind: 'cosine' }
      : { kind: 'step', stepSize: numberOption(args, 'step-size', 7, COUNT), gamma: numberOption(args, 'gamma', 0.1, POSITIVE) };
    const optional = (name: string, rule: NumberRule) => (args.values[name] === undefined ? undefined : numberOption(args, name, 0, rule));
    const options: TrainRunOptions = {
      data: requiredString(args, 'data'),
      model: modelOption(args, 'vgg16'),
      weights: stringOption(args, 'weights'),
      plan,
      epochs: numberOption(args, 'epochs', NOTEBOOK_PLAN.epochs, COUNT),
      finetuneEpochs: optional('finetune-epochs', COUNT),
      lr: numberOption(args, 'lr', NOTEBOOK_PLAN.lr, POSITIVE),
      finetuneLr: optional('finetune-lr', POSITIVE),
      unfreezeFrom: stringOption(args, 'unfreeze-from'),
      momentum: numberOption(args, 'momentum', NOTEBOOK_PLAN.momentum, NON_NEGATIVE),
      weightDecay: numberOption(args, 'weight-decay', 0, NON_NEGATIVE),
      optimizer,
      scheduler,
      batchSize: numberOption(args, 'batch-size', 4, COUNT),
      seed: numberOption(args, 'seed', 0, WHOLE),
      imageSize: numberOption(args, 'image-size', 224, COUNT),
      resize: numberOption(args, 'resize', 256, COUNT),
      validationFraction: numberOption(args, 'val-fraction', 0.2, FRACTION),
      out: stringOption(args, 'out') ?? 'runs/train',
      augment: trainTransformOrNone(args),
      progressEvery: numberOption(args, 'progress-every', 10, WHOLE),
      gradMonitor: gradMonitorOption(args),
      tuneKernels: Boolean(args.values['tune-kernels']),
      tuningFile: tuningFileOption(args),
      featureCacheMb: optional('feature-cache-mb', NON_NEGATIVE),
      checkpointEvery: checkpointSchedule(optional('checkpoint-every', COUNT), numberOption(args, 'checkpoint-minutes', DEFAULT_CHECKPOINT_MINUTES, NON_NEGATIVE)),
    };
    checkTransforms({ outputSize: options.imageSize, train: options.augment ?? undefined }, { outputSize: options.imageSize, resize: options.resize });
    const timeout = optional('gpu-timeout', POSITIVE);
    const ctx = await initNode(timeout === undefined ? {} : { gpuTimeoutMs: timeout * 1000 });
    const result = await trainRun(ctx, options, { resume: Boolean(args.values.resume) });
    console.log(`best validation accuracy ${(100 * result.bestAccuracy).toFixed(2)}%; weights in ${result.runDir}/best.safetensors`);
    // Those weights class by class: the first epoch that reached the best accuracy is the one kept.
    const best = result.history.find((record) => record.valAccuracy === result.bestAccuracy);
    if (best?.valConfusion) {
      console.log(`validation of those weights (${best.phase} epoch ${best.epoch}), class by class:`);
      for (const line of describeConfusion(result.classes, best.valConfusion)) console.log(line);
    } else if (best && result.classes.length > MAX_RECORDED_CONFUSION) {
      // The epochs' records keep no confusion matrix this wide (they go into every checkpoint and log line).
      console.log(`class by class: ${result.classes.length} classes, more than the ${MAX_RECORDED_CONFUSION} an epoch's record keeps; \`webgpu-transfer eval --run ${result.runDir}\` gives them`);
    }
    ctx.destroy();
    return result.stopped ? 130 : 0;
  },
};

/** `--tuning-file FILE`: a path, null for 'none', undefined for the default; only with --tune-kernels. */
function tuningFileOption(args: ParsedArgs): string | null | undefined {
  const file = stringOption(args, 'tuning-file');
  if (file !== undefined && !args.values['tune-kernels']) throw new UsageError('--tuning-file is where --tune-kernels keeps its choices: give --tune-kernels too');
  return file === 'none' ? null : file;
}

/** `--grad-monitor N`: every N steps, or 0 (off). */
export function gradMonitorOption(args: ParsedArgs): number {
  return numberOption(args, 'grad-monitor', 0, WHOLE);
}

/**
 * Mid-epoch checkpoints every half hour unless told otherwise: an epoch of the notebook's data with
 * VGG16 at 224 takes hours on a CPU adapter, and a crash should not cost them. A checkpoint of
 * VGG16 with momentum (1 GiB) took about 5 s on lavapipe: under 0.3% of half an hour.
 */
const DEFAULT_CHECKPOINT_MINUTES = 30;

/** The schedule, or undefined for after each epoch only (no --checkpoint-every, --checkpoint-minutes 0). */
function checkpointSchedule(steps: number | undefined, minutes: number): CheckpointEvery | undefined {
  const every: CheckpointEvery = { ...(steps === undefined ? {} : { steps }), ...(minutes === 0 ? {} : { minutes }) };
  return Object.keys(every).length ? every : undefined;
}
