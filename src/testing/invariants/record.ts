/**
 * The contract's invariants as checks over a finished (or paused) run: its
 * §8 trace, the final status of each deployment, the specs that were
 * submitted and, when known, the executor calls. Each check returns the
 * violations it found, naming the contract section, e.g.
 * `§5 window exceeded max_parallel=3 at t=40: 4 updating (n-1, n-2, n-3, n-4) in d-2`.
 *
 * The checks read the trace only; they never ask the engine, so an engine that
 * misreports its own state cannot vouch for itself.
 */
import { isAtRest, isLive, isTerminal, beginsRollback } from '../../engine/index.js';
import type { DeploymentStatus } from '../../engine/types.js';
import type { TraceEvent } from '../../sim/trace.js';
import type { JobSpec } from '../../spec/types.js';
import type { ExecutorCall } from '../harness.js';

export interface RolloutRecord {
  trace: readonly TraceEvent[];
  /** The final status of every deployment in the trace. */
  deployments: readonly DeploymentStatus[];
  /** The normalized spec of every submitted version: `specs[job][version]`. */
  specs: Readonly<Record<string, Readonly<Record<number, JobSpec>>>>;
  /** Every executor start and stop, when the run was driven by the harness. */
  executorCalls?: readonly ExecutorCall[];
  /** The engine-wide cap on concurrent node updates, if one was set. */
  maxConcurrentUpdates?: number;
  /**
   * The run went on until no deployment could move without an operator or a
   * new node: the rules about how runs end apply.
   */
  settled: boolean;
}

export interface Violation {
  /** The contract section, e.g. `§5`. */
  section: string;
  /** The invariant's name, e.g. `windowNeverExceedsMaxParallel`. */
  rule: string;
  deployment: string | null;
  t: number | null;
  /** The violation as a sentence, starting with the section. */
  message: string;
}

export type Invariant = (record: RolloutRecord) => Violation[];

// What the trace says about each deployment.

export interface Created {
  id: string;
  t: number;
  job: string;
  kind: string;
  to_version: number;
  strategy: string;
  targeted: number;
  canaries: number;
  spec: JobSpec | undefined;
}

/** Where a deployment stands in its life: the engine's one definition (machines/lifecycle.ts). */
export { isAtRest, isLive, isTerminal, beginsRollback };
/** Failure reasons that are not the failure rule. */
export const NOT_THE_RULE: ReadonlySet<string> = new Set(['aborted', 'total_timeout', 'queue_timeout', 'superseded']);

export function createdDeployments(record: RolloutRecord): Map<string, Created> {
  const created = new Map<string, Created>();
  for (const e of record.trace) {
    if (e.type !== 'deployment.created') continue;
    const job = String(e.job);
    const toVersion = Number(e.to_version);
    created.set(e.deployment, {
      id: e.deployment,
      t: e.t,
      job,
      kind: String(e.kind),
      to_version: toVersion,
      strategy: String(e.strategy),
      targeted: Number(e.targeted),
      canaries: Number(e.canaries),
      spec: record.specs[job]?.[toVersion],
    });
  }
  return created;
}

export function finalTargeted(record: RolloutRecord, d: Created): number {
  return record.deployments.find((status) => status.id === d.id)?.targeted ?? d.targeted;
}

/**
 * The canary group's size: as announced at creation, or, for a deployment
 * created with no eligible node, as fixed when its first node arrived (the
 * trace does not carry that moment's target count, so the status says).
 */
export function canaryGroupSize(record: RolloutRecord, d: Created): number {
  if (d.targeted > 0) return d.canaries;
  return record.deployments.find((status) => status.id === d.id)?.canary_nodes.length ?? 0;
}

export function violation(section: string, rule: string, deployment: string | null, t: number | null, text: string): Violation {
  return { section, rule, deployment, t, message: `${section} ${text}` };
}

export function ids(nodes: Iterable<string>): string {
  return [...nodes].join(', ');
}
