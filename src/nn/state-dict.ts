/**
 * Checking a state dict against a model before anything is copied, as PyTorch's
 * `load_state_dict` reports it: missing keys, unexpected keys and size mismatches, all at once
 * and by name. Both `Module.loadStateDict` and loading from a weight file (models/load-weights.ts)
 * go through `checkState`, so a bad source is refused before the model changes.
 */
import type { Tensor } from '../autograd/tensor.js';

/**
 * An integer buffer kept on the CPU: BatchNorm's `num_batches_tracked`, a step counter that no
 * kernel reads. State dicts carry it as an int64 scalar (a `bigint` here).
 */
export class Counter {
  value = 0;
  constructor(public name: string) {}
}

/** What a state dict holds: float tensors, and int64 scalars as bigints. */
export type StateValue = Tensor | bigint;
export type StateDict = Map<string, StateValue>;

/** A model's own slot for a state-dict entry. */
export type StateSlot = Tensor | Counter;

/** What the check needs to know about one incoming entry. */
export interface IncomingEntry {
  readonly shape: readonly number[];
  /** Stored as an integer type (int64 for PyTorch's counters). */
  readonly integer: boolean;
}

export interface LoadReport {
  /** Model entries the source does not provide (allowed only when not strict). */
  missingKeys: string[];
  /** Source entries the model has no place for (allowed only when not strict). */
  unexpectedKeys: string[];
  /** Model entries left as they were on purpose (`head: 'skip'`). */
  skippedKeys: string[];
  /** Model entries that will be (or were) overwritten, in the model's order. */
  loadedKeys: string[];
}

export interface Mismatch {
  readonly key: string;
  readonly detail: string;
}

/** Every reason a state dict cannot be loaded, listed by key. */
const LISTED_KEYS = 10;

export class StateDictError extends Error {
  override name = 'StateDictError';
  constructor(
    readonly source: string,
    readonly target: string,
    readonly missingKeys: readonly string[],
    readonly unexpectedKeys: readonly string[],
    readonly mismatches: readonly Mismatch[],
    hint = '',
  ) {
    const lines = [`cannot load ${source} into ${target}; nothing was changed:`];
    // A file of another architecture misses every key: the first few say what kind it is, the
    // error's lists hold them all.
    const some = (keys: readonly string[]) => (keys.length > LISTED_KEYS ? `${keys.slice(0, LISTED_KEYS).join(', ')}, and ${keys.length - LISTED_KEYS} more` : keys.join(', '));
    if (missingKeys.length) lines.push(`  missing keys (${missingKeys.length}): ${some(missingKeys)}`);
    if (unexpectedKeys.length) lines.push(`  unexpected keys (${unexpectedKeys.length}): ${some(unexpectedKeys)}`);
    for (const m of mismatches.slice(0, LISTED_KEYS)) lines.push(`  ${m.key}: ${m.detail}`);
    if (mismatches.length > LISTED_KEYS) lines.push(`  and ${mismatches.length - LISTED_KEYS} more of another shape`);
    if (hint) lines.push(hint);
    super(lines.join('\n'));
  }
}

export interface CheckOptions {
  strict?: boolean;
  /** Model keys to leave alone: neither loaded nor reported missing, and not unexpected in the source. */
  skip?: (key: string) => boolean;
  /** Names the source and the model in errors. */
  source: string;
  target: string;
  /** Appended to the error when a size mismatch is in a skippable place (e.g. the head). */
  hint?: (mismatches: readonly Mismatch[]) => string;
}

/**
 * PyTorch files saved before BatchNorm had a counter (torch < 0.4.1) lack `num_batches_tracked`;
 * PyTorch loads them and starts the count at 0, and so do we, strict or not.
 */
const OPTIONAL_SUFFIX = '.num_batches_tracked';

/** Compares `incoming` with the model's `slots`; throws StateDictError, or says what will load. */
export function checkState(slots: ReadonlyMap<string, StateSlot>, incoming: ReadonlyMap<string, IncomingEntry>, options: CheckOptions): LoadReport {
  const strict = options.strict ?? true;
  const skip = options.skip ?? (() => false);
  const report: LoadReport = { missingKeys: [], unexpectedKeys: [], skippedKeys: [], loadedKeys: [] };
  const mismatches: Mismatch[] = [];
  for (const [key, slot] of slots) {
    if (skip(key)) {
      report.skippedKeys.push(key);
      continue;
    }
    const entry = incoming.get(key);
    if (!entry) {
      if (!(slot instanceof Counter && key.endsWith(OPTIONAL_SUFFIX))) report.missingKeys.push(key);
      continue;
    }
    const problem = slotProblem(slot, entry);
    if (problem) mismatches.push({ key, detail: problem });
    else report.loadedKeys.push(key);
  }
  for (const key of incoming.keys()) if (!slots.has(key) && !skip(key)) report.unexpectedKeys.push(key);

  const refused = strict ? report.missingKeys.length + report.unexpectedKeys.length : 0;
  // Not strict still refuses a source of which nothing fits: another architecture, not a partial load.
  const nothingFits = report.loadedKeys.length === 0 && report.missingKeys.length + mismatches.length > 0;
  if (mismatches.length || refused || nothingFits) {
    const strictOrEmpty = strict || nothingFits;
    throw new StateDictError(
      options.source,
      options.target,
      strictOrEmpty ? report.missingKeys : [],
      strictOrEmpty ? report.unexpectedKeys : [],
      mismatches,
      options.hint?.(mismatches) || (nothingFits ? `None of its ${incoming.size} tensors fits ${options.target}: is it another architecture?` : ''),
    );
  }
  return report;
}

function slotProblem(slot: StateSlot, entry: IncomingEntry): string | null {
  if (slot instanceof Counter) {
    if (!entry.integer) return 'a counter (int64 scalar) cannot take a floating-point value';
    return entry.shape.length === 0 || (entry.shape.length === 1 && entry.shape[0] === 1) ? null : `a counter (scalar) cannot take shape [${entry.shape.join(', ')}]`;
  }
  if (entry.integer) return `stored as an integer tensor, but the model holds float32 [${slot.shape.join(', ')}]`;
  if (!sameShape(slot.shape, entry.shape)) {
    return `size mismatch: the source has [${entry.shape.join(', ')}], the model has [${slot.shape.join(', ')}]`;
  }
  return null;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
