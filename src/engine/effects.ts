/**
 * Driving the deployment rooms: an event in, then the effects the room
 * returns applied in order (timers armed on the engine's timers, executions
 * queued and events emitted on the outbox), and the engine-wide cap's free
 * slots offered (§7). The shell decides nothing here: it delivers.
 */
import type { DeploymentRoom, DeploymentView, Effect, RoomEvent } from '../../machines/index.js';
import { noteCompleted } from './deployments.js';
import { latestOf, specOf, type EngineCore } from './engineCore.js';
import { startRequest, stopRequest } from './executions.js';
import type { IgnoredReason } from './types.js';

/** With an engine-wide cap, events start nothing themselves: slots are offered in priority order after each input. */
export function slots(core: EngineCore): number {
  return core.cap > 0 ? 0 : Infinity;
}

/** Hands `event` to its room and applies what the room decided. */
export function send(core: EngineCore, room: DeploymentRoom, event: RoomEvent): void {
  // Offering slots where nothing changed is a no-op: after each offer either no slot is free or nobody wants one.
  core.roomTouched = true;
  const effects = room.send(event);
  if (effects.length === 0) return;
  const view = room.view;
  for (let i = 0; i < effects.length; i++) apply(core, view, effects[i]!);
}

/**
 * §7: deployments held back by the engine-wide cap get free slots by
 * priority (higher first), then age (older first).
 */
export function offerCapacity(core: EngineCore): void {
  if (core.cap <= 0 || !core.roomTouched) return;
  const wanting: DeploymentRoom[] = [];
  for (const job of core.jobs.values()) {
    const room = latestOf(core, job);
    if (room.view.wantsSlots) wanting.push(room);
  }
  wanting.sort((a, b) => b.view.priority - a.view.priority || a.view.seq - b.view.seq);
  for (const room of wanting) {
    const free = core.cap - inFlight(core);
    if (free <= 0) break;
    send(core, room, { type: 'capacity', now: core.now, slots: free });
  }
  core.roomTouched = false;
}

function inFlight(core: EngineCore): number {
  let total = 0;
  for (const job of core.jobs.values()) total += latestOf(core, job).view.counts.updating;
  return total;
}

function apply(core: EngineCore, d: DeploymentView, effect: Effect): void {
  const { outbox, timers } = core;
  const at = core.now;
  const deployment = d.id;
  // Timers first: most effects are these.
  switch (effect.type) {
    case 'arm':
      return timers.arm(deployment, effect.timer, effect.node, effect.at, effect.record);
    case 'disarm':
      return timers.disarm(deployment, effect.timer, effect.record);
    case 'clearNodeTimers':
      return timers.clearNode(effect.record);
    case 'created':
      return outbox.emit('deployment.created', {
        at,
        deployment,
        job: d.job,
        kind: d.kind,
        from_version: d.fromVersion,
        to_version: d.version,
        strategy: d.policy.strategy,
        targeted: d.targeted,
        canaries: effect.canaries,
      });
    case 'state': {
      const job = core.jobs.get(d.job)!;
      if (effect.state === 'completed') noteCompleted(job, d.version);
      if (effect.state === 'rolling_back') job.current = d.rollbackTarget!;
      const reason = effect.reason === null ? {} : { reason: effect.reason };
      return outbox.emit('deployment.state', { at, deployment, state: effect.state, ...reason });
    }
    case 'start':
      outbox.start(startRequest(d, effect.node, 'update', effect.attempt, specOf(core, d.job, d.version)));
      return outbox.emit('node.started', { at, deployment, node: effect.node, version: d.version, canary: effect.canary, seq: 0 });
    case 'stable':
      return outbox.emit('node.stable', { at, deployment, node: effect.node, version: d.version, seq: 0 });
    case 'failed':
      return outbox.emit('node.failed', { at, deployment, node: effect.node, version: d.version, reason: effect.reason, seq: 0 });
    case 'degraded':
      return outbox.emit('node.degraded', { at, deployment, node: effect.node, version: d.version });
    case 'promoted':
      return outbox.emit('deployment.promoted', { at, deployment, auto: effect.auto });
    case 'revert':
      outbox.start(startRequest(d, effect.node, 'revert', effect.attempt, specOf(core, d.job, d.rollbackTarget!)));
      return outbox.emit('node.reverting', { at, deployment, node: effect.node, version: d.rollbackTarget! });
    case 'reverted':
    case 'revert_failed':
      return outbox.emit(`node.${effect.type}`, { at, deployment, node: effect.node, version: d.rollbackTarget! });
    case 'stop':
      return outbox.stop(stopRequest(d, effect.node, effect.purpose, effect.attempt));
    case 'decision': {
      if (!outbox.heard('decision')) return;
      const node = effect.node === undefined ? {} : { node: effect.node };
      return outbox.emit('decision', { at, deployment, action: effect.action, reason: effect.reason, ...node });
    }
    case 'ignored':
      return ignored(core, effect.node, d.job, effect.reason);
  }
}

/** A report that changed nothing: counted and announced (§4). */
export function ignored(core: EngineCore, node: string, job: string, reason: IgnoredReason): void {
  core.ignoredReports[reason]++;
  core.outbox.emit('report.ignored', { at: core.now, node, job, reason });
}
