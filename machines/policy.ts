/**
 * A JobSpec's deployment settings turned into the numbers the room's rules
 * compute with (milliseconds, window size). Plain JSON: it is part of the snapshot.
 */
import { parseDurationMs } from '../src/spec/duration.js';
import type { JobSpec, Strategy } from '../src/spec/types.js';
import { judgeMode, type JudgeMode } from './rules/nodeUpdate.js';

/**
 * Decided (contract silent): a revert under `immediate` without a health check
 * is confirmed or `revert_failed` within 5 minutes.
 */
export const DEFAULT_REVERT_DEADLINE_MS = 5 * 60_000;

export interface RolloutPolicy {
  strategy: Strategy;
  judge: JudgeMode;
  /** Nodes updating at once; 0 = no bound (always 0 under immediate, which ignores max_parallel). */
  windowSize: number;
  canaryCount: number;
  canaryPercent: number;
  autoPromote: boolean;
  maxFailedNodes: number;
  maxFailedNodesPercent: number;
  /** Time from update start to be stable; 0 = none (immediate). */
  deadlineMs: number;
  minHealthyMs: number;
  maxErrorRate: number;
  /** 0 = none. Applies to run-to-completion jobs. */
  executionTimeoutMs: number;
  queueTimeoutMs: number;
  totalTimeoutMs: number;
  /** How long a revert may take to be confirmed. */
  revertDeadlineMs: number;
  /** §7: only pipeline jobs take nodes that join during or after a rollout. */
  takesJoiningNodes: boolean;
}

export function rolloutPolicy(spec: JobSpec): RolloutPolicy {
  const d = spec.deployment;
  const judge = judgeMode(spec.type, d.strategy);
  const hc = d.health_check;
  const deadlineMs = hc !== undefined && d.strategy !== 'immediate' ? parseDurationMs(hc.deadline) : 0;
  return {
    strategy: d.strategy,
    judge,
    windowSize: d.strategy === 'immediate' ? 0 : d.max_parallel,
    canaryCount: d.canary_count,
    canaryPercent: d.canary_percent,
    autoPromote: d.strategy === 'canary' && d.auto_promote,
    maxFailedNodes: d.max_failed_nodes,
    maxFailedNodesPercent: d.max_failed_nodes_percent,
    deadlineMs,
    minHealthyMs: hc !== undefined ? parseDurationMs(hc.min_healthy_time) : 0,
    maxErrorRate: hc !== undefined ? hc.max_error_rate : 0,
    executionTimeoutMs: judge === 'completion' ? spec.timeouts.execution_timeout * 1000 : 0,
    queueTimeoutMs: spec.timeouts.queue_timeout * 1000,
    totalTimeoutMs: spec.timeouts.total_timeout * 1000,
    revertDeadlineMs: hc !== undefined ? parseDurationMs(hc.deadline) : DEFAULT_REVERT_DEADLINE_MS,
    takesJoiningNodes: spec.type === 'pipeline',
  };
}
