/**
 * Counts the events the simulator fires: every timer its VirtualClock runs
 * through `step` (the simulator's run loop steps the clock one timer at a
 * time). It wraps `VirtualClock.prototype.step` for the life of the child
 * process; the cost is one call and one increment per event. `every` runs a
 * hook after the given event counts (heap checkpoints mid-run).
 */
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';

export class StepCounter {
  count = 0;
  private hooks: Array<{ at: number; run: () => void }> = [];

  constructor() {
    const original = VirtualClock.prototype.step;
    const counter = this;
    VirtualClock.prototype.step = function step(this: VirtualClock, limit?: number): boolean {
      const fired = original.call(this, limit);
      if (fired && ++counter.count === counter.hooks[0]?.at) counter.hooks.shift()!.run();
      return fired;
    };
  }

  /** Resets the count; `run` is called once the count reaches each of `at` (ascending). */
  reset(at: number[] = [], run: () => void = () => {}): void {
    this.count = 0;
    this.hooks = at.map((n) => ({ at: n, run }));
  }
}
