/**
 * A virtual clock for simulation and tests: a binary heap of timers ordered by
 * due time, then by the order they were scheduled. Time moves only when asked
 * (`advanceTo`, `runUntilIdle`), never backwards. XState's SimulatedClock
 * re-sorts on every timer and does not scale past a few thousand timers.
 */
import type { Clock, TimerHandle } from '../ports.js';

interface Timer {
  at: number;
  seq: number;
  fire: (() => void) | null;
}

export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private heap: Timer[] = [];
  private live = 0;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const timer: Timer = { at: Math.max(at, this.current), seq: this.seq++, fire };
    this.push(timer);
    this.live++;
    return timer;
  }

  cancel(handle: TimerHandle): void {
    const timer = handle as Timer;
    if (timer.fire !== null) {
      timer.fire = null; // lazily dropped when it reaches the top of the heap
      this.live--;
    }
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.live;
  }

  /** Due time of the next live timer, or null when none is left. */
  nextDue(): number | null {
    this.dropCanceled();
    return this.heap.length > 0 ? this.heap[0]!.at : null;
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

  private fireNext(): void {
    const timer = this.pop()!;
    const fire = timer.fire!;
    timer.fire = null;
    this.live--;
    this.current = timer.at;
    fire();
  }

  private dropCanceled(): void {
    while (this.heap.length > 0 && this.heap[0]!.fire === null) this.pop();
  }

  private static before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!VirtualClock.before(timer, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && VirtualClock.before(heap[right]!, heap[left]!) ? right : left;
      if (!VirtualClock.before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
