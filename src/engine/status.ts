/** A deployment's public status (inspection: not on the hot path). */
import { currentGroup, type DeploymentView } from '../../machines/index.js';
import type { DeploymentStatus } from './types.js';

export function statusOf(d: DeploymentView): DeploymentStatus {
  const c = d.counts;
  return {
    id: d.id,
    job: d.job,
    kind: d.kind,
    from_version: d.fromVersion,
    to_version: d.version,
    strategy: d.policy.strategy,
    state: d.state ?? 'pending',
    reason: d.reason,
    created_at: d.createdAt,
    failed_at: d.failedAt,
    ended_at: d.endedAt,
    targeted: d.targeted,
    canary_nodes: d.order.slice(0, d.canaryEnd).filter((node) => d.nodes.get(node)!.canary),
    promoted: d.promoted,
    counts: {
      pending: c.pending,
      updating: c.updating,
      stable: c.stable,
      failed: c.failed,
      degraded: c.degraded,
      reverting: c.reverting,
      reverted: c.reverted,
      revert_failed: c.revert_failed,
      untouched: c.untouched,
      stopped: c.stopped,
      removed: c.removed,
    },
    failed_nodes: [...d.failedNodes],
    rollback_target: d.rollbackTarget,
    budget: {
      // every failure so far: after a rollback the failed nodes are reverted, but they used the budget
      failed: d.failedNodes.length,
      group: currentGroup(d),
      max_failed_nodes: d.policy.maxFailedNodes,
      max_failed_nodes_percent: d.policy.maxFailedNodesPercent,
    },
    max_in_flight: d.maxInFlight,
  };
}
