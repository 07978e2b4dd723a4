/**
 * Plays a generated `RolloutScenario` on a fresh harness: the previous
 * version (if any) completes first, the scripted behaviors are in place for
 * the new version before it is submitted (so they reach the executions
 * `submit` itself starts: the first window, every `immediate` node, the
 * canaries), the scheduled events happen at their times, and the run
 * settles. Property tests check the invariants on what it returns.
 */
import { CommandError } from '../engine/errors.js';
import type { DeploymentState } from '../engine/types.js';
import { parseDurationMs } from '../spec/duration.js';
import type { RolloutScenario, ScheduledEvent } from './arbitraries.js';
import { createHarness, type Harness } from './harness.js';
import { checkInvariants, type RolloutRecord, type Violation } from './invariants/index.js';

export interface RolloutRun {
  harness: Harness;
  record: RolloutRecord;
  violations: Violation[];
  /** The rollout's deployment (the scenario's new version). */
  deployment: string | null;
  /** False when the run hit its time limit before it came to rest (then `record.settled` is false too). */
  settled: boolean;
  /** Operator commands the engine refused, with its message (§7: a clear error); `at` in seconds after the submission. */
  refused: Array<{ at: number; do: string; message: string }>;
}

export interface RunOptions {
  /** Crash-and-restore points, seconds after the submission. */
  restartAt?: readonly number[];
  /**
   * False: only advance to the `restartAt` points, without restarting: the
   * reference run a restarted one is compared with (time passes the same way).
   */
  restart?: boolean;
  /** Run the scheduled events up to here only (seconds after submission) and do not settle. */
  stopAt?: number;
}

export function runRollout(scenario: RolloutScenario, options: RunOptions = {}): RolloutRun {
  const harness = createHarness({
    nodes: scenario.nodes,
    seed: scenario.seed,
    ...(scenario.maxConcurrentUpdates === undefined ? {} : { maxConcurrentUpdates: scenario.maxConcurrentUpdates }),
  });
  if (scenario.previous) {
    harness.submit({ ...scenario.spec, deployment: { strategy: 'immediate' }, config: { release: 1 } });
    harness.settle({ limit: '1h' });
  }
  const start = harness.now();
  let release = 2;
  const next = (): Record<string, unknown> => ({ ...scenario.spec, config: { release: release++ } });
  const version = scenario.previous ? 2 : 1;
  for (const [id, behavior] of Object.entries(scenario.behaviors)) harness.health.forVersion(version).node(id).behaves(behavior);
  const submitted = harness.submit(next());
  if (submitted.version !== version) throw new Error(`runRollout: expected the rollout to be version ${version}, the engine made version ${submitted.version}`);

  const restarts = (options.restartAt ?? []).map((at): ScheduledEvent | Checkpoint => (options.restart === false ? { at, do: 'checkpoint' } : { at, do: 'restart' }));
  const events = [...scenario.events, ...restarts].sort((a, b) => a.at - b.at).filter((event) => options.stopAt === undefined || event.at <= options.stopAt);
  const refused: RolloutRun['refused'] = [];
  for (const event of events) {
    harness.advanceTo(start + event.at);
    try {
      play(harness, event, next);
    } catch (error) {
      // A refused command is an answer (§7: a clear error); anything else is a fault.
      if (!(error instanceof CommandError)) throw error;
      refused.push({ at: event.at, do: event.do, message: error.message });
    }
  }
  if (options.stopAt !== undefined) {
    harness.advanceTo(start + options.stopAt);
    return { harness, deployment: submitted.deployment, record: harness.record(false), violations: [], settled: false, refused };
  }
  const settled = harness.settle({ limit: settleLimit(scenario) });
  const record = harness.record(settled);
  return { harness, deployment: submitted.deployment, record, violations: checkInvariants(record), settled, refused };
}

/**
 * A label for `fc.statistics`: the final state of the rollout's deployment,
 * e.g. `rolled_back`, `completed`, `failed (no rollback)`, `canceled`.
 */
export function outcomeLabel(run: RolloutRun): string {
  if (run.deployment === null) return 'unchanged';
  const state: DeploymentState = run.harness.deployment(run.deployment).state;
  return state === 'failed' ? 'failed (no rollback)' : state;
}

/** A point in time the run is advanced to, and nothing more. */
interface Checkpoint {
  at: number;
  do: 'checkpoint';
}

function play(harness: Harness, event: ScheduledEvent | Checkpoint, next: () => Record<string, unknown>): void {
  switch (event.do) {
    case 'checkpoint':
      return;
    case 'pause':
    case 'resume':
    case 'promote':
    case 'abort':
      return harness[event.do]();
    case 'rollback':
      return harness.rollback();
    case 'submit':
      harness.submit(next());
      return;
    case 'restart':
      return harness.restart();
    case 'disconnect':
      return harness.disconnect(event.node);
    case 'connect':
      return harness.connect(event.node);
    case 'join':
      return harness.join(event.node);
  }
}

/**
 * Long enough for any correct engine to bring every deployment to rest after
 * the last event: each node (joined ones too) resolving at its deadline one at
 * a time, then every revert at its deadline, with room to spare.
 */
function settleLimit(scenario: RolloutScenario): number {
  const check = (scenario.spec.deployment as { health_check?: { deadline?: string } } | undefined)?.health_check;
  const deadline = check?.deadline === undefined ? 300 : parseDurationMs(check.deadline) / 1000;
  const timeouts = scenario.spec.timeouts as { execution_timeout?: number; queue_timeout?: number; total_timeout?: number } | undefined;
  const perNode = Math.max(deadline, 300) + (timeouts?.execution_timeout ?? 0) + 60;
  const nodes = scenario.nodes.length + scenario.events.length + 2;
  // The job's own budgets (§6) may be what ends it, e.g. an immediate rollout with a silent node: wait for them too.
  return 3 * nodes * perNode + (timeouts?.total_timeout ?? 0) + (timeouts?.queue_timeout ?? 0);
}
