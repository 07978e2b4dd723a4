/**
 * Contract §6: where a failure rolls back to, decided when the deployment is
 * created: the last version whose deployment completed, unless the deployment
 * is itself a rollback, the job is a query, `no_auto_rollback` is set, or no
 * earlier version completed. The reason is kept for the `decision` event.
 */
import type { JobType } from '../../spec/types.js';
import type { DeploymentKind } from '../types.js';

export type RollbackPlan = { target: number; reason: null } | { target: null; reason: string };

export function rollbackPlan(kind: DeploymentKind, type: JobType, noAutoRollback: boolean, lastCompleted: number | null): RollbackPlan {
  if (kind === 'rollback') return { target: null, reason: 'a rollback never triggers another rollback' };
  if (type === 'query') return { target: null, reason: 'query jobs are never rolled back' };
  if (noAutoRollback) return { target: null, reason: 'no_auto_rollback is set' };
  if (lastCompleted === null) return { target: null, reason: 'no earlier version completed' };
  return { target: lastCompleted, reason: null };
}
