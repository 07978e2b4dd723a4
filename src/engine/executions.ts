/** What the engine asks the executor to run: ids stable per (deployment, node, attempt), so a repeated start is recognisable. */
import type { DeploymentView } from '../../machines/index.js';
import type { JobSpec } from '../spec/types.js';
import type { ExecutionRequest } from './ports.js';
import type { StopRequest } from './outbox.js';

export type Purpose = 'update' | 'revert';

export function executionId(deployment: string, node: string, purpose: Purpose, attempt: number): string {
  // Two concatenations of shared parts: two cons-strings (~64 B, what a flat copy costs, and executors keep
  // the id while the execution runs) built in half the time of a `join`. A template literal would leave
  // a longer tree (~190 B) of parts of its own.
  return prefixOf(deployment) + node + suffixOf(purpose, attempt);
}

/** `deployment/` of the deployment named last: a deployment starts its nodes in runs. */
const lastPrefix = { deployment: '', prefix: '/' };

function prefixOf(deployment: string): string {
  if (deployment !== lastPrefix.deployment) {
    lastPrefix.deployment = deployment;
    lastPrefix.prefix = `${deployment}/`;
  }
  return lastPrefix.prefix;
}

/** `/update-1` ... by purpose and attempt, made once each. */
const suffixes: Record<Purpose, string[]> = { update: [], revert: [] };

function suffixOf(purpose: Purpose, attempt: number): string {
  const made = suffixes[purpose];
  return (made[attempt] ??= `/${purpose}-${attempt}`);
}

/** The version an execution runs: the deployment's for an update, its rollback target for a revert. */
export function executionVersion(d: DeploymentView, purpose: Purpose): number {
  return purpose === 'update' ? d.version : d.rollbackTarget!;
}

export function startRequest(d: DeploymentView, node: string, purpose: Purpose, attempt: number, spec: JobSpec): ExecutionRequest {
  return { executionId: executionId(d.id, node, purpose, attempt), deployment: d.id, job: d.job, version: executionVersion(d, purpose), node, purpose, spec };
}

export function stopRequest(d: DeploymentView, node: string, purpose: Purpose, attempt: number): StopRequest {
  return { executionId: executionId(d.id, node, purpose, attempt), node, job: d.job, version: executionVersion(d, purpose) };
}
