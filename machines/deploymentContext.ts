/**
 * The deployment machine's context: one mutable object per deployment,
 * mutated in place by the machine's actions (never copied per event).
 * Every per-node fact lives in ONE Map (`nodes`); the rollout order is an
 * array with a cursor, so picking the next nodes costs O(nodes started).
 * Everything but `io` is plain data and goes into the snapshot.
 */
import type { DeploymentKind, DeploymentState, NodeFailureReason, TimerKind } from '../src/engine/types.js';
import type { RolloutPolicy } from '../src/engine/policy.js';

/**
 * A node's state within one deployment. `untouched`: targeted, never started
 * (its turn came while it was not eligible, or the deployment ended first);
 * `removed`: left the fleet while updating; `stopped`: still updating when the
 * deployment ended without reverting it, so its execution was stopped.
 */
export type NodeState =
  | 'pending'
  | 'updating'
  | 'stable'
  | 'degraded'
  | 'failed'
  | 'untouched'
  | 'removed'
  | 'stopped'
  | 'reverting'
  | 'reverted'
  | 'revert_failed';

export const NODE_STATES: readonly NodeState[] = [
  'pending',
  'updating',
  'stable',
  'degraded',
  'failed',
  'untouched',
  'removed',
  'stopped',
  'reverting',
  'reverted',
  'revert_failed',
];

export interface NodeRecord {
  state: NodeState;
  canary: boolean;
  /** Executions started on this node by this deployment (updates and reverts); names the execution id. */
  attempt: number;
  /** Execution statuses already reported for the current execution (bit set), to spot duplicates. */
  seen: number;
}

/** Which state `resume` goes back to. */
export type ResumeTarget = 'pending' | 'canary' | 'awaiting_promotion' | 'rolling';

/** What the machine asks its shell to do; the shell applies these in order after each event. */
export type Effect =
  | { type: 'state'; state: DeploymentState; reason: string | null }
  | { type: 'start'; node: string; canary: boolean; attempt: number }
  | { type: 'stable'; node: string }
  | { type: 'failed'; node: string; reason: NodeFailureReason }
  | { type: 'promoted'; auto: boolean }
  | { type: 'revert'; node: string; attempt: number }
  | { type: 'reverted'; node: string }
  | { type: 'revert_failed'; node: string }
  | { type: 'stop'; node: string; purpose: 'update' | 'revert'; attempt: number }
  | { type: 'arm'; timer: TimerKind; node: string | null; at: number }
  | { type: 'disarm'; timer: TimerKind; node: string | null }
  | { type: 'clearNodeTimers'; node: string }
  | { type: 'decision'; action: string; reason: string; node?: string };


/** The shell's side of the context: never persisted, re-attached on restore. */
export interface DeploymentIo {
  /** Effects of the current event, drained by the shell after each `send`. */
  out: Effect[];
  /** Is this node eligible now (in the fleet, connected, matching the selector)? */
  eligible(node: string): boolean;
  /** False while nobody listens to `decision` events: the per-node ones are then not built (default: true). */
  explain?: boolean;
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
  /** Why a failure would not roll back, when `rollbackTarget` is null. */
  noRollbackReason: string | null;
  /** The public state; null until the machine first announces one (reads as `pending`). */
  state: DeploymentState | null;
  reason: string | null;
  failedAt: number | null;
  endedAt: number | null;
  nodes: Map<string, NodeRecord>;
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
