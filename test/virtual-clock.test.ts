import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';

/**
 * The order the simulator's results depend on (§9: a seed replays the same
 * run): timers fire by due time, then in the order they were scheduled; a
 * cancelled timer never fires; a timer due in the past fires now. Checked
 * against a model that keeps every timer in a list and sorts it.
 */
type Op =
  | { kind: 'schedule'; delay: number }
  | { kind: 'cancel'; which: number }
  | { kind: 'step' }
  | { kind: 'advance'; by: number }
  /** While firing, the timer schedules another at `delay` (0: the same instant) and cancels an earlier handle (maybe its own, maybe one already fired). */
  | { kind: 'nested'; delay: number; which: number };

const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('schedule' as const), delay: fc.oneof(fc.constantFrom(-5, 0, 10, 20), fc.integer({ min: 0, max: 40 })) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), which: fc.nat() }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'step' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 25 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('nested' as const), delay: fc.constantFrom(0, 0, 5, 10), which: fc.nat() }) },
  ),
  { maxLength: 120 },
);

interface ModelTimer {
  name: number;
  at: number;
  seq: number;
  nested: { delay: number; which: number } | null;
}

/** What fired, as `name@time`, played on the clock. */
function onClock(plan: Op[]): string[] {
  const clock = new VirtualClock(0);
  const fired: string[] = [];
  const handles: unknown[] = [];
  let names = 0;
  const add = (at: number, nested: { delay: number; which: number } | null): void => {
    const name = names++;
    handles.push(
      clock.schedule(at, () => {
        fired.push(`${name}@${clock.now()}`);
        if (nested === null) return;
        add(clock.now() + nested.delay, null);
        clock.cancel(handles[nested.which % handles.length]);
      }),
    );
  };
  for (const op of plan) {
    if (op.kind === 'schedule') add(clock.now() + op.delay, null);
    else if (op.kind === 'nested') add(clock.now() + 10, { delay: op.delay, which: op.which });
    else if (op.kind === 'cancel') {
      if (handles.length > 0) clock.cancel(handles[op.which % handles.length]);
    } else if (op.kind === 'step') clock.step();
    else clock.advanceBy(op.by);
  }
  clock.runUntilIdle();
  expect(clock.pending).toBe(0);
  return fired;
}

/** The same plan on a sorted list. */
function onModel(plan: Op[]): string[] {
  let now = 0;
  let seq = 0;
  let names = 0;
  const pending: ModelTimer[] = [];
  const all: ModelTimer[] = [];
  const fired: string[] = [];
  const add = (at: number, nested: ModelTimer['nested']): void => {
    const timer = { name: names++, at: Math.max(at, now), seq: seq++, nested };
    pending.push(timer);
    all.push(timer);
  };
  const cancel = (timer: ModelTimer | undefined): void => {
    const i = timer === undefined ? -1 : pending.indexOf(timer);
    if (i >= 0) pending.splice(i, 1);
  };
  const fireNext = (limit: number): boolean => {
    pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = pending[0];
    if (next === undefined || next.at > limit) return false;
    pending.shift();
    now = next.at;
    fired.push(`${next.name}@${now}`);
    if (next.nested !== null) {
      add(now + next.nested.delay, null);
      cancel(all[next.nested.which % all.length]);
    }
    return true;
  };
  for (const op of plan) {
    if (op.kind === 'schedule') add(now + op.delay, null);
    else if (op.kind === 'nested') add(now + 10, { delay: op.delay, which: op.which });
    else if (op.kind === 'cancel') {
      if (all.length > 0) cancel(all[op.which % all.length]);
    } else if (op.kind === 'step') fireNext(Infinity);
    else {
      const to = now + op.by;
      while (fireNext(to));
      now = to;
    }
  }
  while (fireNext(Infinity));
  return fired;
}

describe('VirtualClock: the order of timers (§9 reproducible runs)', () => {
  it('§9: fires by due time then scheduling order, never a cancelled timer, as a sorted list would', () => {
    let ties = 0;
    let cancelsWhileFiring = 0;
    fc.assert(
      fc.property(ops, (plan) => {
        const fired = onClock(plan);
        expect(fired).toEqual(onModel(plan));
        const times = fired.map((entry) => entry.split('@')[1]);
        if (new Set(times).size < times.length) ties += 1;
        if (plan.some((op) => op.kind === 'nested')) cancelsWhileFiring += 1;
      }),
      { numRuns: 300 },
    );
    // The runs reach what the order depends on: several timers at one instant, and handles cancelled from inside a timer.
    // Over 300 random runs ties average ~110 (sd ~8) and cancels ~150: the bounds sit ~6 sd below, so a seed never trips them.
    expect(ties).toBeGreaterThan(60);
    expect(cancelsWhileFiring).toBeGreaterThan(100);
  });

  it('§9: a handle of a timer that fired, or was cancelled, cancels nothing once its slot is reused', () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    const first = clock.schedule(10, () => fired.push('first'));
    clock.runUntilIdle();
    const second = clock.schedule(20, () => fired.push('second')); // reuses the first timer's slot
    clock.cancel(first);
    const third = clock.schedule(30, () => fired.push('third'));
    clock.cancel(third);
    const fourth = clock.schedule(30, () => fired.push('fourth'));
    clock.cancel(third);
    clock.runUntilIdle();
    expect(fired).toEqual(['first', 'second', 'fourth']);
    expect([second, fourth]).not.toContain(first);
  });
});
