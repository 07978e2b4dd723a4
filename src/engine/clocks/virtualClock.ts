/**
 * A virtual clock for simulation and tests: timers ordered by due time, then
 * by the order they were scheduled. Time moves only when asked (`advanceTo`,
 * `runUntilIdle`), never backwards. XState's SimulatedClock re-sorts on every
 * timer and does not scale past a few thousand timers.
 *
 * Timers due at the same instant share one FIFO list (scheduling order is
 * their order), and a binary heap orders the distinct instants. Simulated
 * fleets report on fixed intervals, so thousands of timers fall on a few
 * dozen instants: most timers cost a list push and a list read, not a heap
 * sift, and a cancelled timer is skipped when its turn comes.
 */
import type { Clock, TimerHandle } from '../ports.js';

interface Timer {
  at: number;
  fire: (() => void) | null;
}

/** The timers due at one instant, in scheduling order; `head` is the next to fire. */
interface Instant {
  at: number;
  timers: (Timer | null)[];
  head: number;
}

export class VirtualClock implements Clock {
  private current: number;
  /** Distinct instants with timers, a min-heap by due time. */
  private heap: Instant[] = [];
  private readonly instants = new Map<number, Instant>();
  private live = 0;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const timer: Timer = { at: Math.max(at, this.current), fire };
    let instant = this.instants.get(timer.at);
    if (instant === undefined) {
      instant = { at: timer.at, timers: [], head: 0 };
      this.instants.set(timer.at, instant);
      this.push(instant);
    }
    instant.timers.push(timer);
    this.live++;
    return timer;
  }

  cancel(handle: TimerHandle): void {
    const timer = handle as Timer;
    if (timer.fire !== null) {
      timer.fire = null; // skipped when its turn comes
      this.live--;
    }
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.live;
  }

  /** Due time of the next live timer, or null when none is left. */
  nextDue(): number | null {
    return this.front()?.at ?? null;
  }

  /** Fires, one at a time and in order, every timer due at or before `time`; then sets the clock to `time`. */
  advanceTo(time: number): void {
    if (time < this.current) throw new RangeError(`virtual clock cannot go back from ${this.current} to ${time}`);
    for (;;) {
      const due = this.nextDue();
      if (due === null || due > time) break;
      this.fireNext();
    }
    this.current = time;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  /** Fires the next timer (moving time to its due time); false when none is left or it lies past `limit`. */
  step(limit = Infinity): boolean {
    const due = this.nextDue();
    if (due === null || due > limit) return false;
    this.fireNext();
    return true;
  }

  /** Fires timers until none is left or the next lies past `limit`. */
  runUntilIdle(limit = Infinity): void {
    while (this.step(limit));
  }

  /** Call after `nextDue` found a live timer: the first instant's next timer is live. */
  private fireNext(): void {
    const instant = this.heap[0]!;
    const timer = instant.timers[instant.head]!;
    instant.timers[instant.head++] = null;
    const fire = timer.fire!;
    timer.fire = null;
    this.live--;
    this.current = timer.at;
    fire();
  }

  /** The first instant whose next timer is live, with the cancelled timers before it dropped; undefined when none is left. */
  private front(): Instant | undefined {
    for (;;) {
      const instant = this.heap[0];
      if (instant === undefined) return undefined;
      const timers = instant.timers;
      while (instant.head < timers.length && timers[instant.head]!.fire === null) timers[instant.head++] = null;
      if (instant.head < timers.length) return instant;
      this.instants.delete(instant.at);
      this.pop();
    }
  }

  private push(instant: Instant): void {
    const heap = this.heap;
    let i = heap.push(instant) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= instant.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = instant;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
