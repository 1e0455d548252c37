import { describe, expect, it } from 'vitest';
import { planBuffers, type ArenaBuffer, type BufferPlan, type PlannedTensor } from '../../src/runtime/memory-plan.js';

// The placement rules on plain data: random submissions checked against the invariants any
// placement must keep, and against a replay of the bucket pool written here, which the plan
// must never do worse than.

function lcg(seed: number) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const SIZES = [256, 512, 1024, 4096, 16384];

/** A random submission: tensors acquired and released in one sequence of events, some still alive at its end. */
function randomCase(seed: number): { arena: ArenaBuffer[]; tensors: PlannedTensor[] } {
  const random = lcg(seed);
  const pick = () => SIZES[Math.floor(random() * SIZES.length)]!;
  const arena: ArenaBuffer[] = Array.from({ length: Math.floor(random() * 6) }, () => ({ size: pick(), freeFrom: -Infinity }));
  const tensors: PlannedTensor[] = [];
  const alive: PlannedTensor[] = [];
  let clock = 0;
  for (let event = 0; event < 60; event++) {
    if (alive.length > 0 && random() < 0.45) {
      alive.splice(Math.floor(random() * alive.length), 1)[0]!.end = clock++;
    } else if (random() < 0.1) {
      arena.push({ size: pick(), freeFrom: clock++ }); // a buffer released during the submission
    } else {
      const t: PlannedTensor = { size: pick(), start: clock++, end: null };
      tensors.push(t);
      alive.push(t);
    }
  }
  return { arena, tensors };
}

const newBytes = (plan: BufferPlan) => plan.newSizes.reduce((sum, size) => sum + size, 0);

/** The bucket pool, replayed: in time order, a tensor takes a free buffer of its size, or a new one. */
function bucketPoolBytes(arena: readonly ArenaBuffer[], tensors: readonly PlannedTensor[]): number {
  const events: { at: number; run: () => void }[] = [];
  const free = new Map<number, number>();
  const give = (size: number) => free.set(size, (free.get(size) ?? 0) + 1);
  let created = 0;
  for (const b of arena) events.push({ at: b.freeFrom, run: () => give(b.size) });
  for (const t of tensors) {
    events.push({
      at: t.start,
      run: () => {
        if ((free.get(t.size) ?? 0) > 0) free.set(t.size, free.get(t.size)! - 1);
        else created += t.size;
      },
    });
    if (t.end !== null) events.push({ at: t.end, run: () => give(t.size) });
  }
  events.sort((a, b) => a.at - b.at).forEach((e) => e.run());
  return created;
}

describe('memory plan', () => {
  it('places every tensor in a buffer large enough and free for its whole life', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { arena, tensors } = randomCase(seed);
      const plan = planBuffers(arena, tensors);
      const sizes = [...arena.map((b) => b.size), ...plan.newSizes];
      const spans = sizes.map(() => [] as [number, number][]);
      arena.forEach((b, i) => spans[i]!.push([-Infinity, b.freeFrom]));
      tensors.forEach((t, i) => {
        const buffer = plan.placement[i]!;
        expect(sizes[buffer]).toBeGreaterThanOrEqual(t.size);
        const span: [number, number] = [t.start, t.end ?? Infinity];
        for (const [from, to] of spans[buffer]!) expect(to <= span[0] || span[1] <= from, `seed ${seed}: tensor ${i} overlaps in buffer ${buffer}`).toBe(true);
        spans[buffer]!.push(span);
      });
    }
  });

  it('gives a tensor that outlives the submission a buffer of its own size class', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { arena, tensors } = randomCase(seed);
      const plan = planBuffers(arena, tensors);
      const sizes = [...arena.map((b) => b.size), ...plan.newSizes];
      tensors.forEach((t, i) => {
        if (t.end !== null) return;
        const buffer = plan.placement[i]!;
        expect(sizes[buffer]).toBe(t.size);
      });
    }
  });

  it('never makes more new memory than the bucket pool would, and often less', () => {
    let less = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { arena, tensors } = randomCase(seed);
      const planned = newBytes(planBuffers(arena, tensors));
      const pooled = bucketPoolBytes(arena, tensors);
      expect(planned, `seed ${seed}`).toBeLessThanOrEqual(pooled);
      if (planned < pooled) less++;
    }
    expect(less).toBeGreaterThan(100);
  });

  it('lets a small tensor that died before a large one was born use its buffer', () => {
    const plan = planBuffers([], [
      { size: 256, start: 0, end: 1 },
      { size: 4096, start: 2, end: 3 },
    ]);
    expect(plan.newSizes).toEqual([4096]);
    expect(plan.placement).toEqual([0, 0]);
  });

  it('does not use a buffer before the submission released it', () => {
    const arena = [{ size: 4096, freeFrom: 5 }];
    expect(planBuffers(arena, [{ size: 4096, start: 2, end: 3 }]).newSizes).toEqual([4096]);
    expect(planBuffers(arena, [{ size: 4096, start: 6, end: 7 }]).newSizes).toEqual([]);
  });

  it('places a repeated submission the same way, and a hint keeps a tensor where it was', () => {
    const { arena, tensors } = randomCase(7);
    expect(planBuffers(arena, tensors)).toEqual(planBuffers(arena, tensors));
    const free = [{ size: 4096, freeFrom: -Infinity }, { size: 4096, freeFrom: -Infinity }];
    expect(planBuffers(free, [{ size: 4096, start: 0, end: 1 }]).placement).toEqual([0]);
    expect(planBuffers(free, [{ size: 4096, start: 0, end: 1, hint: 1 }]).placement).toEqual([1]);
  });
});
