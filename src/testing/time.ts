/**
 * Time in the harness: one unit, the second, as in the trace's `t` and
 * `now()`. Every duration or instant may be a number of seconds or a Go
 * duration string as in a JobSpec (`"90s"`, `"1m30s"`, `"250ms"`, `"1h"`).
 * Inside, the engine's clock counts milliseconds.
 */
import { parseDurationMs } from '../spec/duration.js';

/** Seconds (`90`, `0.5`) or a Go duration string (`"90s"`, `"1m30s"`). */
export type Duration = string | number;

/** The duration in clock milliseconds; `what` names the argument in the error (e.g. `advance(duration)`). */
export function toMs(duration: Duration, what = 'duration'): number {
  let ms: number;
  if (typeof duration === 'number') ms = Math.round(duration * 1000);
  else if (typeof duration === 'string') {
    try {
      ms = parseDurationMs(duration);
    } catch (error) {
      throw new RangeError(`${what}: ${JSON.stringify(duration)} is not a Go duration (${(error as Error).message}); write e.g. "90s", "5m" or a number of seconds`);
    }
  } else {
    throw new TypeError(`${what}: expected seconds (a number) or a Go duration string such as "5m", found ${JSON.stringify(duration)}`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what}: expected a duration >= 0, found ${JSON.stringify(duration)}`);
  return ms;
}

/** Clock milliseconds as the harness's seconds. */
export function toSeconds(ms: number): number {
  return ms / 1000;
}
