/**
 * Per-node judging (contract §4), inside the room: what a health report, an
 * execution report, a fired node timer or a change in the fleet means for one
 * node of this deployment. Passing streaks are armed and broken here, stable
 * nodes degrade and recover here; a node that resolves (stable or failed) is
 * handed to the machine through `resolve`, and the few node events that can
 * change the rollout (`node.reverted`, `node.left`, `node.joined`) through `step`.
 */
import type { DeploymentEvent } from './deployment.js';
import { FLAG, type DeploymentData, type NodeRecord } from './context.js';
import { isLive } from './lifecycle.js';
import { executionOutcome, expectedVersion, healthOutcome, isPassing, trackStreak, type HealthReading } from './rules/nodeUpdate.js';
import { setNodeState } from './steps.js';
import type { ExecutionStatus, IgnoredReason, NodeFailureReason, TimerKind } from './vocabulary.js';

export type { HealthReading };

/** An execution report as the room reads it. */
export interface ExecutionReading {
  node: string;
  version: number;
  status: ExecutionStatus;
}

/** What judging needs of the room besides its state: its machine, and the settling of a node that resolved. */
export interface Judged {
  /** The machine takes the event (while it still runs). */
  step(event: DeploymentEvent): void;
  /** An updating node resolved: stable (`reason` null) or failed. */
  resolve(node: string, record: NodeRecord, reason: NodeFailureReason | null, now: number, slots: number): void;
}

/** The node's record (by the shell's index of `report.node`) when a report about it is for this deployment, else why the report changes nothing. */
function recordFor(d: DeploymentData, index: number, report: { version: number }): NodeRecord | IgnoredReason {
  const record = d.nodes.at(index);
  if (report.version !== expectedVersion(d.version, d.rollbackTarget, record?.state)) return 'stale_version';
  return record ?? 'not_updating';
}

function ignore(d: DeploymentData, node: string, reason: IgnoredReason): void {
  d.io.out.push({ type: 'ignored', node, reason });
}

/** `index`: the shell's index of `report.node` (so is it in every function below taking one). */
export function judgeHealth(room: Judged, d: DeploymentData, report: HealthReading, index: number, now: number, slots: number): void {
  const record = recordFor(d, index, report);
  if (typeof record === 'string') return ignore(d, report.node, record);
  const p = d.policy;
  const passing = isPassing(report, p.maxErrorRate);
  switch (healthOutcome(record.state, p.judge, passing)) {
    case 'track': {
      const verdict = trackStreak((record.flags & FLAG.streak) !== 0, passing, p.minHealthyMs);
      if (verdict === 'arm') {
        record.flags |= FLAG.streak;
        d.io.out.push({ type: 'arm', timer: 'streak', node: report.node, record, at: now + p.minHealthyMs });
      } else if (verdict === 'broken') {
        breakStreak(d, report.node, record);
      } else if (verdict === 'stable') {
        room.resolve(report.node, record, null, now, slots);
      }
      return;
    }
    case 'degrade':
      return degrade(d, report.node, record);
    case 'recover':
      setNodeState(d, record, 'stable');
      d.io.out.push({ type: 'decision', action: 'recovered', node: report.node, reason: 'a degraded node reports passing again' });
      return;
    case 'traffic':
      return;
    case 'not_updating':
      return ignore(d, report.node, 'not_updating');
  }
}

export function judgeExecution(room: Judged, d: DeploymentData, report: ExecutionReading, index: number, now: number, slots: number): void {
  const record = recordFor(d, index, report);
  if (typeof record === 'string') return ignore(d, report.node, record);
  const outcome = executionOutcome(record.state, d.policy.judge, report.status);
  if (outcome === 'not_updating') return ignore(d, report.node, outcome);
  // A status already reported for the node's current execution is a duplicate.
  const bit = FLAG[report.status];
  if ((record.flags & bit) !== 0) return ignore(d, report.node, 'duplicate');
  record.flags |= bit;
  switch (outcome) {
    case 'stable':
      return room.resolve(report.node, record, null, now, slots);
    case 'failed':
      return room.resolve(report.node, record, 'execution_failed', now, slots);
    case 'reverted':
    case 'revert_failed':
      return room.step({ type: outcome === 'reverted' ? 'node.reverted' : 'node.revert_failed', node: report.node, now, slots });
    case 'degrade':
      return degrade(d, report.node, record);
    case 'none':
      return;
  }
}

/**
 * A node timer fired: an updating node's streak makes it stable, its deadline
 * or execution timeout fails it; a revert still running at its deadline
 * failed. A timer whose node has moved on changes nothing.
 */
export function judgeNodeTimer(room: Judged, d: DeploymentData, kind: Exclude<TimerKind, 'queue' | 'total'>, node: string, index: number, now: number, slots: number): void {
  const record = d.nodes.at(index);
  if (kind === 'revert') {
    if (record?.state === 'reverting') room.step({ type: 'node.revert_failed', node, now, slots });
  } else if (record?.state === 'updating') {
    room.resolve(node, record, kind === 'streak' ? null : kind === 'deadline' ? 'deadline_exceeded' : 'execution_timeout', now, slots);
  }
}

/**
 * §7: a node that became eligible joins the end of a rollout in progress
 * (pipeline jobs, or any deployment still waiting for its first target), or
 * is updated directly once a pipeline job's rollout completed.
 */
export function offerJoin(room: Judged, d: DeploymentData, node: string, index: number, now: number, slots: number): void {
  const state = d.state ?? 'pending';
  const open = isLive(state) ? d.policy.takesJoiningNodes || d.targeted === 0 : state === 'completed' && d.policy.takesJoiningNodes;
  if (!open) return;
  const record = d.nodes.at(index);
  if (record !== undefined && record.state !== 'untouched' && record.state !== 'removed') return;
  if (!d.io.eligible(index)) return;
  room.step({ type: 'node.joined', node, now, slots });
}

/** A node that left the fleet while updating is dropped from the rollout (steps.ts, `dropNode`). */
export function nodeLeft(room: Judged, d: DeploymentData, node: string, index: number, now: number, slots: number): void {
  if (d.nodes.at(index)?.state === 'updating') room.step({ type: 'node.left', node, now, slots });
}

/**
 * A disconnected node keeps its deadline (§4). Decided: disconnection also
 * ends its passing streak, since nothing vouches for it while it is cut off
 * (so a version that cuts nodes off fails like any other).
 */
export function nodeDisconnected(d: DeploymentData, node: string, index: number): void {
  const record = d.nodes.at(index);
  if (record !== undefined && (record.flags & FLAG.streak) !== 0) breakStreak(d, node, record);
}

function breakStreak(d: DeploymentData, node: string, record: NodeRecord): void {
  record.flags &= ~FLAG.streak;
  d.io.out.push({ type: 'disarm', timer: 'streak', node, record });
}

/** §4: a stable node's later trouble never fails the deployment; it is reported as degraded. */
function degrade(d: DeploymentData, node: string, record: NodeRecord): void {
  setNodeState(d, record, 'degraded');
  d.io.out.push({ type: 'degraded', node });
}
