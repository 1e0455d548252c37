/**
 * Buffer assignment for one submission's tensors, made when the submission is complete and the
 * lifetime of every tensor in it is known.
 *
 * An allocator that hands out buffers as requests come (buffer-pool.ts on its own) cannot know
 * what will be asked for next. VGG16's backward at 224x224 batch 32 needs 411 MB gradients after
 * the deeper layers have left 1.8 GB of free 13-208 MB buffers: no free buffer fits, and a new
 * one is made while the small ones sit idle: the pool holds 4892 MiB where at most 3776 MiB are
 * ever live at once. Recorded first and placed afterwards, the largest tensors are placed first
 * and the smaller ones fill the gaps of time they leave, as a compiler assigns registers.
 *
 * Greedy, largest first: each tensor goes to the smallest buffer that is large enough and free
 * for its whole life, or to a new buffer of its own size. A tensor still alive when the
 * submission ends may live for ever (a parameter, a gradient, momentum), so it only takes a
 * buffer of exactly its size class (a 4-byte loss must not hold a 411 MB buffer) that no other
 * tensor of the submission used: then a first step that makes the optimizer's state leaves the
 * buffers of its temporaries free for the second step to pack the same way.
 *
 * Times are positions in the submission's sequence of acquisitions and releases. A buffer is
 * free for [start, end) when no tensor placed in it overlaps that span.
 */

export interface PlannedTensor {
  /** The size class (buffer-pool.ts `bucketSize`) it needs. */
  size: number;
  start: number;
  /** When it was released, or null if it is still alive when the submission ends. */
  end: number | null;
  /** The arena buffer to try first: where the same tensor of the last identical submission went. */
  hint?: number;
}

export interface ArenaBuffer {
  size: number;
  /** From when it may be used: -Infinity for a buffer free before the submission began. */
  freeFrom: number;
}

export interface BufferPlan {
  /** Per tensor, the buffer it goes to: an index into the arena, or arena.length + k for newSizes[k]. */
  placement: number[];
  /** Buffers to create. */
  newSizes: number[];
}

interface Slot {
  size: number;
  /** Busy spans, [start, end), end Infinity for a tensor that outlives the submission. */
  busy: [number, number][];
}

function slotsOf(arena: readonly ArenaBuffer[]): Slot[] {
  return arena.map((b) => ({ size: b.size, busy: b.freeFrom === -Infinity ? [] : [[-Infinity, b.freeFrom]] }));
}

/** Can `slot` hold `t` (see the rule for tensors that outlive the submission above)? */
function canTake(slot: Slot, t: PlannedTensor): boolean {
  const end = t.end ?? Infinity;
  const sized = t.end === null ? slot.size === t.size && slot.busy.length === 0 : slot.size >= t.size;
  return sized && slot.busy.every(([from, to]) => to <= t.start || end <= from);
}

/**
 * The best of three placements, by bytes of new buffers: largest first (above), or the order the
 * tensors came in, each taking a free buffer of its own size class as the pool always did (or,
 * in the third, the smallest larger one when its class has none free). Greedy largest-first packs
 * a step far better, but it is not monotonic: a submission shaped unlike the one before it (ten
 * steps recorded before one flush) may find a packing worse than the buffers already there. The
 * pool's own placement being among them, a plan is never worse than the pool without one.
 */
export function planBuffers(arena: readonly ArenaBuffer[], tensors: readonly PlannedTensor[]): BufferPlan {
  const repeated = fromHints(arena, tensors);
  if (repeated) return repeated;
  const bytes = (plan: BufferPlan) => plan.newSizes.reduce((sum, size) => sum + size, 0);
  const candidates = [largestFirst(arena, tensors), inArrivalOrder(arena, tensors, false), inArrivalOrder(arena, tensors, true)];
  return candidates.reduce((best, plan) => (bytes(plan) < bytes(best) ? plan : best));
}

/** A repeated submission (a training step) placed where its tensors went last time, when they all still fit: no new buffer, and cheap. */
function fromHints(arena: readonly ArenaBuffer[], tensors: readonly PlannedTensor[]): BufferPlan | null {
  const slots = slotsOf(arena);
  for (const t of tensors) {
    const slot = t.hint === undefined ? undefined : slots[t.hint];
    if (!slot || !canTake(slot, t)) return null;
    slot.busy.push([t.start, t.end ?? Infinity]);
  }
  return { placement: tensors.map((t) => t.hint!), newSizes: [] };
}

function largestFirst(arena: readonly ArenaBuffer[], tensors: readonly PlannedTensor[]): BufferPlan {
  const slots = slotsOf(arena);
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[b]!.size - tensors[a]!.size || tensors[a]!.start - tensors[b]!.start);
  const placement = new Array<number>(tensors.length);
  for (const i of order) {
    const t = tensors[i]!;
    let best = t.hint !== undefined && t.hint < arena.length && canTake(slots[t.hint]!, t) ? t.hint : -1;
    if (best < 0) slots.forEach((slot, s) => {
      if ((best < 0 || slot.size < slots[best]!.size) && canTake(slot, t)) best = s;
    });
    if (best < 0) best = slots.push({ size: t.size, busy: [] }) - 1;
    slots[best]!.busy.push([t.start, t.end ?? Infinity]);
    placement[i] = best;
  }
  return { placement, newSizes: slots.slice(arena.length).map((s) => s.size) };
}

/**
 * The pool's own policy, replayed: in time order, each tensor takes the first free buffer of its
 * size class; with `larger`, a transient one without takes the smallest larger free buffer.
 */
function inArrivalOrder(arena: readonly ArenaBuffer[], tensors: readonly PlannedTensor[], larger: boolean): BufferPlan {
  type Event = { at: number; buffer?: number; tensor?: number };
  const events: Event[] = [];
  arena.forEach((b, i) => events.push({ at: b.freeFrom, buffer: i }));
  tensors.forEach((t, i) => events.push({ at: t.start, tensor: i }));
  events.sort((a, b) => a.at - b.at || (a.buffer ?? Infinity) - (b.buffer ?? Infinity));
  const sizes = arena.map((b) => b.size);
  const free = new Map<number, number[]>();
  const placement = new Array<number>(tensors.length);
  const ends: Event[] = [];
  const release = (buffer: number) => {
    const list = free.get(sizes[buffer]!) ?? [];
    list.push(buffer);
    list.sort((a, b) => a - b);
    free.set(sizes[buffer]!, list);
  };
  for (const event of events) {
    while (ends.length && ends[0]!.at < event.at) release(ends.shift()!.buffer!);
    if (event.buffer !== undefined) {
      release(event.buffer);
      continue;
    }
    const t = tensors[event.tensor!]!;
    let list = free.get(t.size);
    if (!list?.length && larger && t.end !== null) {
      const size = Math.min(...[...free].filter(([s, l]) => s > t.size && l.length > 0).map(([s]) => s));
      list = free.get(size);
    }
    const buffer = list?.shift() ?? sizes.push(t.size) - 1;
    placement[event.tensor!] = buffer;
    if (t.end !== null) {
      ends.push({ at: t.end, buffer });
      ends.sort((a, b) => a.at - b.at);
    }
  }
  return { placement, newSizes: sizes.slice(arena.length) };
}
