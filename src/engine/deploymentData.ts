/** A new deployment's machine context: its policy, rollback plan and targets in rollout order, all nodes pending. */
import { emptyCounts, type DeploymentData, type DeploymentIo, type NodeRecord } from '../../machines/deploymentContext.js';
import type { JobSpec } from '../spec/types.js';
import { rolloutPolicy } from './policy.js';
import { rollbackPlan } from './rules/rollbackTarget.js';
import type { DeploymentKind } from './types.js';

export interface NewDeployment {
  id: string;
  job: string;
  version: number;
  spec: JobSpec;
  kind: DeploymentKind;
  fromVersion: number | null;
  /** The job's last completed version, the target of a rollback (§6). */
  lastCompleted: number | null;
  seq: number;
  createdAt: number;
  /** Eligible node ids in rollout order (§3). */
  targets: string[];
  io: DeploymentIo;
}

export function newDeploymentData(n: NewDeployment): DeploymentData {
  const plan = rollbackPlan(n.kind, n.spec.type, n.spec.deployment.no_auto_rollback, n.lastCompleted);
  const counts = emptyCounts();
  counts.pending = n.targets.length;
  const nodes = new Map<string, NodeRecord>();
  const orderRecords: NodeRecord[] = new Array(n.targets.length);
  for (let i = 0; i < n.targets.length; i++) {
    const record: NodeRecord = { state: 'pending', canary: false, attempt: 0, seen: 0 };
    nodes.set(n.targets[i]!, record);
    orderRecords[i] = record;
  }
  return {
    id: n.id,
    job: n.job,
    version: n.version,
    kind: n.kind,
    fromVersion: n.fromVersion,
    priority: n.spec.priority,
    seq: n.seq,
    createdAt: n.createdAt,
    policy: rolloutPolicy(n.spec),
    rollbackTarget: plan.target,
    noRollbackReason: plan.reason,
    state: null,
    reason: null,
    failedAt: null,
    endedAt: null,
    nodes,
    order: n.targets,
    orderRecords,
    cursor: 0,
    targeted: n.targets.length,
    canaries: null,
    promoted: false,
    counts,
    failedNodes: [],
    maxInFlight: 0,
    startedAny: false,
    resumeTo: null,
    pausedAt: null,
    pausedMs: 0,
    wantsSlots: false,
    io: n.io,
  };
}
