/**
 * One node's update (contract §4), as pure decisions: how a node is judged,
 * when a health report passes, what a passing streak does, and what a report
 * means for a node given its state in the job's latest deployment. O(1): the
 * hot path.
 */
import type { JobType, Strategy } from '../../src/spec/types.js';
import type { ExecutionStatus, NodeState } from '../vocabulary.js';

/** A health report as the room reads it (the engine's `HealthReport`, its job already routed). */
export interface HealthReading {
  node: string;
  version: number;
  healthy: boolean;
  error_rate?: number | undefined;
}

/**
 * How a node's update is judged:
 * - `health`: a pipeline under rolling or canary: stable after a passing streak of
 *   `min_healthy_time`, failed on the deadline or when its execution fails;
 * - `started`: a pipeline under immediate: stable once its execution reports started;
 * - `completion`: query, update and config jobs run to completion: stable on
 *   `succeeded`, failed on `failed`, on `execution_timeout` and (outside immediate)
 *   on the health-check deadline. Decided: the job type wins over `immediate`,
 *   since a run-to-completion job that merely started has not done its work.
 */
export type JudgeMode = 'health' | 'started' | 'completion';

export function judgeMode(type: JobType, strategy: Strategy): JudgeMode {
  if (type !== 'pipeline') return 'completion';
  return strategy === 'immediate' ? 'started' : 'health';
}

/** A health report is passing when `healthy` is true and `error_rate`, when given, is at most `max_error_rate`. */
export function isPassing(report: HealthReading, maxErrorRate: number): boolean {
  return report.healthy && (report.error_rate === undefined || report.error_rate <= maxErrorRate);
}

/**
 * A health report of a node still updating. A passing streak is held as its
 * timer: the node is stable exactly `min_healthy_time` after the streak's
 * first report, so the streak timer's due time says when it began.
 *
 * - passing, no streak: start one (`arm` a timer for now + min_healthy_time),
 *   or with min_healthy_time 0 the node is `stable` at once;
 * - passing within a streak: nothing to do (the common case, O(1));
 * - not passing: any streak ends (`broken`: disarm its timer).
 */
export type StreakVerdict = 'none' | 'arm' | 'stable' | 'broken';

export function trackStreak(streaking: boolean, passing: boolean, minHealthyMs: number): StreakVerdict {
  if (passing) {
    if (streaking) return 'none';
    return minHealthyMs === 0 ? 'stable' : 'arm';
  }
  return streaking ? 'broken' : 'none';
}

export function isRevertState(state: NodeState): boolean {
  return state === 'reverting' || state === 'reverted' || state === 'revert_failed';
}

/** The version the room expects to hear about from a node: the rollback target once it is being reverted. */
export function expectedVersion(version: number, rollbackTarget: number | null, state: NodeState | undefined): number | null {
  return state !== undefined && isRevertState(state) ? rollbackTarget : version;
}

/**
 * `track`: feed the passing streak; `degrade` / `recover`: a stable node's
 * later trouble and its end (it never fails the deployment: no rollback
 * loops); `traffic`: ordinary reports that judge nothing (stable or reverted
 * nodes, and jobs not judged by health).
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
 * `failed` fails an updating node at once; `started` makes it stable under
 * immediate, `succeeded` for a run-to-completion job. §6: a revert is
 * confirmed by `started` of the old version. A stable node's failure only
 * degrades it.
 */
export function executionOutcome(state: NodeState, judge: JudgeMode, status: ExecutionStatus): ExecutionOutcome {
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
