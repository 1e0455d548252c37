/**
 * Loading a weight file into a model, one tensor at a time: read it from the file, upload it into
 * the parameter's GPU buffer, drop the CPU copy. A 553 MB VGG16 is never held twice: at any moment
 * the CPU holds at most the one tensor in flight (VGG16's largest, classifier.0.weight, is 411 MB).
 *
 * A bad file changes nothing: every key, shape and dtype is checked against the model from the
 * file's header before the first byte of data is read (the format readers have already checked
 * that every tensor's bytes lie inside the file). Only an I/O failure while streaming (a disk
 * error, a file rewritten under us) can stop a load halfway, and that error says so.
 */
import type { Module } from '../nn/module.js';
import { checkState, Counter, type IncomingEntry, type LoadReport, type Mismatch } from '../nn/state-dict.js';
import { withTorchvisionVggNames } from './formats/timm-vgg.js';
import { weightsUnder } from './formats/remap.js';
import type { WeightFile, WeightFormat } from './formats/weight-file.js';
import { dtypeBytes, type DType } from './formats/dtype.js';
import { headPathOf, isUnder } from './head.js';

export interface LoadWeightsOptions {
  /** Refuse missing and unexpected keys (default true). Size mismatches are always refused. */
  strict?: boolean;
  /**
   * 'load' (default): the file's head is loaded like any layer, so its shape must match.
   * 'skip': the model's head keeps its own (new, randomly initialised) weights and the file's
   * head is ignored: the documented way to put a 1000-class ImageNet checkpoint under a 2-class
   * head for transfer learning.
   */
  head?: 'load' | 'skip';
  /** Called after each tensor is uploaded (for progress bars). */
  onTensor?: (key: string, loaded: number, total: number) => void;
}

export interface WeightsLoadReport extends LoadReport {
  file: string;
  format: WeightFormat;
  /** The wrapper taken off the file's keys (`state_dict.`, `module.`...), if there was one. */
  wrapper?: string;
  /** Bytes of tensor data read from the file. */
  bytesRead: number;
}

const INTEGER_DTYPES: ReadonlySet<DType> = new Set(['I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']);

export async function loadWeights(model: Module, file: WeightFile, options: LoadWeightsOptions = {}): Promise<WeightsLoadReport> {
  const slots = model.stateSlots();
  // A checkpoint's state dict ({'state_dict': sd}, {'model': sd, 'optimizer': ...}, DataParallel's
  // module.*), then timm's VGG, whose fc1/fc2 are convolutions: renamed and reshaped to torchvision's.
  const wrapper = wrapperPrefix([...file.entries.keys()], slots);
  const source = withTorchvisionVggNames(wrapper ? weightsUnder(file, wrapper) : file);
  const skipHead = options.head === 'skip';
  // Skipping needs the model to name its head; loading only uses it for a better error message.
  const head = skipHead ? headPathOf(model) : tryHeadPath(model);
  const incoming = new Map<string, IncomingEntry>();
  for (const [key, entry] of source.entries) {
    // A counter stored as a float (`{k: v.half() for ...}` makes one) is read as PyTorch's
    // load_state_dict copies it; elsewhere a float where an integer belongs is refused.
    const counterAsFloat = slots.get(key) instanceof Counter && entry.numel === 1;
    incoming.set(key, { shape: entry.shape, integer: INTEGER_DTYPES.has(entry.dtype) || counterAsFloat });
  }

  const report = checkState(slots, incoming, {
    strict: options.strict,
    skip: skipHead ? (key) => isUnder(key, head!) : undefined,
    source: file.name,
    target: model.constructor.name,
    hint: (mismatches) => headHint(mismatches, head),
  });

  let bytesRead = 0;
  const keys = report.loadedKeys;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const slot = slots.get(key)!;
    try {
      if (slot instanceof Counter) {
        const entry = source.entries.get(key)!;
        // Integers as stored (an int64 comes as a bigint); a float counter as PyTorch copies it.
        const value = INTEGER_DTYPES.has(entry.dtype) ? (await source.readRaw(key))[0] : Math.trunc((await source.read(key))[0] ?? 0);
        slot.value = Number(value ?? 0);
        bytesRead += entry.numel * dtypeBytes(entry.dtype);
      } else {
        const data = await source.read(key);
        slot.ctx.recorder.write(slot.buffer, 0, data);
        const entry = source.entries.get(key)!;
        bytesRead += entry.numel * dtypeBytes(entry.dtype);
      }
    } catch (error) {
      throw new Error(
        `${file.name}: reading "${key}" failed after ${i} of ${keys.length} tensors were loaded; the model is partly updated: ${(error as Error).message}`,
        { cause: error },
      );
    }
    options.onTensor?.(key, i + 1, keys.length);
  }
  // Files from before BatchNorm counted batches: the count starts again, as in PyTorch.
  for (const [key, slot] of slots) if (slot instanceof Counter && !incoming.has(key) && !report.skippedKeys.includes(key)) slot.value = 0;
  return { ...report, file: file.name, format: file.format, bytesRead, ...(wrapper ? { wrapper } : {}) };
}

/** Names that wrap a state dict in the files people have: checkpoints' keys, and nn.DataParallel's. */
const WRAPPERS = new Set(['state_dict', 'model_state_dict', 'model', 'module', 'net', 'network', 'ema']);

/**
 * The prefix of wrapper names (`state_dict.`, `model.module.`...) under which the file's keys are
 * the model's, when none of its keys is one of the model's as it stands; '' when there is none.
 */
export function wrapperPrefix(keys: readonly string[], modelKeys: ReadonlyMap<string, unknown>): string {
  if (keys.some((key) => modelKeys.has(key))) return '';
  const candidates = new Set<string>();
  for (const key of keys) {
    const parts = key.split('.');
    for (let i = 0, prefix = ''; i < parts.length - 1 && WRAPPERS.has(parts[i]!); i++) candidates.add((prefix += `${parts[i]}.`));
  }
  let best = { prefix: '', fits: 0 };
  for (const prefix of candidates) {
    const fits = keys.filter((key) => key.startsWith(prefix) && modelKeys.has(key.slice(prefix.length))).length;
    if (fits > best.fits) best = { prefix, fits };
  }
  return best.prefix;
}

function tryHeadPath(model: Module): string | undefined {
  try {
    return headPathOf(model);
  } catch {
    return undefined;
  }
}

function headHint(mismatches: readonly Mismatch[], head: string | undefined): string {
  if (head === undefined || !mismatches.some((m) => isUnder(m.key, head))) return '';
  return `The head ('${head}') has another number of classes than the file's: pass { head: 'skip' } to keep the model's new head and load everything else.`;
}
