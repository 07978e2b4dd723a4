/**
 * The trace of a simulated run (contract section 8, `--trace FILE`): one JSON
 * object a line, in time order. Keys come in a fixed order, `t`, `type`,
 * `deployment`, then the type's fields in the order of the contract's table
 * (types beyond §8's in docs/cli.md), so the same run gives the same bytes.
 * `t` is seconds of virtual time.
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
  'node.degraded': ['node', 'version'],
} as const satisfies Partial<Record<keyof EngineEvents, readonly string[]>>;

/**
 * Trace types read from the engine's `decision` events (docs/cli.md): a node
 * whose execution was stopped as its deployment ended, one dropped because it
 * left the fleet while updating, a degraded node passing again; and, on
 * request, every decision itself.
 */
export const DECISION_TRACE_FIELDS = {
  'node.stopped': ['node', 'reason'],
  'node.removed': ['node'],
  'node.recovered': ['node', 'version'],
  decision: ['action', 'node', 'reason'],
} as const;

/** The decision actions that become a trace type of their own. */
const DECIDED_TYPES: Readonly<Record<string, DecisionTraceType>> = { stop: 'node.stopped', drop: 'node.removed', recovered: 'node.recovered' };

type EngineTraceType = keyof typeof TRACE_FIELDS;
type DecisionTraceType = keyof typeof DECISION_TRACE_FIELDS;
export type TraceType = EngineTraceType | DecisionTraceType;

/** Every trace type and its fields after `deployment`, in order. */
export const ALL_TRACE_FIELDS: Readonly<Record<TraceType, readonly string[]>> = { ...TRACE_FIELDS, ...DECISION_TRACE_FIELDS };

export const TRACE_TYPES = Object.keys(TRACE_FIELDS) as EngineTraceType[];

export interface TraceEvent {
  t: number;
  type: TraceType;
  deployment: string;
  [field: string]: unknown;
}

/** Fields that are left out when the event has none (a state without reason, a decision about no node). */
const OPTIONAL: ReadonlySet<string> = new Set(['reason', 'node']);

/** Builds a trace line from an engine event; optional fields the event lacks are left out, others are null. */
export function traceEvent(type: TraceType, payload: { at: number; deployment: string }): TraceEvent {
  const event: TraceEvent = { t: payload.at / 1000, type, deployment: payload.deployment };
  const fields = payload as unknown as Record<string, unknown>;
  for (const field of ALL_TRACE_FIELDS[type]) {
    const value = fields[field];
    if (value !== undefined && value !== null) event[field] = value;
    else if (!OPTIONAL.has(field)) event[field] = null;
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

export interface TraceOptions {
  /** Also record every engine decision (type `decision`: action, node, reason). Default false. */
  decisions?: boolean;
  /**
   * Each deployment's version, by id, as far as the caller knows it: a
   * recorder attached to a restarted engine did not hear the creations
   * before the restart (a recovered node's event names the version from it).
   */
  versions?: Map<string, number>;
}

/** Sends every trace event the engine emits from now on to `sink`. */
export function streamTrace(engine: EventSource, sink: TraceSink, options: TraceOptions = {}): void {
  for (const type of TRACE_TYPES) {
    const listener = (payload: { at: number; deployment: string }): void => {
      sink(traceEvent(type, payload));
    };
    engine.on(type, listener as EngineEvents[typeof type]);
  }
  // A recovered node is the deployment's version again; the decision does not say which, the creation did.
  const versions = options.versions ?? new Map<string, number>();
  engine.on('deployment.created', (e) => versions.set(e.deployment, e.to_version));
  engine.on('decision', (e) => {
    const type = DECIDED_TYPES[e.action];
    if (type !== undefined) sink(traceEvent(type, type === 'node.recovered' ? ({ ...e, version: versions.get(e.deployment) } as typeof e) : e));
    if (options.decisions === true) sink(traceEvent('decision', e));
  });
}

/** Records every trace event the engine emits from now on (it costs memory: a few hundred bytes an event). */
export function recordTrace(engine: EventSource, options: TraceOptions = {}): TraceEvent[] {
  const events: TraceEvent[] = [];
  streamTrace(engine, (event) => events.push(event), options);
  return events;
}
