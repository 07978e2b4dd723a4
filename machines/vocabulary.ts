/**
 * The deployment room's vocabulary: the states a deployment and a node can be
 * in, why a node fails, which execution statuses a report carries, the timers
 * the room arms, and why a report changes nothing. Defined here, where they
 * are decided; the engine shell's public types (`types.ts` there) re-export them.
 */

export type DeploymentKind = 'create' | 'update' | 'rollback';

/** The public state of a deployment (contract §7); `lifecycle.ts` says which are live, terminal, at rest. */
export type DeploymentState =
  | 'pending'
  | 'in_progress'
  | 'paused'
  | 'awaiting_promotion'
  | 'completed'
  | 'failed'
  | 'rolling_back'
  | 'rolled_back'
  | 'canceled';

export type NodeFailureReason = 'deadline_exceeded' | 'execution_failed' | 'execution_timeout';

/** What an execution report says (§4): started: the execution runs; succeeded / failed: a run-to-completion job ended, or the execution broke. */
export type ExecutionStatus = 'started' | 'succeeded' | 'failed';

/** The room's timers: per node (deadline, execution_timeout, healthy streak, revert) or per deployment (queue, total). */
export type TimerKind = 'deadline' | 'execution' | 'streak' | 'revert' | 'queue' | 'total';

/** Why a report changed nothing (§4: counted, never acted on). */
export type IgnoredReason = 'stale_version' | 'unknown_node' | 'unknown_job' | 'duplicate' | 'not_updating';

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
