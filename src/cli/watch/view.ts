/**
 * What `watch` shows, computed from a store's committed state without
 * writing anything (restored into an engine of its own, see storeSource.ts).
 */
import type { DeploymentState, DeploymentStatus, JournalEntry } from '../../engine/index.js';
import type { NodeFailureReason } from '../../engine/types.js';
import { withRestoredEngine, type StoredState } from '../storeSource.js';

export interface WatchView {
  /** The deployment followed: the job's latest. */
  status: DeploymentStatus;
  /** Further failed nodes the failure rule tolerates before the deployment fails (§6). */
  budgetLeft: number;
  /** The latest failures first, each with its reason when the journal since the last snapshot holds it. */
  failures: Array<{ node: string; reason: NodeFailureReason | null; at: number | null }>;
  /** A PostgreSQL store's leader now (holder null: none holds the lease) and the epoch of the last one; null for SQLite (no lease). */
  leader: { holder: string | null; epoch: number } | null;
}

export type WatchLookup =
  | { found: true; view: WatchView }
  /** No deployment at all yet (the writer has not submitted): keep waiting. */
  | { found: false; jobs: string[] };

export const TERMINAL: ReadonlySet<DeploymentState> = new Set(['completed', 'failed', 'rolled_back', 'canceled']);
/** Failures listed; the count is always shown in full. */
export const MAX_FAILURES_SHOWN = 5;

/** `job` null follows the most recently created deployment of any job. */
export function watchView(state: StoredState, job: string | null, now: number, leader: WatchView['leader'] = null): WatchLookup {
  return withRestoredEngine(state, now, (engine) => {
    const deployments = engine.deployments();
    const jobs = [...new Set(deployments.map((d) => d.job))].sort();
    const followed = job === null ? latestJob(deployments) : resolveJob(job, jobs);
    const status = followed === null ? undefined : engine.status(followed);
    if (status === undefined) return { found: false, jobs };
    return { found: true, view: { status, budgetLeft: budgetLeft(status), failures: failures(status, state.journal), leader } };
  });
}

function latestJob(deployments: readonly DeploymentStatus[]): string | null {
  let latest: DeploymentStatus | null = null;
  for (const d of deployments) if (latest === null || d.created_at >= latest.created_at) latest = d;
  return latest?.job ?? null;
}

/** `name` alone means the `default` namespace, as in a JobSpec. */
export function resolveJob(job: string, jobs: readonly string[]): string {
  return job.includes('/') || !jobs.includes(`default/${job}`) ? job : `default/${job}`;
}

/** §6: the deployment fails once `failed > max_failed_nodes` or `100 * failed / group > max_failed_nodes_percent`. */
export function budgetLeft(status: DeploymentStatus): number {
  const { failed, group, max_failed_nodes, max_failed_nodes_percent } = status.budget;
  const byPercent = Math.floor((max_failed_nodes_percent * group) / 100);
  return Math.max(0, Math.min(max_failed_nodes, byPercent) - failed);
}

/**
 * The reason of a failure is read from the input that caused it, when that
 * input is still in the journal: a fired `deadline` or `execution` timer of
 * the node, or its executor reporting the execution failed (contract §4).
 * Failures older than the last snapshot are listed without a reason.
 */
function failures(status: DeploymentStatus, journal: readonly JournalEntry[]): WatchView['failures'] {
  const cause = new Map<string, { reason: NodeFailureReason; at: number; index: number }>();
  journal.forEach((entry, index) => {
    const input = entry.input;
    if (input.type === 'timer' && input.deployment === status.id && input.node !== null && (input.kind === 'deadline' || input.kind === 'execution')) {
      cause.set(input.node, { reason: input.kind === 'deadline' ? 'deadline_exceeded' : 'execution_timeout', at: entry.at, index });
    } else if (input.type === 'report.execution' && input.report.job === status.job && input.report.version === status.to_version && input.report.status === 'failed') {
      cause.set(input.report.node, { reason: 'execution_failed', at: entry.at, index });
    }
  });
  return status.failed_nodes
    .map((node) => ({ node, cause: cause.get(node) }))
    .sort((a, b) => (b.cause?.index ?? -1) - (a.cause?.index ?? -1))
    .slice(0, MAX_FAILURES_SHOWN)
    .map(({ node, cause: found }) => ({ node, reason: found?.reason ?? null, at: found?.at ?? null }));
}
