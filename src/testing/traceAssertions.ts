/**
 * Assertions over a §8 trace that need no test framework: they throw an
 * Error whose message shows what was expected and the trace around it, so
 * they read the same under vitest, jest or node:test.
 */
import type { TraceEvent, TraceType } from '../sim/trace.js';

/** Fields an event must have; `type` is one of the §8 trace types. */
export type TracePattern = { type?: TraceType; [field: string]: unknown };

export class TraceAssertionError extends Error {
  override readonly name = 'TraceAssertionError';
}

/** Whether `event` has every field of `pattern` with the same (===) value. */
export function matching(event: TraceEvent, pattern: TracePattern): boolean {
  for (const [key, value] of Object.entries(pattern)) if (event[key] !== value) return false;
  return true;
}

/** Finds events matching the patterns in order (other events may come between); throws when one is missing. */
export function expectTrace(trace: readonly TraceEvent[], patterns: readonly TracePattern[]): TraceEvent[] {
  const found: TraceEvent[] = [];
  let from = 0;
  for (const pattern of patterns) {
    const index = trace.findIndex((event, i) => i >= from && matching(event, pattern));
    if (index < 0) {
      const after = found.length === 0 ? '' : ` after ${describeEvent(found[found.length - 1]!)}`;
      throw new TraceAssertionError(`expected the trace to contain ${JSON.stringify(pattern)}${after} (pattern ${found.length + 1} of ${patterns.length}); the trace:\n${describeTrace(trace)}`);
    }
    found.push(trace[index]!);
    from = index + 1;
  }
  return found;
}

export function expectNoTrace(trace: readonly TraceEvent[], pattern: TracePattern): void {
  const event = trace.find((candidate) => matching(candidate, pattern));
  if (event !== undefined) throw new TraceAssertionError(`expected no trace event like ${JSON.stringify(pattern)}, found ${describeEvent(event)}; the trace:\n${describeTrace(trace)}`);
}

/** One event a line, `t=12s type deployment field=value ...`; long traces keep their first and last lines. */
export function describeTrace(trace: readonly TraceEvent[], maxLines = 60): string {
  const lines = trace.map(describeEvent);
  if (lines.length <= maxLines) return lines.join('\n');
  const half = Math.floor(maxLines / 2);
  return [...lines.slice(0, half), `  ... ${lines.length - 2 * half} more ...`, ...lines.slice(-half)].join('\n');
}

export function describeEvent(event: TraceEvent): string {
  const { t, type, deployment, ...fields } = event;
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `  t=${t}s ${type} ${deployment} ${rest.join(' ')}`.trimEnd();
}
