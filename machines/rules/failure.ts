/** The failure rule and the rollback plan (contract §6). */
import type { JobType } from '../../src/spec/types.js';
import type { DeploymentKind } from '../vocabulary.js';

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
