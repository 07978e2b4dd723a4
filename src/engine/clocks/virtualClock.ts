/**
 * A virtual clock for simulation and tests: timers ordered by due time, then
 * by the order they were scheduled. Time moves only when asked (`advanceTo`,
 * `runUntilIdle`), never backwards. XState's SimulatedClock re-sorts on every
 * timer and does not scale past a few thousand timers.
 *
 * Timers due at the same instant form one FIFO list (scheduling order is
 * their order), and a binary heap orders the distinct instants. Simulated
 * fleets report on fixed intervals, so thousands of timers fall on a few
 * dozen instants: most timers cost a list append, not a heap sift. A
 * cancelled timer is unlinked from its list at once (O(1)).
 *
 * Timers and instants live in typed arrays, not objects: a million-node
 * simulation schedules millions of timers, each alive for seconds of virtual
 * time, and as objects they were promoted and collected by the million. A
 * handle is a number: the timer's slot and the slot's generation, so a handle
 * of a timer that already fired or was cancelled (its slot since reused)
 * cancels nothing. Slots are reused last-freed first; a stale handle could
 * only match after its slot was reused 2^27 times.
 */
import type { Clock, TimerHandle } from '../ports.js';

/**
 * A Clock that can also pass a number to the callback, so one callback serves
 * many timers with no closure each; its handles are numbers (>= 0), which
 * `cancel` takes too.
 */
export interface CallClock extends Clock {
  scheduleCall(at: number, call: (arg: number) => void, arg: number): number;
}

const NONE = -1;
/** Handle = generation * SLOTS + slot. */
const SLOTS = 2 ** 26;
const GENERATIONS = 2 ** 27;
const INITIAL_CAPACITY = 256;

export class VirtualClock implements CallClock {
  private current: number;
  private live = 0;

  // Timers, by slot. A free slot has no call; free slots are chained through `after`.
  private calls: (((arg: number) => void) | null)[] = [];
  private args = new Float64Array(INITIAL_CAPACITY);
  private generation = new Uint32Array(INITIAL_CAPACITY);
  /** The instant a pending timer belongs to. */
  private instantOf = new Int32Array(INITIAL_CAPACITY);
  /** Neighbours in the instant's list (NONE at its ends). */
  private before = new Int32Array(INITIAL_CAPACITY);
  private after = new Int32Array(INITIAL_CAPACITY);
  private freeTimer = NONE;

  // Instants, by slot: due time and the ends of the timer list. Free slots are chained through `last`.
  private instantAt = new Float64Array(INITIAL_CAPACITY);
  private first = new Int32Array(INITIAL_CAPACITY);
  private last = new Int32Array(INITIAL_CAPACITY);
  private instants = 0;
  private freeInstant = NONE;
  private readonly instantByTime = new Map<number, number>();
  /** Instants with timers (or whose timers were all cancelled, until they reach the top), a min-heap by due time. */
  private heap = new Int32Array(INITIAL_CAPACITY);
  private heapSize = 0;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    return this.scheduleCall(at, fire, 0);
  }

  /** Schedules `call(arg)`. */
  scheduleCall(at: number, call: (arg: number) => void, arg: number): number {
    const due = Math.max(at, this.current);
    let instant = this.instantByTime.get(due);
    if (instant === undefined) {
      instant = this.newInstant(due);
      this.instantByTime.set(due, instant);
      this.push(instant);
    }
    const timer = this.newTimer();
    this.calls[timer] = call;
    this.args[timer] = arg;
    this.instantOf[timer] = instant;
    const tail = this.last[instant]!;
    this.before[timer] = tail;
    this.after[timer] = NONE;
    if (tail === NONE) this.first[instant] = timer;
    else this.after[tail] = timer;
    this.last[instant] = timer;
    this.live++;
    return this.generation[timer]! * SLOTS + timer;
  }

  cancel(handle: TimerHandle): void {
    if (typeof handle !== 'number') return;
    const timer = handle % SLOTS;
    if (timer >= this.calls.length || this.calls[timer] === null || this.generation[timer] !== (handle - timer) / SLOTS) return;
    this.unlink(timer);
    this.releaseTimer(timer);
    this.live--;
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.live;
  }

  /** Due time of the next live timer, or null when none is left. */
  nextDue(): number | null {
    const instant = this.front();
    return instant === NONE ? null : this.instantAt[instant]!;
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

  /** Call after `nextDue` found a live timer: the first instant's first timer. */
  private fireNext(): void {
    const instant = this.heap[0]!;
    const timer = this.first[instant]!;
    const call = this.calls[timer]!;
    const arg = this.args[timer]!;
    this.unlink(timer);
    this.releaseTimer(timer);
    this.live--;
    this.current = smallIntegerOr(this.instantAt[instant]!);
    call(arg);
  }

  /** The first instant with a timer, emptied instants before it dropped; NONE when none is left. */
  private front(): number {
    while (this.heapSize > 0) {
      const instant = this.heap[0]!;
      if (this.first[instant] !== NONE) return instant;
      this.instantByTime.delete(this.instantAt[instant]!);
      this.pop();
      this.last[instant] = this.freeInstant;
      this.freeInstant = instant;
    }
    return NONE;
  }

  private unlink(timer: number): void {
    const instant = this.instantOf[timer]!;
    const previous = this.before[timer]!;
    const next = this.after[timer]!;
    if (previous === NONE) this.first[instant] = next;
    else this.after[previous] = next;
    if (next === NONE) this.last[instant] = previous;
    else this.before[next] = previous;
  }

  private newTimer(): number {
    const free = this.freeTimer;
    if (free !== NONE) {
      this.freeTimer = this.after[free]!;
      return free;
    }
    const timer = this.calls.length;
    if (timer >= SLOTS) throw new RangeError(`virtual clock: more than ${SLOTS} timers pending at once`);
    if (timer === this.args.length) this.growTimers();
    this.calls.push(null);
    return timer;
  }

  private releaseTimer(timer: number): void {
    this.calls[timer] = null;
    this.generation[timer] = (this.generation[timer]! + 1) % GENERATIONS;
    this.after[timer] = this.freeTimer;
    this.freeTimer = timer;
  }

  private newInstant(at: number): number {
    let instant = this.freeInstant;
    if (instant !== NONE) this.freeInstant = this.last[instant]!;
    else {
      instant = this.instants++;
      if (instant === this.instantAt.length) this.growInstants();
    }
    this.instantAt[instant] = at;
    this.first[instant] = NONE;
    this.last[instant] = NONE;
    return instant;
  }

  private growTimers(): void {
    const capacity = this.args.length * 2;
    this.args = grown(this.args, new Float64Array(capacity));
    this.generation = grown(this.generation, new Uint32Array(capacity));
    this.instantOf = grown(this.instantOf, new Int32Array(capacity));
    this.before = grown(this.before, new Int32Array(capacity));
    this.after = grown(this.after, new Int32Array(capacity));
  }

  private growInstants(): void {
    const capacity = this.instantAt.length * 2;
    this.instantAt = grown(this.instantAt, new Float64Array(capacity));
    this.first = grown(this.first, new Int32Array(capacity));
    this.last = grown(this.last, new Int32Array(capacity));
    this.heap = grown(this.heap, new Int32Array(capacity));
  }

  private push(instant: number): void {
    const heap = this.heap;
    const at = this.instantAt[instant]!;
    let i = this.heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.instantAt[heap[parent]!]! <= at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = instant;
  }

  private pop(): void {
    const heap = this.heap;
    const n = --this.heapSize;
    if (n === 0) return;
    const last = heap[n]!;
    const at = this.instantAt[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.instantAt[heap[right]!]! < this.instantAt[heap[left]!]! ? right : left;
      if (this.instantAt[heap[child]!]! >= at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

function grown<T extends Int32Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

/**
 * `t` as a small integer when it is one (virtual time in ms from 0 is, for
 * 24 days): read from a Float64Array it is a double, and every event and
 * effect that stores the time would box it (~16 B each, several a node).
 */
function smallIntegerOr(t: number): number {
  return (t | 0) === t ? t | 0 : t;
}
