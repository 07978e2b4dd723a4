/**
 * The engine's state as plain JSON: the fleet, the jobs, each deployment
 * room's own snapshot (machines/snapshot.ts) and the armed timers. Maps
 * become arrays of entries in their iteration order, so a restored engine
 * iterates exactly as the original did.
 */
import type { DeploymentSnapshot } from '../../machines/index.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import type { EngineTimersSnapshot } from './engineTimers.js';
import type { OutboxSnapshot } from './outbox.js';
import type { EngineSnapshot } from './types.js';

export const SNAPSHOT_FORMAT = 1;

/** One job: its versions and where its deployments stand. */
export interface JobRecord {
  key: string;
  /** Specs by version number; a version no kept deployment needs is forgotten with its deployments (§7 history). */
  versions: Record<number, JobSpec>;
  /** Versions created so far; the latest submitted version is this one. */
  versionCount: number;
  /** The version the job's nodes are meant to run: the latest deployment's, or its rollback target once it rolls back. */
  current: number;
  lastCompleted: number | null;
  /** The last two distinct versions whose deployment completed, most recent last: the rollback default (§7 v1.1). */
  completed: number[];
  /** The deployment of the latest submitted version: what became of it decides a resubmission (§1 v1.1). */
  submitted: string;
  deployments: number;
  latest: string;
  /** The job's deployments the engine still keeps, oldest first (§7 v1.1 bounded history). */
  history: string[];
}

export interface EngineState {
  format: typeof SNAPSHOT_FORMAT;
  nodes: FleetNode[];
  jobs: JobRecord[];
  deployments: DeploymentSnapshot[];
  timers: EngineTimersSnapshot;
  deploymentSeq: number;
  ignoredReports: Record<string, number>;
  /** Clock time the snapshot was taken: the engine was alive then (§4 v1.1 downtime). Absent in older snapshots. */
  at?: number;
  /** The sequence of starts, stops and events and what was not delivered yet (§7a). Absent in older snapshots. */
  outbox?: OutboxSnapshot;
}

export function asEngineState(snapshot: EngineSnapshot): EngineState {
  if (snapshot.format !== SNAPSHOT_FORMAT) throw new Error(`unsupported engine snapshot format ${String(snapshot.format)}`);
  return snapshot as unknown as EngineState;
}
