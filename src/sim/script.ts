/**
 * Scripted behavior: what one execution does, as a schedule rather than as
 * chances. The harness (fleet-rollout/testing) scripts nodes this way
 * (`healthyAfter`, `failsAt`, flapping, crashes at a time ...); the simulated
 * agents (agents.ts) play it with the same code that plays a scenario's
 * probabilistic behavior, so the harness and the simulator cannot disagree.
 *
 * Times are milliseconds of virtual time; health phases count from the
 * engine's start request on the node, a crash from the execution's `started`.
 */

/** From `from` ms after the start request on, health reports say `healthy`. */
export interface HealthPhase {
  from: number;
  healthy: boolean;
}

export interface ExecutionScript {
  /** Health over time, in order of `from`; before the first phase reports fail. Empty: never healthy. */
  health: readonly HealthPhase[];
  /** `at_start`: reports `failed` instead of `started`; a number: fails that many ms after `started`. */
  crash: 'never' | 'at_start' | number;
  /** Reports nothing at all (a hung agent), for updates and reverts alike. */
  silent: boolean;
  /** Run-to-completion jobs: `started` to the end of the run, and how it ends. */
  run_time: number;
  completion: 'succeeded' | 'failed';
  /** A revert of this execution's version: the old one comes back, never reports, or fails to start. */
  revert: 'confirms' | 'hangs' | 'fails';
  /** A revert's start request to its report (a recorded one, see recordedBehavior.ts); absent: the start delay, and a silent node's revert hangs too. */
  revert_delay?: number;
}

/** Whether a health report `since` ms after the start request passes. */
export function healthyAt(script: ExecutionScript, since: number): boolean {
  let healthy = false;
  for (const phase of script.health) {
    if (phase.from > since) break;
    healthy = phase.healthy;
  }
  return healthy;
}

/** Whether the script's health changes after `since` ms: a judged node must keep reporting for it to be seen (degraded, recovered). */
export function healthChangesAfter(script: ExecutionScript, since: number): boolean {
  return since < lastChange(script);
}

// Scripts are shared by every node a rule covers, and asked after every report of a judged node: compute once.
const lastChanges = new WeakMap<ExecutionScript, number>();

/** When the health last changes (the start of the last phase that differs from the one before it); 0: never. */
function lastChange(script: ExecutionScript): number {
  let at = lastChanges.get(script);
  if (at === undefined) {
    at = 0;
    let healthy = false;
    for (const phase of script.health) {
      if (phase.healthy !== healthy) at = phase.from;
      healthy = phase.healthy;
    }
    lastChanges.set(script, at);
  }
  return at;
}
