/**
 * Reports and fired timers, routed to their deployment room: a report to the
 * job's latest deployment (the hot path: the node's id looked up once, the
 * room finds the node's record by its index), a timer to the deployment that
 * armed it (a timer that fired on the clock knows its node: no lookup). The
 * room judges; a report whose job or node the engine does not know is
 * counted here as ignored.
 */
import { ignored, send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import type { DeploymentRoom } from '../../machines/index.js';
import type { FiredTimer } from './engineTimers.js';
import type { ExecutionReport, HealthReport, TimerKind } from './types.js';

export function onHealth(core: EngineCore, report: HealthReport): void {
  const room = latestRoom(core, report.job);
  if (room === null) return ignored(core, report.node, report.job, 'unknown_job');
  const index = core.nodes.presentIndexOf(report.node);
  if (index < 0) return ignored(core, report.node, report.job, 'unknown_node');
  const event = core.events.health;
  event.report = report;
  event.index = index;
  event.now = core.now;
  event.slots = slots(core);
  send(core, room, event);
}

export function onExecution(core: EngineCore, report: ExecutionReport): void {
  const room = latestRoom(core, report.job);
  if (room === null) return ignored(core, report.node, report.job, 'unknown_job');
  const index = core.nodes.presentIndexOf(report.node);
  if (index < 0) return ignored(core, report.node, report.job, 'unknown_node');
  const event = core.events.execution;
  event.report = report;
  event.index = index;
  event.now = core.now;
  event.slots = slots(core);
  send(core, room, event);
}

/**
 * The latest room of a job, null for an unknown job. Remembers the last job
 * and room asked for (two hash lookups a report otherwise): a job record
 * stays the job's until a state is loaded (`forgetRoute`), and deployment
 * ids are never reused, so a remembered latest id names its room as long as
 * it is latest.
 */
function latestRoom(core: EngineCore, key: string): DeploymentRoom | null {
  const route = core.route;
  if (key !== route.job || route.record === null) {
    const job = core.jobs.get(key);
    if (job === undefined) return null;
    route.job = key;
    route.record = job;
  }
  const latest = route.record.latest;
  if (latest !== route.latest || route.room === null) {
    route.latest = latest;
    route.room = latestOf(core, route.record);
  }
  return route.room;
}

/**
 * A timer disarmed after it was due changes nothing. `fired`: the timer as
 * the clock fired it, when at hand (not in replay, nor through a journal).
 */
export function onTimer(core: EngineCore, deployment: string, kind: TimerKind, node: string | null, fired: FiredTimer | null): void {
  if (!(fired === null ? core.timers.take(deployment, kind, node) : core.timers.takeFired(fired))) return;
  const event = core.events.timer;
  event.kind = kind;
  event.node = node;
  event.index = node === null ? -1 : fired === null ? core.nodes.indexOf(node) : fired.index;
  event.now = core.now;
  event.slots = slots(core);
  send(core, core.rooms.get(deployment)!, event);
}

/** Job records were replaced (a state loaded): nothing remembered holds. */
export function forgetRoute(core: EngineCore): void {
  core.route.record = null;
  core.route.room = null;
}
