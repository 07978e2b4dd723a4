/**
 * What the room does to its state: the machine's actions and the per-node
 * judging (`judging.ts`) run these. Each step mutates the one
 * `DeploymentData` in place and records the effects the shell must apply
 * (executor calls, timers, events) in `io.out`. No I/O, no clock: the time
 * comes in as `now`. The decisions themselves are the pure rules of `rules/`.
 */
import { addRecord, FLAG, type DeploymentData, type NodeRecord } from './context.js';
import { NO_CANARY_EVIDENCE } from './lifecycle.js';
import { breaksFailureRule, describeBreak, failureGroup } from './rules/failure.js';
import { canarySize, windowCapacity } from './rules/strategies.js';
import type { DeploymentState, NodeFailureReason, NodeState } from './vocabulary.js';

export function setNodeState(d: DeploymentData, record: NodeRecord, state: NodeState): void {
  count(d.counts, record.state, -1);
  count(d.counts, state, 1);
  record.state = state;
}

/**
 * `counts[state] += by`, one named property a case: `counts[state]` with a
 * varying key is a megamorphic access (~50 ns), and every node moves through
 * three states or more.
 */
function count(counts: Record<NodeState, number>, state: NodeState, by: number): void {
  switch (state) {
    case 'pending':
      counts.pending += by;
      return;
    case 'updating':
      counts.updating += by;
      return;
    case 'stable':
      counts.stable += by;
      return;
    case 'degraded':
      counts.degraded += by;
      return;
    case 'failed':
      counts.failed += by;
      return;
    case 'untouched':
      counts.untouched += by;
      return;
    case 'removed':
      counts.removed += by;
      return;
    case 'stopped':
      counts.stopped += by;
      return;
    case 'reverting':
      counts.reverting += by;
      return;
    case 'reverted':
      counts.reverted += by;
      return;
    case 'revert_failed':
      counts.revert_failed += by;
      return;
  }
}

/** Announces a public state once (canary -> rolling stays `in_progress`: no second event). */
export function announceState(d: DeploymentData, state: DeploymentState, reason: string | null): void {
  d.reason = reason;
  if (d.state === state) return;
  d.state = state;
  d.io.out.push({ type: 'state', state, reason });
}

/**
 * Puts a node at the end of the rollout order: a new target, or one that was
 * passed over (untouched) or left (removed) and is eligible again. Other nodes
 * already have their place.
 */
export function appendNode(d: DeploymentData, node: string): void {
  let record = d.nodes.get(node);
  if (record === undefined) {
    record = addRecord(d, node, 'pending');
    d.counts.pending++;
    d.targeted++;
  } else if (record.state === 'untouched' || record.state === 'removed') {
    setNodeState(d, record, 'pending');
    record.canary = false;
  } else {
    return;
  }
  d.order.push(node);
  d.orderRecords.push(record);
  if (d.canariesOwed > 0 && d.canaryEnd === d.order.length - 1) {
    record.canary = true;
    d.canaryEnd++;
    d.canariesOwed--;
    if (d.reason === NO_CANARY_EVIDENCE) d.reason = null;
  }
}

/** §5: the canary group's size for the nodes targeted now (0 outside canary). */
export function canaryGroupSize(d: DeploymentData): number {
  const p = d.policy;
  return p.strategy === 'canary' ? canarySize(d.targeted, p.canaryCount, p.canaryPercent) : 0;
}

/** §5: the canary group is the first c nodes of the rollout order, fixed when the rollout starts. */
export function fixCanaryGroup(d: DeploymentData): void {
  if (d.canaries !== null) return;
  d.canaries = canaryGroupSize(d);
  d.canaryEnd = d.canaries;
  for (let i = 0; i < d.canaries; i++) d.orderRecords[i]!.canary = true;
}

/**
 * §5 v1.1: a canary passed over or removed before promotion is replaced by
 * the next node of the rollout order (or, when the order has run out, by the
 * next node to join), so `c` canaries are judged whenever the fleet has them.
 */
function replaceCanary(d: DeploymentData): void {
  if (d.canaryEnd < d.order.length) d.orderRecords[d.canaryEnd++]!.canary = true;
  else d.canariesOwed++;
}

/** §5 v1.1: promotion needs evidence: at least one canary stable (or stable, then degraded). */
export function hasCanaryEvidence(d: DeploymentData): boolean {
  for (let i = 0; i < d.canaryEnd; i++) {
    const r = d.orderRecords[i]!;
    if (r.canary && (r.state === 'stable' || r.state === 'degraded')) return true;
  }
  return false;
}

/** §5 v1.1: every canary resolved, none stable: no promotion; wait for a node to join (an owed canary) or an operator. */
export function awaitEvidence(d: DeploymentData): void {
  d.reason = NO_CANARY_EVIDENCE;
  d.io.out.push({ type: 'decision', action: 'await_evidence', reason: 'no canary is stable: not promoted; waiting for a node to join as a canary, or for abort' });
}

/** The canary phase's rollout is over: every canary was considered and none is updating (evidence aside). */
export function canariesResolved(d: DeploymentData): boolean {
  return d.cursor >= d.canaryEnd && d.counts.updating === 0;
}

/** Disarms every timer of a node (it resolved, left or stopped): its passing streak ends with them. */
export function clearNodeTimers(d: DeploymentData, node: string, record: NodeRecord): void {
  record.flags &= ~FLAG.streak;
  d.io.out.push({ type: 'clearNodeTimers', node, record });
}

export function armTimeouts(d: DeploymentData): void {
  const p = d.policy;
  if (p.queueTimeoutMs > 0) d.io.out.push({ type: 'arm', timer: 'queue', node: null, record: null, at: d.createdAt + p.queueTimeoutMs });
  if (p.totalTimeoutMs > 0) d.io.out.push({ type: 'arm', timer: 'total', node: null, record: null, at: totalDue(d) });
}

function totalDue(d: DeploymentData): number {
  return d.createdAt + d.policy.totalTimeoutMs + d.pausedMs;
}

function disarmTimeouts(d: DeploymentData): void {
  d.io.out.push({ type: 'disarm', timer: 'queue', node: null, record: null }, { type: 'disarm', timer: 'total', node: null, record: null });
}

/**
 * Starts the next nodes of the rollout order while the window has room, up to
 * index `end` (the canary group, or the whole order) and within `slots` of the
 * engine-wide cap. A node whose turn comes while it is not eligible is passed
 * over (`untouched`). O(nodes considered): the cursor never goes back.
 */
export function fillWindow(d: DeploymentData, now: number, slots: number, upTo: 'canaries' | 'all'): void {
  let room = windowCapacity(d.policy.windowSize, d.counts.updating);
  let free = slots;
  // The canary group's end moves when a canary is passed over (replaced by the next node).
  while (d.cursor < (upTo === 'canaries' ? d.canaryEnd : d.order.length) && room > 0) {
    if (free <= 0) {
      d.wantsSlots = true;
      return;
    }
    const node = d.order[d.cursor]!;
    const record = d.orderRecords[d.cursor++]!;
    if (record.state !== 'pending') continue;
    if (!d.io.eligible(record.index)) {
      setNodeState(d, record, 'untouched');
      d.io.out.push({ type: 'decision', action: 'skip', node, reason: 'not eligible when its turn came (disconnected, left or no longer matching)' });
      if (record.canary && !d.promoted) replaceCanary(d);
      continue;
    }
    startNode(d, node, record, now, d.io.explain ? startReason(d, record) : '');
    room--;
    free--;
  }
  d.wantsSlots = false;
}

function startReason(d: DeploymentData, record: NodeRecord): string {
  if (d.policy.strategy === 'immediate') return 'immediate: every targeted node at once';
  const window = d.policy.windowSize === 0 ? 'unbounded window' : `window ${d.counts.updating}/${d.policy.windowSize}`;
  return record.canary ? `canary group of ${d.canaries}, ${window}` : `next in rollout order, ${window}`;
}

export function startNode(d: DeploymentData, node: string, record: NodeRecord, now: number, reason: string): void {
  const p = d.policy;
  setNodeState(d, record, 'updating');
  record.attempt++;
  record.flags = 0;
  if (d.counts.updating > d.maxInFlight) d.maxInFlight = d.counts.updating;
  const out = d.io.out;
  if (d.io.explain) out.push({ type: 'decision', action: 'start', node, reason });
  out.push({ type: 'start', node, canary: record.canary, attempt: record.attempt });
  if (!d.startedAny) {
    d.startedAny = true;
    out.push({ type: 'disarm', timer: 'queue', node: null, record: null });
  }
  if (p.deadlineMs > 0) out.push({ type: 'arm', timer: 'deadline', node, record, at: now + p.deadlineMs });
  if (p.executionTimeoutMs > 0) out.push({ type: 'arm', timer: 'execution', node, record, at: now + p.executionTimeoutMs });
}

/** §7: a pipeline node joining after completion is updated directly (no window, no order). */
export function startLateNode(d: DeploymentData, node: string, now: number): void {
  appendNode(d, node);
  const record = d.nodes.get(node)!;
  if (record.state !== 'pending') return;
  d.cursor = d.order.length;
  startNode(d, node, record, now, 'joined after completion: updated directly');
}

export function markStable(d: DeploymentData, node: string, record = d.nodes.get(node)!): void {
  setNodeState(d, record, 'stable');
  clearNodeTimers(d, node, record);
  d.io.out.push({ type: 'stable', node });
}

export function markFailed(d: DeploymentData, node: string, reason: NodeFailureReason, record = d.nodes.get(node)!): void {
  setNodeState(d, record, 'failed');
  d.failedNodes.push(node);
  clearNodeTimers(d, node, record);
  d.io.out.push({ type: 'failed', node, reason });
}

/** The group the failure rule divides by right now. */
export function currentGroup(d: Pick<DeploymentData, 'policy' | 'promoted' | 'canaries' | 'targeted'>): number {
  return failureGroup(d.policy.strategy === 'canary' && !d.promoted, d.canaries ?? 0, d.targeted);
}

/** §6, checked after each failure: would one more failed node break the rule? */
export function oneMoreFailureBreaksRule(d: DeploymentData): boolean {
  return breaksFailureRule(d.counts.failed + 1, currentGroup(d), d.policy);
}

/**
 * A node that left the fleet while updating is dropped from the rollout: its
 * execution is stopped and it is neither judged nor counted as failed (decided:
 * removal is a deliberate inventory change, unlike a disconnection, which keeps
 * the deadline running). A pending node is passed over when its turn comes.
 */
export function dropNode(d: DeploymentData, node: string): void {
  const record = d.nodes.get(node);
  if (record === undefined || record.state !== 'updating') return;
  setNodeState(d, record, 'removed');
  clearNodeTimers(d, node, record);
  if (record.canary && !d.promoted) replaceCanary(d);
  d.io.out.push(
    { type: 'stop', node, purpose: 'update', attempt: record.attempt },
    { type: 'decision', action: 'drop', node, reason: 'node left the fleet while updating' },
  );
}

export function promote(d: DeploymentData, auto: boolean): void {
  d.promoted = true;
  d.io.out.push(
    {
      type: 'decision',
      action: 'promote',
      reason: auto ? 'every canary resolved and the failure rule holds; auto_promote' : 'operator promote',
    },
    { type: 'promoted', auto },
  );
}

export function pause(d: DeploymentData, now: number, resumeTo: DeploymentData['resumeTo']): void {
  d.resumeTo = resumeTo;
  d.pausedAt = now;
  d.wantsSlots = false;
  if (d.policy.totalTimeoutMs > 0) d.io.out.push({ type: 'disarm', timer: 'total', node: null, record: null });
}

/** §7: paused time does not count toward total_timeout, so its due time moves by the pause. */
export function resume(d: DeploymentData, now: number): void {
  d.pausedMs += now - (d.pausedAt ?? now);
  d.pausedAt = null;
  d.resumeTo = null;
  if (d.policy.totalTimeoutMs > 0) d.io.out.push({ type: 'arm', timer: 'total', node: null, record: null, at: totalDue(d) });
}

export function recordFailure(d: DeploymentData, now: number, reason: string): void {
  d.failedAt = now;
  d.wantsSlots = false;
  d.pausedAt = null;
  d.resumeTo = null;
  disarmTimeouts(d);
  const why = reason === 'failure_rule' ? describeBreak(d.counts.failed, currentGroup(d), d.policy) : reason;
  d.io.out.push({ type: 'decision', action: 'fail', reason: why });
  announceState(d, 'failed', reason);
}

/** Nodes that ran the failed version: a rollback reverts exactly these. */
export function exposedCount(d: DeploymentData): number {
  const c = d.counts;
  return c.updating + c.stable + c.degraded + c.failed;
}

/**
 * §6: every node that received the failed version (updating, stable or failed)
 * is reverted at once to the last completed version; nodes still updating are
 * no longer judged. Each revert must be confirmed within the revert deadline.
 */
export function beginRollback(d: DeploymentData, now: number): void {
  const target = d.rollbackTarget!;
  const out = d.io.out;
  const carried = d.carried.length === 0 ? '' : ` and the nodes earlier deployments left on other versions`;
  out.push({ type: 'decision', action: 'rollback', reason: `reverting ${exposedCount(d)} exposed nodes${carried} to version ${target}` });
  announceState(d, 'rolling_back', d.reason);
  for (const [node, record] of d.nodes) {
    switch (record.state) {
      case 'updating':
      case 'stable':
      case 'degraded':
      case 'failed':
        setNodeState(d, record, 'reverting');
        record.attempt++;
        clearNodeTimers(d, node, record);
        record.flags = 0;
        out.push(
          { type: 'revert', node, attempt: record.attempt },
          { type: 'arm', timer: 'revert', node, record, at: now + d.policy.revertDeadlineMs },
        );
        break;
      case 'pending':
        setNodeState(d, record, 'untouched');
        break;
      default:
        break;
    }
  }
  for (const node of d.carried) revertCarried(d, node, now);
}

/**
 * §6 v1.1: a node an earlier deployment left on another version is reverted
 * too, unless this deployment's own loop already reverts it. A node this
 * deployment never targeted gets a record of its own (counted in `reverting`
 * and what follows, not in `targeted`).
 */
function revertCarried(d: DeploymentData, node: string, now: number): void {
  let record = d.nodes.get(node);
  if (record === undefined) {
    record = addRecord(d, node, 'reverting');
    d.counts.reverting++;
  } else if (record.state === 'reverting') {
    return;
  } else {
    setNodeState(d, record, 'reverting');
  }
  record.attempt++;
  record.flags = 0;
  d.io.out.push(
    { type: 'decision', action: 'revert_carried', node, reason: `ran a version other than ${d.rollbackTarget} under an earlier deployment of the job` },
    { type: 'revert', node, attempt: record.attempt },
    { type: 'arm', timer: 'revert', node, record, at: now + d.policy.revertDeadlineMs },
  );
}

export function explainNoRollback(d: DeploymentData): void {
  const reason = d.rollbackTarget !== null ? 'no node received the failed version' : d.noRollbackReason ?? '';
  d.io.out.push({ type: 'decision', action: 'no_rollback', reason });
}

export function markReverted(d: DeploymentData, node: string, confirmed: boolean): void {
  const record = d.nodes.get(node)!;
  setNodeState(d, record, confirmed ? 'reverted' : 'revert_failed');
  clearNodeTimers(d, node, record);
  d.io.out.push({ type: confirmed ? 'reverted' : 'revert_failed', node });
}

/**
 * Ends the rollout with nothing left in flight: executions still updating (or
 * reverting, when a rollback is canceled) are stopped, so none is orphaned;
 * nodes never started become `untouched`.
 */
export function stopInFlight(d: DeploymentData, reason: string): void {
  d.wantsSlots = false;
  const out = d.io.out;
  for (const [node, record] of d.nodes) {
    if (record.state === 'updating' || record.state === 'reverting') {
      const purpose = record.state === 'updating' ? 'update' : 'revert';
      setNodeState(d, record, 'stopped');
      clearNodeTimers(d, node, record);
      out.push(
        { type: 'stop', node, purpose, attempt: record.attempt },
        { type: 'decision', action: 'stop', node, reason },
      );
    } else if (record.state === 'pending') {
      setNodeState(d, record, 'untouched');
    }
  }
}

export function end(d: DeploymentData, now: number): void {
  d.endedAt = now;
  d.wantsSlots = false;
  d.pausedAt = null;
  d.resumeTo = null;
  disarmTimeouts(d);
}
