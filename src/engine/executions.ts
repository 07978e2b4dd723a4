/** What the engine asks the executor to run: ids stable per (deployment, node, attempt), so a repeated start is recognisable. */
import type { DeploymentView } from '../../machines/index.js';
import type { JobSpec } from '../spec/types.js';
import type { ExecutionRequest } from './ports.js';
import type { StopRequest } from './outbox.js';

export type Purpose = 'update' | 'revert';

export function executionId(deployment: string, node: string, purpose: Purpose, attempt: number): string {
  // `join` builds one flat string; a template literal leaves a tree of cons-strings (~190 B against ~65 B),
  // and executors keep the id while the execution runs.
  return [deployment, node, `${purpose}-${attempt}`].join('/');
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
