/**
 * The deployment room's state (the machine's context): one mutable object
 * per deployment, mutated in place by the room alone (never copied per event).
 * Every per-node fact lives in ONE record per node (`nodes`), found by id
 * or by the shell's dense node index (the hot path: an array read, no hash); the rollout order is an array with a cursor, so picking
 * the next nodes costs O(nodes started). Everything but `io` and what is
 * derived is plain data and goes into the snapshot.
 */
import type { JobSpec } from '../src/spec/types.js';
import type { Effect } from './effects.js';
import { NodeRecords } from './nodeRecords.js';
import { rolloutPolicy, type RolloutPolicy } from './policy.js';
import { rollbackPlan } from './rules/failure.js';
import { NODE_STATES, type DeploymentKind, type DeploymentState, type NodeState } from './vocabulary.js';

export interface NodeRecord {
  state: NodeState;
  canary: boolean;
  /** Executions started on this node by this deployment (updates and reverts); names the execution id. */
  attempt: number;
  /**
   * Bits: the execution statuses already reported for the current execution
   * (to spot duplicates) and whether a passing streak runs (its timer is
   * armed); cleared when an execution starts. See `FLAG`.
   */
  flags: number;
  /** The shell's dense index of the node (`RoomPorts.indexOf`): derived, not in the snapshot. */
  readonly index: number;
  /**
   * The shell's slot for this node's timers while any is armed, else null:
   * the shell's alone (the room never reads it), so that arming, disarming
   * and firing a node timer need no lookup. Not in the snapshot.
   */
  timers: number | null;
}

/** The bits of `NodeRecord.flags`. */
export const FLAG = { started: 1, succeeded: 2, failed: 4, streak: 8 } as const;

/** Which state `resume` goes back to. */
export type ResumeTarget = 'pending' | 'canary' | 'awaiting_promotion' | 'rolling';

/** What the room asks of its shell: the fleet as it stands and who listens. Never persisted, given again on restore. */
export interface RoomPorts {
  /** Is the node of this index eligible now (in the fleet, connected, matching the selector)? */
  eligible(index: number): boolean;
  /** The shell's dense index of a node id, the same for the id as long as the shell lives (made on first sight). */
  indexOf(node: string): number;
  /** The shell's index of a node id it knows; -1 for one it never saw (nothing is made). */
  findIndex(node: string): number;
  /** False while nobody listens to `decision` events: the per-node ones are then not built. */
  explains(): boolean;
}

/** The room's working side of its state: never persisted. */
export interface DeploymentIo {
  /** Effects of the current event, handed to the shell by `send`. */
  out: Effect[];
  /** Is the node of this index eligible now (in the fleet, connected, matching the selector)? */
  eligible(index: number): boolean;
  /** The shell's dense index of a node id (see `RoomPorts.indexOf`). */
  indexOf(node: string): number;
  /** The shell's index of a node id it knows; -1 for one it never saw (nothing is made). */
  findIndex(node: string): number;
  /** Whether to build per-node `decision` effects (asked of the shell before each step that may build them). */
  explain: boolean;
}

export interface DeploymentData {
  id: string;
  job: string;
  version: number;
  kind: DeploymentKind;
  fromVersion: number | null;
  priority: number;
  /** Creation order among all deployments; breaks priority ties (older first). */
  seq: number;
  createdAt: number;
  policy: RolloutPolicy;
  /** The version a failure rolls back to; null when a failure must not roll back. */
  rollbackTarget: number | null;
  /** §6 v1.1: nodes earlier deployments left on another version than `rollbackTarget`; a rollback reverts them too. */
  carried: string[];
  /** Why a failure would not roll back, when `rollbackTarget` is null. */
  noRollbackReason: string | null;
  /** The public state; null until the machine first announces one (reads as `pending`). */
  state: DeploymentState | null;
  reason: string | null;
  failedAt: number | null;
  endedAt: number | null;
  nodes: NodeRecords;
  /** Rollout order: targets sorted at creation, then nodes appended as they join. */
  order: string[];
  /**
   * `orderRecords[i]` is `nodes.get(order[i])`, kept beside `order` so the
   * window fills without a hash lookup per node (a cache miss or two in a
   * large fleet). Derived: not in the snapshot, rebuilt on restore.
   */
  orderRecords: NodeRecord[];
  /** Index in `order` of the next node to consider. */
  cursor: number;
  /** Distinct nodes ever targeted (entries of `nodes`). */
  targeted: number;
  /** Canary group size; null until fixed when the rollout leaves `pending` (0 outside canary). */
  canaries: number | null;
  /**
   * End (in `order`) of the canary group: its first `canaries` nodes, plus
   * one more for each canary passed over or removed (§5 v1.1 replacements).
   */
  canaryEnd: number;
  /** Replacements owed when the order ran out: the next nodes to join become canaries. */
  canariesOwed: number;
  promoted: boolean;
  counts: Record<NodeState, number>;
  failedNodes: string[];
  maxInFlight: number;
  startedAny: boolean;
  resumeTo: ResumeTarget | null;
  pausedAt: number | null;
  /** Paused time so far, excluded from total_timeout. */
  pausedMs: number;
  /** Held back by the engine-wide cap: the shell offers it slots in priority order. */
  wantsSlots: boolean;
  io: DeploymentIo;
}

export function emptyCounts(): Record<NodeState, number> {
  const counts = {} as Record<NodeState, number>;
  for (const state of NODE_STATES) counts[state] = 0;
  return counts;
}

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
  /** `targetIndexes[i]` is the shell's index of `targets[i]` (`io.indexOf`), when the shell has them at hand. */
  targetIndexes?: readonly number[];
  /** Nodes earlier deployments left on another version than the rollback target (§6 v1.1, `carriedExposure`); default none. */
  carried?: string[];
}

/** A new deployment's state: its policy, rollback plan and targets in rollout order, all nodes pending. */
export function newDeploymentData(n: NewDeployment, io: DeploymentIo): DeploymentData {
  const plan = rollbackPlan(n.kind, n.spec.type, n.spec.deployment.no_auto_rollback, n.lastCompleted);
  const counts = emptyCounts();
  counts.pending = n.targets.length;
  const orderRecords: NodeRecord[] = new Array(n.targets.length);
  const indexes = n.targetIndexes ?? n.targets.map((id) => io.indexOf(id));
  for (let i = 0; i < n.targets.length; i++) orderRecords[i] = nodeRecord('pending', indexes[i]!);
  const nodes = new NodeRecords(indexArray(indexes), io.findIndex, n.targets, orderRecords);
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
    carried: n.carried ?? [],
    canaryEnd: 0,
    canariesOwed: 0,
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
    io,
  };
}

export function nodeRecord(state: NodeState, index: number): NodeRecord {
  return { state, canary: false, attempt: 0, flags: 0, index, timers: null };
}

/** Adds a node's record (under its id and its index); the caller counts it. */
export function addRecord(d: DeploymentData, node: string, state: NodeState): NodeRecord {
  const record = nodeRecord(state, d.io.indexOf(node));
  d.nodes.add(node, record);
  return record;
}

/**
 * An empty array for `NodeRecords` to hold records of these indexes by index: allocated at its full
 * length when they fill most of it, so V8 keeps it a flat array (grown one
 * far index at a time it would turn into a hash table); a few nodes of a
 * large fleet keep a small (sparse) one.
 */
export function indexArray(indexes: readonly number[]): (NodeRecord | undefined)[] {
  let max = -1;
  for (let i = 0; i < indexes.length; i++) if (indexes[i]! > max) max = indexes[i]!;
  return max >= 1024 && indexes.length * 4 > max ? new Array<NodeRecord | undefined>(max + 1) : [];
}
