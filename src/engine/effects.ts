/**
 * Driving the deployment machines: an event in, then the machine's effects
 * applied (timers armed on the timer book, executions queued and events
 * emitted on the outbox), and the engine-wide cap's free slots offered (§7).
 */
import type { DeploymentEvent } from '../../machines/deployment.js';
import type { DeploymentData, Effect, NodeRecord } from '../../machines/deploymentContext.js';
import { phaseOf, resolveInPlace } from '../../machines/resolveInPlace.js';
import { latestOf, specOf, type EngineCore, type Runtime } from './engineCore.js';
import { startRequest, stopRequest } from './executions.js';
import type { NodeFailureReason } from './types.js';

/** With an engine-wide cap, events start nothing themselves: slots are offered in priority order after each input. */
export function slots(core: EngineCore): number {
  return core.cap > 0 ? 0 : Infinity;
}

export function send(core: EngineCore, rt: Runtime, event: DeploymentEvent): void {
  if (rt.actor.getSnapshot().status !== 'active') return;
  core.machineTouched = true;
  rt.data.io.explain = core.outbox.heard('decision');
  rt.actor.send(event);
  rt.phase = phaseOf(rt.actor.getSnapshot().value);
  applyEffects(core, rt.data);
}

/** An updating node is stable (`reason` null) or failed: settled in place when the phase cannot change, else by the machine. */
export function resolve(core: EngineCore, rt: Runtime, node: string, record: NodeRecord, reason: NodeFailureReason | null): void {
  rt.data.io.explain = core.outbox.heard('decision');
  if (!resolveInPlace(rt.phase, rt.data, node, record, reason, core.now, slots(core))) {
    const stamp = { node, now: core.now, slots: slots(core) };
    return send(core, rt, reason === null ? { type: 'node.stable', ...stamp } : { type: 'node.failed', reason, ...stamp });
  }
  core.machineTouched = true;
  applyEffects(core, rt.data);
}

/**
 * §7: deployments held back by the engine-wide cap get free slots by
 * priority (higher first), then age (older first).
 */
export function offerCapacity(core: EngineCore): void {
  if (core.cap <= 0 || !core.machineTouched) return;
  const wanting: Runtime[] = [];
  for (const job of core.jobs.values()) {
    const rt = latestOf(core, job);
    if (rt.data.wantsSlots) wanting.push(rt);
  }
  wanting.sort((a, b) => b.data.priority - a.data.priority || a.data.seq - b.data.seq);
  for (const rt of wanting) {
    const free = core.cap - inFlight(core);
    if (free <= 0) break;
    send(core, rt, { type: 'capacity', now: core.now, slots: free });
  }
  core.machineTouched = false;
}

function inFlight(core: EngineCore): number {
  let total = 0;
  for (const job of core.jobs.values()) total += latestOf(core, job).data.counts.updating;
  return total;
}

function applyEffects(core: EngineCore, d: DeploymentData): void {
  const out = d.io.out;
  for (let i = 0; i < out.length; i++) apply(core, d, out[i]!);
  // Emptied by `pop`: `length = 0` drops the backing store, and the next event would allocate it again.
  while (out.length > 0) out.pop();
}

function apply(core: EngineCore, d: DeploymentData, effect: Effect): void {
  const { outbox, timers } = core;
  const at = core.now;
  const deployment = d.id;
  switch (effect.type) {
    case 'state': {
      const job = core.jobs.get(d.job)!;
      if (effect.state === 'completed') job.lastCompleted = d.version;
      if (effect.state === 'rolling_back') job.current = d.rollbackTarget!;
      const reason = effect.reason === null ? {} : { reason: effect.reason };
      return outbox.emit('deployment.state', { at, deployment, state: effect.state, ...reason });
    }
    case 'start':
      outbox.start(startRequest(d, effect.node, 'update', effect.attempt, specOf(core, d, d.version)));
      return outbox.emit('node.started', { at, deployment, node: effect.node, version: d.version, canary: effect.canary });
    case 'stable':
      return outbox.emit('node.stable', { at, deployment, node: effect.node, version: d.version });
    case 'failed':
      return outbox.emit('node.failed', { at, deployment, node: effect.node, version: d.version, reason: effect.reason });
    case 'promoted':
      return outbox.emit('deployment.promoted', { at, deployment, auto: effect.auto });
    case 'revert':
      outbox.start(startRequest(d, effect.node, 'revert', effect.attempt, specOf(core, d, d.rollbackTarget!)));
      return outbox.emit('node.reverting', { at, deployment, node: effect.node, version: d.rollbackTarget! });
    case 'reverted':
    case 'revert_failed':
      return outbox.emit(`node.${effect.type}`, { at, deployment, node: effect.node, version: d.rollbackTarget! });
    case 'stop':
      return outbox.stop(stopRequest(d, effect.node, effect.purpose, effect.attempt));
    case 'arm':
      return timers.arm(deployment, effect.timer, effect.node, effect.at);
    case 'disarm':
      return timers.disarm(deployment, effect.timer, effect.node);
    case 'clearNodeTimers':
      return timers.clearNode(deployment, effect.node);
    case 'decision': {
      if (!outbox.heard('decision')) return;
      const node = effect.node === undefined ? {} : { node: effect.node };
      return outbox.emit('decision', { at, deployment, action: effect.action, reason: effect.reason, ...node });
    }
  }
}
