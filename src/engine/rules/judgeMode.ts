import type { JobType, Strategy } from '../../spec/types.js';

/**
 * How a node's update is judged (contract §4):
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
