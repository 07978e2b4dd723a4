/**
 * Field readers for scenario validation: each checks one value, pushes a
 * `{path, message}` problem naming what was expected and what was found, and
 * returns the value or `undefined`. The simulator counts whole milliseconds,
 * so durations are rounded to the millisecond.
 */
import { parseDurationMs } from '../spec/duration.js';
import { describeValue } from '../spec/describeValue.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { joinPath } from '../spec/path.js';
import type { Problem } from '../spec/types.js';
import type { Range } from './behavior.js';

export type Problems = Problem[];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How a message shows the value it found (the JobSpec validator's wording). */
export const describe = describeValue;

export interface DurationBounds {
  /** Whether 0 is allowed (a start delay) or not (a report interval, a horizon). */
  allowZero: boolean;
}

/** A Go duration string, in whole milliseconds. */
export function readDuration(value: unknown, path: string, problems: Problems, bounds: DurationBounds): number | undefined {
  const expected = bounds.allowZero ? 'a Go duration >= 0 such as "30s" or "1m30s"' : 'a Go duration > 0 such as "30s" or "1m30s"';
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? ` (durations need a unit: "${value}s")` : '';
    problems.push({ path, message: `expected ${expected}, found ${describe(value)}${hint}` });
    return undefined;
  }
  let exact: number;
  try {
    exact = parseDurationMs(value);
  } catch (error) {
    problems.push({ path, message: `expected ${expected}: ${(error as Error).message}` });
    return undefined;
  }
  const ms = Math.round(exact);
  if (ms < 0 || (ms === 0 && !bounds.allowZero)) {
    const rounded = exact > 0 ? ' (the simulator counts whole milliseconds)' : '';
    problems.push({ path, message: `expected ${expected}, found ${JSON.stringify(value)}${rounded}` });
    return undefined;
  }
  return ms;
}

/** A number in 0..1 (a probability or an error rate). */
export function readFraction(value: unknown, path: string, problems: Problems): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    problems.push({ path, message: `expected a number from 0 to 1, found ${describe(value)}` });
    return undefined;
  }
  return value;
}

/**
 * Either a single value or `{ min, max }` with `min <= max`; `read` checks
 * each bound. A single value is the range `{ min: v, max: v }`.
 */
export function readRange(
  value: unknown,
  path: string,
  problems: Problems,
  read: (value: unknown, path: string, problems: Problems) => number | undefined,
): Range | undefined {
  if (!isRecord(value)) {
    const single = read(value, path, problems);
    return single === undefined ? undefined : { min: single, max: single };
  }
  checkKnownKeys(value, ['min', 'max'], path, problems);
  const before = problems.length;
  for (const bound of ['min', 'max']) {
    if (value[bound] === undefined) problems.push({ path: joinPath(path, bound), message: `required: a range has min and max` });
  }
  const min = value.min === undefined ? undefined : read(value.min, joinPath(path, 'min'), problems);
  const max = value.max === undefined ? undefined : read(value.max, joinPath(path, 'max'), problems);
  if (problems.length > before || min === undefined || max === undefined) return undefined;
  if (min > max) {
    problems.push({ path, message: `min (${describe(value.min)}) is greater than max (${describe(value.max)})` });
    return undefined;
  }
  return { min, max };
}

/** A list of non-empty strings without whitespace (node ids). */
export function readIds(value: unknown, path: string, problems: Problems): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path, message: `expected a non-empty list of node ids, found ${describe(value)}` });
    return undefined;
  }
  const ids: string[] = [];
  const before = problems.length;
  value.forEach((item: unknown, index) => {
    if (typeof item === 'string' && item !== '' && !/\s/.test(item)) ids.push(item);
    else problems.push({ path: `${path}[${index}]`, message: `expected a node id, found ${describe(item)}` });
  });
  return problems.length > before ? undefined : ids;
}
