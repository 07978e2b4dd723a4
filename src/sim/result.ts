/**
 * The result of one simulated run (contract section 8, `simulate --json`):
 * what happened to the deployment of the scenario's `job`. The node counts
 * come from the run's tally (tally.ts) and add up (§8 v1.1):
 * `targeted = untouched + stable + failed + stopped + removed + updating`,
 * and `exposed` is everything but `untouched`. `stable` keeps the nodes that
 * became stable even when a rollback later reverted them; `reverted` and
 * `revert_failed` say what became of the exposed nodes after a failure.
 * The CLI adds the JSON format version (src/cli/print/json.ts).
 */
import { isTerminal, waitsForOperator } from '../engine/index.js';
import type { DeploymentKind, DeploymentState } from '../engine/types.js';
import type { LabelBreakdown } from './breakdown.js';
import type { DeploymentTally } from './tally.js';
import type { EventSource } from './trace.js';

/** A step of the deployment's life: a state it entered, or its promotion. */
export interface Phase {
  /** Seconds of virtual time. */
  t: number;
  phase: DeploymentState | 'promoted';
  reason?: string;
}

export interface SimResult {
  seed: number;
  job: string;
  deployment: string;
  kind: DeploymentKind;
  from_version: number | null;
  to_version: number;
  strategy: string;
  /** The final state, or the state when the horizon ended the run. */
  outcome: DeploymentState;
  /** Why the deployment is in that state (failure_rule, aborted, superseded ...), null when there is no reason. */
  reason: string | null;
  /** From creation to the terminal state, or to the end of the run. */
  duration_s: number;
  targeted: number;
  canaries: number;
  /** Nodes that became stable on the new version. */
  stable: number;
  /** Nodes the engine judged failed. */
  failed: number;
  /** Started, never judged: the update ended because the deployment failed, was superseded or aborted (stopped, or reverted while updating). */
  stopped: number;
  /** Left the fleet while updating (no scenario event removes a node yet: 0 in the simulator). */
  removed: number;
  /** Started, still updating when the run ended (at the horizon). */
  updating: number;
  /** Exposed nodes a rollback brought back to the earlier version. */
  reverted: number;
  /** Exposed nodes whose revert was not confirmed in time. */
  revert_failed: number;
  /** Targeted nodes never started. */
  untouched: number;
  /** `failed` per node failure reason (deadline_exceeded, execution_failed, execution_timeout), in alphabetical order. */
  failed_by_reason: Record<string, number>;
  /** The nodes' buckets per value of the label named by `--by`; null without it. */
  by_label: LabelBreakdown | null;
  /** Most nodes updating at once. */
  max_in_flight: number;
  /** Nodes that ran the new version. */
  exposed: number;
  /** Creation to a failure the engine found (failure rule, timeouts); null when it did not fail, or an operator aborted it. */
  time_to_detect_s: number | null;
  /** Creation to failure, whatever failed it (an operator's abort included); null when it did not fail. */
  time_to_fail_s: number | null;
  /** Failure to the end of the rollback; null when no rollback ended. */
  time_to_rollback_s: number | null;
  /** Why the run stopped: `settled` (terminal or waiting for an operator, no scripted event left) or `horizon`. */
  ended_by: 'settled' | 'horizon';
  /** Virtual time at which the run stopped. */
  end_s: number;
  phases: Phase[];
  /** Scripted operator commands the engine refused (a promote outside awaiting_promotion ...). */
  refused: Array<{ t: number; action: string; message: string }>;
  /** Deployments created after the job's during the run (by `submit` events), with their state at the end. */
  /** The release case the run played (scenario `releases`); absent when the scenario has none. */
  release?: 'good' | 'bad';
  later_deployments: Array<{ deployment: string; kind: DeploymentKind; to_version: number; outcome: DeploymentState; created_s: number; end_s: number }>;
}

/** Everything the result needs about one deployment, gathered from the engine's events. */
export interface DeploymentLog {
  id: string;
  job: string;
  kind: DeploymentKind;
  from_version: number | null;
  to_version: number;
  strategy: string;
  canaries: number;
  createdAt: number;
  state: DeploymentState;
  reason: string | null;
  stateAt: number;
  phases: Phase[];
  reverted: number;
  revertFailed: number;
  failedAt: number | null;
  /** Why it failed (failure_rule, aborted, total_timeout, queue_timeout); null when it did not. */
  failReason: string | null;
  rolledBackAt: number | null;
}

/**
 * Whether the deployment will do nothing more unless an operator acts. Checked
 * between instants: a failure followed by a rollback has moved on to
 * `rolling_back` by then.
 */
export function isSettled(log: DeploymentLog): boolean {
  return isTerminal(log.state) || waitsForOperator(log.state);
}

/** Logs every deployment created from now on, by id. */
export function watchDeployments(engine: EventSource): Map<string, DeploymentLog> {
  const logs = new Map<string, DeploymentLog>();
  const seconds = (at: number): number => at / 1000;
  engine.on('deployment.created', (e) => {
    logs.set(e.deployment, {
      id: e.deployment,
      job: e.job,
      kind: e.kind,
      from_version: e.from_version,
      to_version: e.to_version,
      strategy: e.strategy,
      canaries: e.canaries,
      createdAt: e.at,
      state: 'pending',
      reason: null,
      stateAt: e.at,
      phases: [],
      reverted: 0,
      revertFailed: 0,
      failedAt: null,
      failReason: null,
      rolledBackAt: null,
    });
  });
  engine.on('deployment.state', (e) => {
    const log = logs.get(e.deployment);
    if (log === undefined) return;
    log.state = e.state;
    log.reason = e.reason ?? null;
    log.stateAt = e.at;
    log.phases.push(e.reason === undefined ? { t: seconds(e.at), phase: e.state } : { t: seconds(e.at), phase: e.state, reason: e.reason });
    if (e.state === 'failed') {
      log.failedAt = e.at;
      log.failReason = e.reason ?? null;
    }
    if (e.state === 'rolled_back') log.rolledBackAt = e.at;
  });
  engine.on('deployment.promoted', (e) => {
    logs.get(e.deployment)?.phases.push({ t: seconds(e.at), phase: 'promoted', reason: e.auto ? 'auto' : 'operator' });
  });
  const count = (field: 'reverted' | 'revertFailed') => (e: { deployment: string }) => {
    const log = logs.get(e.deployment);
    if (log !== undefined) log[field] += 1;
  };
  engine.on('node.reverted', count('reverted'));
  engine.on('node.revert_failed', count('revertFailed'));
  return logs;
}

export interface RunEnd {
  at: number;
  by: SimResult['ended_by'];
  seed: number;
  /** From the engine's status at the end of the run (joins may add targets). */
  targeted: number;
  max_in_flight: number;
  refused: SimResult['refused'];
  /** Deployments created after the job's, in order. */
  later: DeploymentLog[];
  /** What became of the nodes the job's deployment started. */
  tally: DeploymentTally;
  by_label: LabelBreakdown | null;
}

export function summarize(log: DeploymentLog, end: RunEnd): SimResult {
  const seconds = (ms: number): number => ms / 1000;
  const endOf = (of: DeploymentLog): number => (isTerminal(of.state) ? of.stateAt : end.at);
  const endedAt = endOf(log);
  const nodes = end.tally.counts;
  const timeToFail = log.failedAt === null ? null : seconds(log.failedAt - log.createdAt);
  return {
    seed: end.seed,
    job: log.job,
    deployment: log.id,
    kind: log.kind,
    from_version: log.from_version,
    to_version: log.to_version,
    strategy: log.strategy,
    outcome: log.state,
    reason: log.reason,
    duration_s: seconds(endedAt - log.createdAt),
    targeted: end.targeted,
    canaries: log.canaries,
    stable: nodes.stable,
    failed: nodes.failed,
    stopped: nodes.stopped,
    removed: 0,
    updating: nodes.updating,
    reverted: log.reverted,
    revert_failed: log.revertFailed,
    untouched: Math.max(0, end.targeted - nodes.exposed),
    failed_by_reason: end.tally.failedByReason(),
    by_label: end.by_label,
    max_in_flight: end.max_in_flight,
    exposed: nodes.exposed,
    // §8 v1.1: an operator's abort is a decision, not a detection.
    time_to_detect_s: log.failReason === 'aborted' ? null : timeToFail,
    time_to_fail_s: timeToFail,
    time_to_rollback_s: log.failedAt === null || log.rolledBackAt === null ? null : seconds(log.rolledBackAt - log.failedAt),
    ended_by: end.by,
    end_s: seconds(end.at),
    phases: log.phases,
    refused: end.refused,
    later_deployments: end.later.map((later) => ({
      deployment: later.id,
      kind: later.kind,
      to_version: later.to_version,
      outcome: later.state,
      created_s: seconds(later.createdAt),
      end_s: seconds(endOf(later)),
    })),
  };
}
