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

/** One job: its versions (index = version - 1) and where its deployments stand. */
export interface JobRecord {
  key: string;
  versions: JobSpec[];
  /** The version the job's nodes are meant to run: the latest deployment's, or its rollback target once it rolls back. */
  current: number;
  lastCompleted: number | null;
  deployments: number;
  latest: string;
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
