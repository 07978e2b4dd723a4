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

/** The trace file's text (for small traces; large ones go through `traceWriter`). */
export function formatTrace(events: readonly TraceEvent[]): string {
  return events.map(traceLine).join('');
}

/** Receives each trace event as the engine emits it, in time order. */
export type TraceSink = (event: TraceEvent) => void;

/** A trace of millions of lines is written as it happens, a batch at a time: never held whole. */
export interface TraceWriter {
  sink: TraceSink;
  /** Writes the lines still batched; call it once the run is over. */
  flush: () => void;
}

/** Batches about this many characters of lines per write: few system calls, little memory. */
const TRACE_BATCH_CHARS = 64 * 1024;

/** Turns events into trace lines and hands them to `write` in batches, in order. */
export function traceWriter(write: (text: string) => void): TraceWriter {
  let batch = '';
  const flush = (): void => {
    if (batch === '') return;
    write(batch);
    batch = '';
  };
  const sink = (event: TraceEvent): void => {
    batch += traceLine(event);
    if (batch.length >= TRACE_BATCH_CHARS) flush();
  };
  return { sink, flush };
}

/** The part of the engine a recorder listens to. */
export interface EventSource {
  on<K extends keyof EngineEvents>(event: K, listener: EngineEvents[K]): unknown;
}

/** Sends every trace event the engine emits from now on to `sink`. */
export function streamTrace(engine: EventSource, sink: TraceSink): void {
  for (const type of TRACE_TYPES) {
    const listener = (payload: { at: number; deployment: string }): void => {
      sink(traceEvent(type, payload));
    };
    engine.on(type, listener as EngineEvents[typeof type]);
  }
}

/** Records every trace event the engine emits from now on (it costs memory: a few hundred bytes an event). */
export function recordTrace(engine: EventSource): TraceEvent[] {
  const events: TraceEvent[] = [];
  streamTrace(engine, (event) => events.push(event));
  return events;
}
