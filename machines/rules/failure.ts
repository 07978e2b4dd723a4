/** The failure rule and the rollback plan (contract §6). */
import type { JobType } from '../../src/spec/types.js';
import type { DeploymentKind, NodeState } from '../vocabulary.js';

/** A deployment fails as soon as `failed > max_failed_nodes` or `100 * failed / group > max_failed_nodes_percent`. */
export interface FailureLimits {
  maxFailedNodes: number;
  maxFailedNodesPercent: number;
}

export function breaksFailureRule(failed: number, group: number, limits: FailureLimits): boolean {
  if (failed > limits.maxFailedNodes) return true;
  return group > 0 && (100 * failed) / group > limits.maxFailedNodesPercent;
}

/**
 * The group the percentage is taken of: the canary group until promotion, every
 * targeted node after it (canary failures keep counting in `failed`).
 */
export function failureGroup(inCanaryPhase: boolean, canaries: number, targeted: number): number {
  return inCanaryPhase ? canaries : targeted;
}

/** One line saying which limit broke, for the `decision` event. */
export function describeBreak(failed: number, group: number, limits: FailureLimits): string {
  if (failed > limits.maxFailedNodes) return `${failed} failed > max_failed_nodes ${limits.maxFailedNodes}`;
  const percent = Math.round(((100 * failed) / group) * 100) / 100;
  return `${failed}/${group} failed = ${percent}% > max_failed_nodes_percent ${limits.maxFailedNodesPercent}`;
}

export type RollbackPlan = { target: number; reason: null } | { target: null; reason: string };

/**
 * Where a failure rolls back to, decided when the deployment is created: the
 * last version whose deployment completed, unless the deployment is itself a
 * rollback, the job is a query, `no_auto_rollback` is set, or no earlier
 * version completed. The reason is kept for the `decision` event.
 */
export function rollbackPlan(kind: DeploymentKind, type: JobType, noAutoRollback: boolean, lastCompleted: number | null): RollbackPlan {
  if (kind === 'rollback') return { target: null, reason: 'a rollback never triggers another rollback' };
  if (type === 'query') return { target: null, reason: 'query jobs are never rolled back' };
  if (noAutoRollback) return { target: null, reason: 'no_auto_rollback is set' };
  if (lastCompleted === null) return { target: null, reason: 'no earlier version completed' };
  return { target: lastCompleted, reason: null };
}

/** States of a node that ran the deployment's version (or a revert of it that may not have taken). */
const RAN: ReadonlySet<NodeState> = new Set<NodeState>(['updating', 'stable', 'degraded', 'failed', 'stopped', 'reverting', 'revert_failed']);

/** What `carriedExposure` reads of the deployment a new one follows. */
export interface ExposureSource {
  state: string | null;
  version: number;
  rollbackTarget: number | null;
  carried: readonly string[];
  nodes: ReadonlyMap<string, { readonly state: NodeState }>;
}

/**
 * §6 v1.1: the nodes a new deployment carries over from the one it follows,
 * for its rollback to revert too: every node that ran a version other than
 * `target` (the job's last completed version) since `target` completed, and
 * was not brought back to it. Decided: "newer than the target" is read as
 * "other than the target" (a rollback deployment may run an older version);
 * a node that left the fleet while updating is not carried (nothing to
 * revert); reverting a node that already runs the target is harmless.
 */
export function carriedExposure(previous: ExposureSource, target: number | null): string[] {
  if (target === null || (previous.state === 'completed' && previous.version === target)) return [];
  // A node `previous` started on the target itself (a rollback deployment to it), or reverted to it, runs the target.
  const atTarget = (state: NodeState | undefined): boolean =>
    state === undefined ? false : previous.version === target ? RAN.has(state) || state === 'reverted' : state === 'reverted' && previous.rollbackTarget === target;
  const carried = new Set<string>();
  for (const node of previous.carried) {
    const state = previous.nodes.get(node)?.state;
    if (!atTarget(state) && state !== 'removed') carried.add(node);
  }
  if (previous.version !== target) {
    for (const [node, record] of previous.nodes) if (RAN.has(record.state) && !atTarget(record.state)) carried.add(node);
  }
  return [...carried];
}
