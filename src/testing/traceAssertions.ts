/**
 * Assertions over a trace that need no test framework: they throw an Error
 * whose message shows what was expected and the trace around it, so they read
 * the same under vitest, jest or node:test. A pattern names a trace type and
 * some of its fields; a field the type does not have (`verison`) is an error
 * with a "did you mean", never a pattern that silently matches nothing.
 */
import type { DeploymentKind, DeploymentState, NodeFailureReason } from '../engine/types.js';
import { ALL_TRACE_FIELDS, type TraceEvent, type TraceType } from '../sim/trace.js';
import { closestName } from '../spec/suggest.js';

/** The fields of each trace type after `t`, `type` and `deployment` (docs/cli.md, contract §8). */
export interface TraceFields {
  'deployment.created': { job: string; kind: DeploymentKind; from_version: number | null; to_version: number; strategy: string; targeted: number; canaries: number };
  'deployment.state': { state: DeploymentState; reason?: string };
  'deployment.promoted': { auto: boolean };
  'node.started': { node: string; version: number; canary: boolean };
  'node.stable': { node: string; version: number };
  'node.failed': { node: string; version: number; reason: NodeFailureReason };
  'node.degraded': { node: string; version: number };
  'node.recovered': { node: string; version: number };
  'node.reverting': { node: string; version: number };
  'node.reverted': { node: string; version: number };
  'node.revert_failed': { node: string; version: number };
  'node.stopped': { node: string; reason: string };
  'node.removed': { node: string };
  decision: { action: string; node?: string; reason: string };
}

interface Common {
  t?: number;
  deployment?: string;
}

/** A trace event of one type, fields typed. */
export type TraceEventOf<T extends TraceType> = { t: number; type: T; deployment: string } & TraceFields[T];

/** Fields an event must have; with `type`, only that type's fields (typed); without, fields any type has. */
export type TracePattern = { [T in TraceType]: Common & { type: T } & Partial<TraceFields[T]> }[TraceType] | (Common & { type?: undefined; node?: string; version?: number; reason?: string });

export class TraceAssertionError extends Error {
  override readonly name = 'TraceAssertionError';
}

const TYPES = Object.keys(ALL_TRACE_FIELDS) as TraceType[];
const EVERY_FIELD = [...new Set(['t', 'type', 'deployment', ...Object.values(ALL_TRACE_FIELDS).flat()])];

/** Throws a TypeError for an unknown type or a field the pattern's type does not have, with a "did you mean". */
export function checkPattern(pattern: TracePattern): void {
  const type = pattern.type;
  if (type !== undefined && !TYPES.includes(type)) {
    throw new TypeError(`trace pattern ${JSON.stringify(pattern)}: unknown type ${JSON.stringify(type)}${hint(type, TYPES)}; the types are ${TYPES.join(', ')}`);
  }
  const known = type === undefined ? EVERY_FIELD : ['t', 'type', 'deployment', ...ALL_TRACE_FIELDS[type]];
  for (const key of Object.keys(pattern)) {
    if (known.includes(key)) continue;
    const of = type === undefined ? 'any trace event' : `a ${type} event`;
    throw new TypeError(`trace pattern ${JSON.stringify(pattern)}: ${of} has no field \`${key}\`${hint(key, known)}; its fields are ${known.join(', ')}`);
  }
}

function hint(typed: string, known: readonly string[]): string {
  const close = closestName(typed, known);
  return close === undefined ? '' : ` (did you mean \`${close}\`?)`;
}

/** Whether `event` has every field of `pattern` with the same (===) value. */
export function matching(event: TraceEvent, pattern: TracePattern): boolean {
  for (const [key, value] of Object.entries(pattern)) if (event[key] !== value) return false;
  return true;
}

/** The events matching `pattern` (checked first), typed by its type. */
export function filterTrace<P extends TracePattern>(trace: readonly TraceEvent[], pattern: P): Array<P extends { type: infer T extends TraceType } ? TraceEventOf<T> : TraceEvent> {
  checkPattern(pattern);
  return trace.filter((event) => matching(event, pattern)) as never;
}

/** Finds events matching the patterns in order (other events may come between); throws when one is missing. */
export function expectTrace(trace: readonly TraceEvent[], patterns: readonly TracePattern[]): TraceEvent[] {
  patterns.forEach(checkPattern);
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
  checkPattern(pattern);
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
