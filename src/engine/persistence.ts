/**
 * The engine's state in and out: `snapshotOf` is the complete state as plain
 * JSON, `loadState` rebuilds it (rooms restored at their states, timers
 * booked but not armed), and `reissueInFlight` starts again, after a crash,
 * whatever was still running.
 */
import { rolloutPolicy } from '../../machines/index.js';
import { restoreJob, restoreRoom, versionsOf } from './deployments.js';
import { specOf, type EngineCore } from './engineCore.js';
import { startRequest } from './executions.js';
import { forgetRoute } from './routing.js';
import { SNAPSHOT_FORMAT, type EngineState } from './snapshot.js';
import type { EngineSnapshot } from './types.js';

/** `at`: the clock's time now (the engine was alive then). */
export function snapshotOf(core: EngineCore, at: number): EngineSnapshot {
  const state: EngineState = {
    format: SNAPSHOT_FORMAT,
    nodes: core.nodes.present().map((i) => ({ id: core.nodes.idOf(i), labels: { ...core.nodes.labelsOf(i) }, connected: core.nodes.isConnected(i) })),
    jobs: [...core.jobs.values()].map((j) => ({ ...j, versions: { ...j.versions }, completed: [...j.completed], history: [...j.history] })),
    deployments: [...core.rooms.values()].map((room) => room.snapshot()),
    timers: core.timers.toJSON(),
    deploymentSeq: core.deploymentSeq,
    ignoredReports: { ...core.ignoredReports },
    at,
    outbox: core.outbox.toJSON(),
  };
  return state as unknown as EngineSnapshot;
}

export function loadState(core: EngineCore, state: EngineState): void {
  for (const node of state.nodes) {
    const index = core.nodes.presentIndexOf(node.id);
    if (index < 0) core.nodes.add({ id: node.id, labels: { ...node.labels }, connected: node.connected });
    else {
      core.nodes.setLabels(index, { ...node.labels });
      core.nodes.setConnected(index, node.connected);
    }
  }
  for (const job of state.jobs) core.jobs.set(job.key, { ...job, versions: versionsOf(job) });
  for (const s of state.deployments) restoreRoom(core, s);
  for (const job of state.jobs) core.jobs.set(job.key, restoreJob(core, job));
  forgetRoute(core);
  core.timers.load(state.timers);
  core.deploymentSeq = state.deploymentSeq;
  Object.assign(core.ignoredReports, state.ignoredReports);
  if (state.outbox !== undefined) core.outbox.load(state.outbox);
}

/**
 * §4 v1.1, the engine's downtime is nobody's time: node timers (deadline,
 * streak, execution timeout, revert deadline) resume with the time they had
 * left at `stoppedAt`, so they move later by the downtime; queue and total
 * timeouts are wall-clock budgets and stay. A node whose start may not have
 * been delivered (it is in the outbox again, after what the store knows was
 * delivered) gets it again now, and its node timers run from now.
 * Returns whether any timer moved.
 */
export function resumeAfterDowntime(core: EngineCore, stoppedAt: number, now: number): boolean {
  const downtime = Math.max(0, now - stoppedAt);
  const unheard = new Map<string, { deadline: number; execution: number; revert: number }>();
  for (const start of core.outbox.redeliveredStarts()) {
    const d = core.rooms.get(start.deployment)?.view;
    const state = d?.nodes.get(start.node)?.state;
    if (d === undefined || (state !== 'updating' && state !== 'reverting')) continue;
    const policy = rolloutPolicy(specOf(core, d.job, d.version));
    unheard.set(`${d.id}\u0000${start.node}`, { deadline: policy.deadlineMs, execution: policy.executionTimeoutMs, revert: policy.revertDeadlineMs });
  }
  return core.timers.resume((timer) => {
    const fromStart = unheard.get(`${timer.deployment}\u0000${timer.node}`);
    if (fromStart === undefined) return timer.at + downtime;
    const ms = timer.kind === 'deadline' ? fromStart.deadline : timer.kind === 'execution' ? fromStart.execution : timer.kind === 'revert' ? fromStart.revert : null;
    return ms === null ? timer.at + downtime : now + ms;
  });
}

/** After a crash: every execution still in flight is started again (same id; executors treat it as idempotent), unless its start is being delivered again anyway. */
export function reissueInFlight(core: EngineCore): void {
  for (const { view: d } of core.rooms.values()) {
    for (const [node, record] of d.nodes) {
      if (record.state === 'updating') core.outbox.restart(startRequest(d, node, 'update', record.attempt, specOf(core, d.job, d.version)));
      else if (record.state === 'reverting') core.outbox.restart(startRequest(d, node, 'revert', record.attempt, specOf(core, d.job, d.rollbackTarget!)));
    }
  }
}
