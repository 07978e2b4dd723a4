/**
 * Reports and fired timers, routed to their deployment room: a report to the
 * job's latest deployment (the hot path: a few Map lookups, no scan), a timer
 * to the deployment that armed it. The room judges; a report whose job or
 * node the engine does not know is counted here as ignored.
 */
import type { RoomEvent } from '../../machines/index.js';
import { ignored, send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import type { ExecutionReport, HealthReport, TimerKind } from './types.js';

type ReportEvent<T extends 'report.health' | 'report.execution'> = Extract<RoomEvent, { type: T }>;

/**
 * One event object per kind, refilled for each report or timer: inputs are
 * never handled re-entrantly and a room keeps no event, so the hot path
 * allocates nothing to hand a report over.
 */
const healthEvent: ReportEvent<'report.health'> = { type: 'report.health', report: null as unknown as HealthReport, now: 0, slots: 0 };
const executionEvent: ReportEvent<'report.execution'> = { type: 'report.execution', report: null as unknown as ExecutionReport, now: 0, slots: 0 };
const timerEvent: Extract<RoomEvent, { type: 'timer' }> = { type: 'timer', kind: 'deadline', node: null, now: 0, slots: 0 };

export function onHealth(core: EngineCore, report: HealthReport): void {
  const job = core.jobs.get(report.job);
  if (job === undefined) return ignored(core, report.node, report.job, 'unknown_job');
  if (!core.nodes.has(report.node)) return ignored(core, report.node, report.job, 'unknown_node');
  healthEvent.report = report;
  healthEvent.now = core.now;
  healthEvent.slots = slots(core);
  send(core, latestOf(core, job), healthEvent);
}

export function onExecution(core: EngineCore, report: ExecutionReport): void {
  const job = core.jobs.get(report.job);
  if (job === undefined) return ignored(core, report.node, report.job, 'unknown_job');
  if (!core.nodes.has(report.node)) return ignored(core, report.node, report.job, 'unknown_node');
  executionEvent.report = report;
  executionEvent.now = core.now;
  executionEvent.slots = slots(core);
  send(core, latestOf(core, job), executionEvent);
}

/** A timer disarmed after it was due changes nothing. */
export function onTimer(core: EngineCore, deployment: string, kind: TimerKind, node: string | null): void {
  if (!core.timers.take(deployment, kind, node)) return;
  timerEvent.kind = kind;
  timerEvent.node = node;
  timerEvent.now = core.now;
  timerEvent.slots = slots(core);
  send(core, core.rooms.get(deployment)!, timerEvent);
}
