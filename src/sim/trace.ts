/**
 * The trace of a simulated run (contract section 8, `--trace FILE`): one JSON
 * object a line, in time order. Keys come in a fixed order, `t`, `type`,
 * `deployment`, then the type's fields in the order of the contract's table,
 * so the same run gives the same bytes. `t` is seconds of virtual time.
 */
import type { EngineEvents } from '../engine/types.js';

/** The engine events that make up a trace, each with its fields after `deployment`. */
export const TRACE_FIELDS = {
  'deployment.created': ['job', 'kind', 'from_version', 'to_version', 'strategy', 'targeted', 'canaries'],
  'deployment.state': ['state', 'reason'],
  'deployment.promoted': ['auto'],
  'node.started': ['node', 'version', 'canary'],
  'node.stable': ['node', 'version'],
  'node.failed': ['node', 'version', 'reason'],
  'node.reverting': ['node', 'version'],
  'node.reverted': ['node', 'version'],
  'node.revert_failed': ['node', 'version'],
} as const satisfies Partial<Record<keyof EngineEvents, readonly string[]>>;

export type TraceType = keyof typeof TRACE_FIELDS;

export const TRACE_TYPES = Object.keys(TRACE_FIELDS) as TraceType[];

export interface TraceEvent {
  t: number;
  type: TraceType;
  deployment: string;
  [field: string]: unknown;
}

/** Builds a trace line from an engine event; fields the event lacks (a state without reason) are left out. */
export function traceEvent(type: TraceType, payload: { at: number; deployment: string }): TraceEvent {
  const event: TraceEvent = { t: payload.at / 1000, type, deployment: payload.deployment };
  const fields = payload as unknown as Record<string, unknown>;
  for (const field of TRACE_FIELDS[type]) {
    const value = fields[field];
    if (value !== undefined && value !== null) event[field] = value;
    else if (field !== 'reason') event[field] = null;
  }
  return event;
}

/** One line of the trace file, newline included. */
export function traceLine(event: TraceEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** The trace file's text (for small traces; large ones are written a batch of lines at a time). */
export function formatTrace(events: readonly TraceEvent[]): string {
  return events.map(traceLine).join('');
}

/** The part of the engine a recorder listens to. */
export interface EventSource {
  on<K extends keyof EngineEvents>(event: K, listener: EngineEvents[K]): unknown;
}

/** Records every trace event the engine emits from now on. */
export function recordTrace(engine: EventSource): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const type of TRACE_TYPES) {
    const listener = (payload: { at: number; deployment: string }): void => {
      events.push(traceEvent(type, payload));
    };
    engine.on(type, listener as EngineEvents[typeof type]);
  }
  return events;
}
