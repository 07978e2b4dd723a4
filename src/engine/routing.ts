/**
 * Reports and fired timers, routed to their deployment room: a report to the
 * job's latest deployment (the hot path: a few Map lookups, no scan), a timer
 * to the deployment that armed it. The room judges; a report whose job or
 * node the engine does not know is counted here as ignored.
 */
import { ignored, send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import type { ExecutionReport, HealthReport, TimerKind } from './types.js';

export function onHealth(core: EngineCore, report: HealthReport): void {
  const job = core.jobs.get(report.job);
  if (job === undefined) return ignored(core, report.node, report.job, 'unknown_job');
  if (!core.nodes.has(report.node)) return ignored(core, report.node, report.job, 'unknown_node');
  const event = core.events.health;
  event.report = report;
  event.now = core.now;
  event.slots = slots(core);
  send(core, latestOf(core, job), event);
}

export function onExecution(core: EngineCore, report: ExecutionReport): void {
  const job = core.jobs.get(report.job);
  if (job === undefined) return ignored(core, report.node, report.job, 'unknown_job');
  if (!core.nodes.has(report.node)) return ignored(core, report.node, report.job, 'unknown_node');
  const event = core.events.execution;
  event.report = report;
  event.now = core.now;
  event.slots = slots(core);
  send(core, latestOf(core, job), event);
}

/** A timer disarmed after it was due changes nothing. */
export function onTimer(core: EngineCore, deployment: string, kind: TimerKind, node: string | null): void {
  if (!core.timers.take(deployment, kind, node)) return;
  const event = core.events.timer;
  event.kind = kind;
  event.node = node;
  event.now = core.now;
  event.slots = slots(core);
  send(core, core.rooms.get(deployment)!, event);
}
