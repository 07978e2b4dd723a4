/**
 * The state the engine's handlers share: the fleet, the jobs, one running
 * deployment machine per deployment, and the outbox and timer book effects go
 * out through. `Engine` owns the one instance and passes it explicitly to the
 * handler modules (fleet, reportIntake, timerIntake, deployments, effects,
 * persistence): plain functions of this state, no object per call.
 */
import type { Actor } from 'xstate';
import type { deploymentMachine } from '../../machines/deployment.js';
import type { DeploymentData, NodeRecord } from '../../machines/deploymentContext.js';
import type { ResolvePhase } from '../../machines/resolveInPlace.js';
import type { NodePredicate } from '../selector/match.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import type { Outbox } from './outbox.js';
import type { IgnoredReason } from './reports.js';
import type { JobRecord } from './snapshot.js';
import type { TimerBook } from './timerBook.js';

export interface Runtime {
  data: DeploymentData;
  actor: Actor<typeof deploymentMachine>;
  /** How the machine's current state handles a node resolving (kept after each machine step). */
  phase: ResolvePhase;
}

/** Where a report goes: the job's latest deployment and the node's record in it. */
export interface Routed {
  rt: Runtime;
  record: NodeRecord;
}

export interface EngineCore {
  readonly outbox: Outbox;
  readonly timers: TimerBook;
  /** The engine-wide cap on updating nodes (§7); 0: none. */
  readonly cap: number;
  readonly nodes: Map<string, FleetNode>;
  readonly jobs: Map<string, JobRecord>;
  readonly runtimes: Map<string, Runtime>;
  readonly matchers: Map<string, NodePredicate>;
  readonly ignoredReports: Record<IgnoredReason, number>;
  /** One object reused by `route` (inputs are never handled re-entrantly): a report allocates nothing to be routed. */
  readonly routed: Routed;
  deploymentSeq: number;
  /** Clock time of the input being handled (the journal's time during replay). */
  now: number;
  /** A machine got an event during this input: slots of the engine-wide cap may have to be offered. */
  machineTouched: boolean;
}

export function newEngineCore(outbox: Outbox, timers: TimerBook, cap: number): EngineCore {
  return {
    outbox,
    timers,
    cap,
    nodes: new Map(),
    jobs: new Map(),
    runtimes: new Map(),
    matchers: new Map(),
    ignoredReports: { stale_version: 0, unknown_node: 0, unknown_job: 0, duplicate: 0, not_updating: 0 },
    routed: { rt: null as unknown as Runtime, record: null as unknown as NodeRecord },
    deploymentSeq: 0,
    now: 0,
    machineTouched: false,
  };
}

export function latestOf(core: EngineCore, job: JobRecord): Runtime {
  return core.runtimes.get(job.latest)!;
}

export function specOf(core: EngineCore, d: DeploymentData, version: number): JobSpec {
  return core.jobs.get(d.job)!.versions[version - 1]!;
}
