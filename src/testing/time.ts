/**
 * Durations in the harness: a Go duration string as in a JobSpec ("90s",
 * "1m30s") or a number of milliseconds.
 */
import { parseDurationMs } from '../spec/duration.js';

export type Duration = string | number;

export function toMs(duration: Duration): number {
  const ms = typeof duration === 'number' ? duration : parseDurationMs(duration);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`expected a duration >= 0, found ${JSON.stringify(duration)}`);
  return ms;
}
