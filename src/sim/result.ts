/**
 * The result of one simulated run (contract section 8, `simulate --json`):
 * what happened to the deployment of the scenario's `job`. Counts are of
 * distinct events the engine emitted for that deployment, so `stable` keeps
 * the nodes that became stable even when a rollback later reverted them.
 */
import type { DeploymentKind, DeploymentState } from '../engine/types.js';
import type { EventSource } from './trace.js';

export const RESULT_FORMAT = 1;

/** A step of the deployment's life: a state it entered, or its promotion. */
export interface Phase {
  /** Seconds of virtual time. */
  t: number;
  phase: DeploymentState | 'promoted';
  reason?: string;
}

export interface SimResult {
  format: typeof RESULT_FORMAT;
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
  reverted: number;
  revert_failed: number;
  /** Targeted nodes never started. */
  untouched: number;
  /** Most nodes updating at once. */
  max_in_flight: number;
  /** Nodes that ran the new version. */
  exposed: number;
  /** Creation to failure; null when the deployment did not fail. */
  time_to_detect_s: number | null;
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
  later_deployments: Array<{ deployment: string; kind: DeploymentKind; to_version: number; outcome: DeploymentState; created_s: number; end_s: number }>;
}

/** States in which a deployment does nothing more on its own. */
const TERMINAL: ReadonlySet<DeploymentState> = new Set(['completed', 'rolled_back', 'canceled', 'failed']);
/** States that wait for an operator's command. */
const WAITING: ReadonlySet<DeploymentState> = new Set(['awaiting_promotion', 'paused']);

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
  exposed: number;
  stable: number;
  failed: number;
  reverted: number;
  revertFailed: number;
  failedAt: number | null;
  rolledBackAt: number | null;
}

/**
 * Whether the deployment will do nothing more unless an operator acts. Checked
 * between instants: a failure followed by a rollback has moved on to
 * `rolling_back` by then.
 */
export function isSettled(log: DeploymentLog): boolean {
  return TERMINAL.has(log.state) || WAITING.has(log.state);
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
      exposed: 0,
      stable: 0,
      failed: 0,
      reverted: 0,
      revertFailed: 0,
      failedAt: null,
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
    if (e.state === 'failed') log.failedAt = e.at;
    if (e.state === 'rolled_back') log.rolledBackAt = e.at;
  });
  engine.on('deployment.promoted', (e) => {
    logs.get(e.deployment)?.phases.push({ t: seconds(e.at), phase: 'promoted', reason: e.auto ? 'auto' : 'operator' });
  });
  const count = (field: 'exposed' | 'stable' | 'failed' | 'reverted' | 'revertFailed') => (e: { deployment: string }) => {
    const log = logs.get(e.deployment);
    if (log !== undefined) log[field] += 1;
  };
  engine.on('node.started', count('exposed'));
  engine.on('node.stable', count('stable'));
  engine.on('node.failed', count('failed'));
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
}

export function summarize(log: DeploymentLog, end: RunEnd): SimResult {
  const seconds = (ms: number): number => ms / 1000;
  const endOf = (of: DeploymentLog): number => (TERMINAL.has(of.state) ? of.stateAt : end.at);
  const endedAt = endOf(log);
  return {
    format: RESULT_FORMAT,
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
    stable: log.stable,
    failed: log.failed,
    reverted: log.reverted,
    revert_failed: log.revertFailed,
    untouched: Math.max(0, end.targeted - log.exposed),
    max_in_flight: end.max_in_flight,
    exposed: log.exposed,
    time_to_detect_s: log.failedAt === null ? null : seconds(log.failedAt - log.createdAt),
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
