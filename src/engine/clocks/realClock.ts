/** The production clock: epoch milliseconds and Node's timers. */
import type { Clock, TimerHandle } from '../ports.js';

// setTimeout's delay is a signed 32-bit number of ms; longer waits are re-armed in steps.
const MAX_DELAY = 2 ** 31 - 1;

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const handle: { timeout: NodeJS.Timeout | null } = { timeout: null };
    const arm = (): void => {
      const delay = at - Date.now();
      if (delay > MAX_DELAY) {
        handle.timeout = setTimeout(arm, MAX_DELAY);
      } else {
        handle.timeout = setTimeout(fire, Math.max(0, delay));
      }
    };
    arm();
    return handle;
  }

  cancel(handle: TimerHandle): void {
    const h = handle as { timeout: NodeJS.Timeout | null };
    if (h.timeout !== null) clearTimeout(h.timeout);
    h.timeout = null;
  }
}
