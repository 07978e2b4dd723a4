/**
 * What a report means for a node (contract §4), as pure decisions on the
 * node's state in the job's latest deployment. O(1): the hot path.
 */
import type { NodeRecord, NodeState } from '../../machines/deploymentContext.js';
import type { JudgeMode } from './rules/judgeMode.js';
import type { ExecutionReport } from './types.js';

/** Why a report changed nothing (counted in `ignoredReports`). */
export type IgnoredReason = 'stale_version' | 'unknown_node' | 'unknown_job' | 'duplicate' | 'not_updating';

export function isRevertState(state: NodeState): boolean {
  return state === 'reverting' || state === 'reverted' || state === 'revert_failed';
}

/** The version the engine expects to hear about from a node: the rollback target once it is being reverted. */
export function expectedVersion(version: number, rollbackTarget: number | null, record: NodeRecord | undefined): number | null {
  return record !== undefined && isRevertState(record.state) ? rollbackTarget : version;
}

/**
 * `track`: feed the health tracker; `degrade` / `recover`: a stable node's
 * later trouble (§4) and its end; `traffic`: ordinary reports that judge
 * nothing (stable or reverted nodes, and jobs not judged by health).
 */
export type HealthOutcome = 'track' | 'degrade' | 'recover' | 'traffic' | 'not_updating';

export function healthOutcome(state: NodeState, judge: JudgeMode, passing: boolean): HealthOutcome {
  switch (state) {
    case 'updating':
      return judge === 'health' ? 'track' : 'traffic';
    case 'stable':
      return judge === 'health' && !passing ? 'degrade' : 'traffic';
    case 'degraded':
      return passing ? 'recover' : 'traffic';
    case 'reverting':
    case 'reverted':
    case 'revert_failed':
      return 'traffic';
    default:
      return 'not_updating';
  }
}

export type ExecutionOutcome = 'stable' | 'failed' | 'degrade' | 'reverted' | 'revert_failed' | 'none' | 'not_updating';

/**
 * §4: `failed` fails an updating node at once; `started` makes it stable under
 * immediate, `succeeded` for a run-to-completion job. §6: a revert is
 * confirmed by `started` of the old version. A stable node's failure only
 * degrades it.
 */
export function executionOutcome(state: NodeState, judge: JudgeMode, status: ExecutionReport['status']): ExecutionOutcome {
  switch (state) {
    case 'updating':
      if (status === 'failed') return 'failed';
      return (status === 'started' && judge === 'started') || (status === 'succeeded' && judge === 'completion') ? 'stable' : 'none';
    case 'stable':
      return status === 'failed' ? 'degrade' : 'none';
    case 'reverting':
      return status === 'started' ? 'reverted' : status === 'failed' ? 'revert_failed' : 'none';
    case 'degraded':
    case 'reverted':
    case 'revert_failed':
      return 'none';
    default:
      return 'not_updating';
  }
}

const STATUS_BIT: Record<ExecutionReport['status'], number> = { started: 1, succeeded: 2, failed: 4 };

/** Records an execution status for the node's current execution; false when it was already reported (a duplicate). */
export function firstReportOf(record: NodeRecord, status: ExecutionReport['status']): boolean {
  const bit = STATUS_BIT[status];
  if ((record.seen & bit) !== 0) return false;
  record.seen |= bit;
  return true;
}
