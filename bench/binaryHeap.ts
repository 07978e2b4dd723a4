/**
 * The yardstick's timer queue: a plain binary min-heap ordered by due time,
 * then by scheduling order (the same tie rule as the engine's VirtualClock,
 * so events due at the same instant fire in the same order in both).
 * Cancelling marks the timer dead; it is dropped when it reaches the top.
 */
export interface Timer {
  at: number;
  seq: number;
  /** What the timer does when it fires (the loop's own codes). */
  kind: number;
  /** Index of the node it concerns. */
  node: number;
  live: boolean;
}

export class TimerHeap {
  private readonly items: Timer[] = [];
  private seq = 0;

  push(at: number, kind: number, node: number): Timer {
    const timer: Timer = { at, seq: this.seq++, kind, node, live: true };
    const items = this.items;
    let i = items.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = timer;
    return timer;
  }

  /** The next live timer, removed from the heap; undefined when none is left. */
  pop(): Timer | undefined {
    for (;;) {
      const top = this.removeTop();
      if (top === undefined || top.live) return top;
    }
  }

  private removeTop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
