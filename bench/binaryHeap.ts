/**
 * The floor's timer queue: a binary min-heap in two typed arrays, ordered by
 * due time, then by scheduling order (the tie rule of the engine's
 * VirtualClock, so timers due at the same instant fire in the same order in
 * both). Both are packed into one exact double, `at * 2^SEQ_BITS + seq`.
 * A timer's payload is an integer slot (the floor packs node and kind) with
 * at most one live timer each: arming a slot again or cancelling it makes the
 * old entry dead, and dead entries are dropped when they reach the top.
 */
const SEQ_BITS = 2 ** 26;
/** Due times up to 2^27 ms (37 hours) keep the packed key exact (< 2^53). */
const MAX_AT = 2 ** 27;
const NONE = -1;

export class TimerHeap {
  private keys: Float64Array;
  private payloads: Int32Array;
  private size = 0;
  private seq = 0;
  /** Per slot: the key of its live timer, or NONE. */
  private readonly live: Float64Array;
  /** Due time of the timer `pop` returned last. */
  lastAt = 0;

  constructor(slots: number, capacity = 1024) {
    this.keys = new Float64Array(capacity);
    this.payloads = new Int32Array(capacity);
    this.live = new Float64Array(slots).fill(NONE);
  }

  /** Arms `slot` at `at` (replacing its live timer, if any). */
  push(at: number, slot: number): void {
    if (at >= MAX_AT || this.seq >= SEQ_BITS) throw new RangeError('the floor packs due time and order into one double: run shorter');
    const key = at * SEQ_BITS + this.seq++;
    this.live[slot] = key;
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const payloads = this.payloads;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      payloads[i] = payloads[parent]!;
      i = parent;
    }
    keys[i] = key;
    payloads[i] = slot;
  }

  cancel(slot: number): void {
    this.live[slot] = NONE;
  }

  /** The slot of the next live timer, removed; NONE when none is left. */
  pop(): number {
    const keys = this.keys;
    const payloads = this.payloads;
    while (this.size > 0) {
      const key = keys[0]!;
      const slot = payloads[0]!;
      const n = --this.size;
      const lastKey = keys[n]!;
      const lastSlot = payloads[n]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1]! < keys[child]!) child += 1;
        if (keys[child]! >= lastKey) break;
        keys[i] = keys[child]!;
        payloads[i] = payloads[child]!;
        i = child;
      }
      keys[i] = lastKey;
      payloads[i] = lastSlot;
      if (this.live[slot] === key) {
        this.live[slot] = NONE;
        this.lastAt = Math.floor(key / SEQ_BITS);
        return slot;
      }
    }
    return NONE;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    const payloads = new Int32Array(this.payloads.length * 2);
    payloads.set(this.payloads);
    this.keys = keys;
    this.payloads = payloads;
  }
}
