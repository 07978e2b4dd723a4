/**
 * The engine's state as plain JSON (and back). Maps become arrays of entries
 * in their iteration order, so a restored engine iterates exactly as the
 * original did; node records become tuples to keep large snapshots small.
 */
import type { StateValue } from 'xstate';
import type { DeploymentData, DeploymentIo, NodeRecord, NodeState } from '../../machines/deploymentContext.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import type { TimerBookSnapshot } from './timerBook.js';
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

type NodeTuple = [node: string, state: NodeState, canary: 0 | 1, attempt: number, seen: number];

export interface DeploymentSnapshot {
  machine: StateValue;
  data: Omit<DeploymentData, 'nodes' | 'orderRecords' | 'io'> & { nodes: NodeTuple[] };
}

export interface EngineState {
  format: typeof SNAPSHOT_FORMAT;
  nodes: FleetNode[];
  jobs: JobRecord[];
  deployments: DeploymentSnapshot[];
  timers: TimerBookSnapshot;
  deploymentSeq: number;
  ignoredReports: Record<string, number>;
}

export function serializeDeployment(machine: StateValue, data: DeploymentData): DeploymentSnapshot {
  const { nodes, orderRecords: _derived, io: _io, ...rest } = data;
  const tuples: NodeTuple[] = [];
  for (const [id, r] of nodes) tuples.push([id, r.state, r.canary ? 1 : 0, r.attempt, r.seen]);
  return {
    machine: structuredClone(machine),
    data: { ...structuredClone(rest), nodes: tuples },
  };
}

export function deserializeDeployment(s: DeploymentSnapshot, io: DeploymentIo): DeploymentData {
  const { nodes: tuples, ...rest } = s.data;
  const nodes = new Map<string, NodeRecord>();
  for (const [id, state, canary, attempt, seen] of tuples) nodes.set(id, { state, canary: canary === 1, attempt, seen });
  const data = structuredClone(rest);
  return { ...data, nodes, orderRecords: data.order.map((id) => nodes.get(id)!), io };
}

export function asEngineState(snapshot: EngineSnapshot): EngineState {
  if (snapshot.format !== SNAPSHOT_FORMAT) throw new Error(`unsupported engine snapshot format ${String(snapshot.format)}`);
  return snapshot as unknown as EngineState;
}
