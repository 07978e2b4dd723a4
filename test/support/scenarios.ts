/**
 * Random rollout scenarios for the persistence properties: a fleet, a job
 * policy, and a script of timed inputs (reports, commands, fleet changes,
 * new versions), driven on a virtual clock one timer at a time, with a
 * checkpoint after every input and every timer firing.
 */
import fc from 'fast-check';
import type { VirtualClock } from '../../src/engine/clocks/virtualClock.js';
import { CommandError, type Engine } from '../../src/engine/index.js';
import type { FleetNode } from '../../src/selector/types.js';
import type { JobSpec } from '../../src/spec/types.js';
import { jobSpec, nodes } from './engineFixture.js';

export type Action =
  | { kind: 'health'; node: number; healthy: boolean; errorRate: number | null; version: VersionPick; job: number }
  | { kind: 'exec'; node: number; status: 'started' | 'succeeded' | 'failed'; version: VersionPick; job: number }
  | { kind: 'command'; command: 'pause' | 'resume' | 'promote' | 'abort' | 'rollback'; job: number }
  | { kind: 'submit'; job: number; variant: number }
  | { kind: 'join'; id: string }
  | { kind: 'leave'; node: number }
  | { kind: 'connect'; node: number; connected: boolean };

/** Which version a report names: the one being rolled out, the one a rollback goes to, or a stale one. */
type VersionPick = 'rolled_out' | 'rollback' | 'stale';

export interface Scenario {
  fleet: FleetNode[];
  /** Version 1 (immediate) completed on every node before the scripted job is submitted as version 2. */
  previous: boolean;
  specs: JobSpec[];
  cap: number;
  /** Absolute times, non-decreasing. */
  steps: { at: number; action: Action }[];
  horizon: number;
}

const policy = fc.record({
  type: fc.constantFrom('pipeline', 'pipeline', 'pipeline', 'update', 'query'),
  strategy: fc.constantFrom('rolling', 'canary', 'immediate'),
  max_parallel: fc.integer({ min: 0, max: 3 }),
  canary_count: fc.integer({ min: 0, max: 3 }),
  canary_percent: fc.integer({ min: 0, max: 60 }),
  auto_promote: fc.boolean(),
  no_auto_rollback: fc.boolean(),
  max_failed_nodes: fc.integer({ min: 0, max: 3 }),
  max_failed_nodes_percent: fc.constantFrom(10, 50, 100),
  deadline: fc.constantFrom('1m', '2m', '5m'),
  min_healthy_time: fc.constantFrom('0s', '10s', '30s'),
  execution_timeout: fc.constantFrom(0, 0, 45),
  queue_timeout: fc.constantFrom(0, 0, 120),
  total_timeout: fc.constantFrom(0, 0, 600),
  priority: fc.integer({ min: 0, max: 100 }),
});

type Policy = typeof policy extends fc.Arbitrary<infer T> ? T : never;

function toSpec(p: Policy, name: string): JobSpec {
  return jobSpec({
    name,
    type: p.type,
    priority: p.priority,
    deployment: {
      strategy: p.strategy,
      max_parallel: p.max_parallel,
      canary_count: p.canary_count,
      // canary needs one of count or percent > 0 (§2)
      canary_percent: p.strategy === 'canary' && p.canary_count === 0 && p.canary_percent === 0 ? 20 : p.canary_percent,
      auto_promote: p.auto_promote,
      no_auto_rollback: p.no_auto_rollback,
      max_failed_nodes: p.max_failed_nodes,
      max_failed_nodes_percent: p.max_failed_nodes_percent,
      health_check: { deadline: p.deadline, min_healthy_time: p.min_healthy_time, max_error_rate: 0.1 },
    },
    timeouts: { execution_timeout: p.execution_timeout, queue_timeout: p.queue_timeout, total_timeout: p.total_timeout },
  });
}

const versionPick = fc.oneof(
  { weight: 6, arbitrary: fc.constant<VersionPick>('rolled_out') },
  { weight: 3, arbitrary: fc.constant<VersionPick>('rollback') },
  { weight: 1, arbitrary: fc.constant<VersionPick>('stale') },
);

export function scenarioArbitrary(maxSteps = 40): fc.Arbitrary<Scenario> {
  return fc
    .record({
      size: fc.integer({ min: 1, max: 7 }),
      previous: fc.boolean(),
      policies: fc.array(policy, { minLength: 1, maxLength: 2 }),
      cap: fc.constantFrom(0, 0, 2),
      steps: fc.array(
        fc.record({
          dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 20_000, max: 120_000 })),
          action: fc.oneof(
            { weight: 6, arbitrary: fc.record({ kind: fc.constant('health' as const), node: fc.nat(14), healthy: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), errorRate: fc.constantFrom(null, 0.01, 0.5), version: versionPick, job: fc.nat(1) }) },
            { weight: 4, arbitrary: fc.record({ kind: fc.constant('exec' as const), node: fc.nat(14), status: fc.constantFrom('started' as const, 'started' as const, 'succeeded' as const, 'failed' as const), version: versionPick, job: fc.nat(1) }) },
            { weight: 2, arbitrary: fc.record({ kind: fc.constant('command' as const), command: fc.constantFrom('pause' as const, 'resume' as const, 'promote' as const, 'abort' as const, 'rollback' as const), job: fc.nat(1) }) },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('submit' as const), job: fc.nat(1), variant: fc.nat(2) }) },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('join' as const), id: fc.constantFrom('j-1', 'j-2', 'a-0') }) },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), node: fc.nat(8) }) },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('connect' as const), node: fc.nat(8), connected: fc.boolean() }) },
          ),
        }),
        { minLength: Math.floor(maxSteps / 4), maxLength: maxSteps },
      ),
    })
    .map(({ size, previous, policies, cap, steps }) => {
      let at = 0;
      const timed = steps.map(({ dt, action }) => ({ at: (at += dt), action: action as Action }));
      return {
        fleet: nodes(size),
        previous,
        specs: policies.map((p, i) => toSpec(p, `job${i}`)),
        cap,
        steps: timed,
        horizon: at + 2 * 3_600_000,
      };
    });
}

const JOINERS = ['j-1', 'j-2', 'a-0'];
const jobKey = (s: Scenario, job: number) => `default/job${job % s.specs.length}`;
const nodeId = (s: Scenario, n: number) => (n < s.fleet.length ? s.fleet[n]!.id : JOINERS[n % 3]!);

/** Reports name node n; n >= 9 means "one of the job's nodes in flight" (updating or reverting), so rules get exercised. */
function reportingNode(engine: Engine, s: Scenario, n: number, job: string): string {
  if (n < 9) return nodeId(s, n);
  const latest = engine.status(job);
  const ids = [...s.fleet.map((f) => f.id), ...JOINERS];
  const inState = (state: string) => ids.filter((id) => latest !== undefined && engine.nodeState(latest.id, id) === state);
  const reverting = inState('reverting');
  const inFlight = reverting.length > 0 ? reverting : inState('updating');
  return inFlight.length === 0 ? nodeId(s, n % 9) : inFlight[n % inFlight.length]!;
}

/** The initial inputs: the fleet, version 1 completed when `previous`, and the scripted version of each job. */
export function begin(engine: Engine, s: Scenario): void {
  for (const node of s.fleet) engine.upsertNode(node);
  for (const spec of s.specs) {
    if (s.previous) {
      const job = engine.submit({ ...spec, labels: { previous: 'true' }, deployment: { ...spec.deployment, strategy: 'immediate' } }).job;
      for (const node of s.fleet) engine.reportExecution({ node: node.id, job, version: 1, status: spec.type === 'pipeline' ? 'started' : 'succeeded' });
    }
    engine.submit(spec);
  }
}

/** `rolled_out`: the version the engine expects from that node (the rollback target once it is reverting). */
function pickVersion(engine: Engine, job: string, node: string, pick: VersionPick): number {
  const latest = engine.status(job);
  if (latest === undefined) return 1;
  const reverting = engine.nodeState(latest.id, node) === 'reverting';
  if (pick === 'rolled_out') return reverting ? latest.rollback_target! : latest.to_version;
  if (pick === 'rollback') return latest.rollback_target ?? latest.to_version - 1;
  return latest.to_version + 1;
}

export function apply(engine: Engine, s: Scenario, action: Action): void {
  try {
    switch (action.kind) {
      case 'health': {
        const job = jobKey(s, action.job);
        const node = reportingNode(engine, s, action.node, job);
        engine.reportHealth({
          node,
          job,
          version: pickVersion(engine, job, node, action.version),
          healthy: action.healthy,
          ...(action.errorRate === null ? {} : { error_rate: action.errorRate }),
        });
        return;
      }
      case 'exec': {
        const job = jobKey(s, action.job);
        const node = reportingNode(engine, s, action.node, job);
        engine.reportExecution({ node, job, version: pickVersion(engine, job, node, action.version), status: action.status });
        return;
      }
      case 'command':
        if (action.command === 'rollback') engine.rollback(jobKey(s, action.job));
        else engine[action.command](jobKey(s, action.job));
        return;
      case 'submit': {
        const base = s.specs[action.job % s.specs.length]!;
        engine.submit({ ...base, labels: { variant: String(action.variant) } });
        return;
      }
      case 'join':
        engine.upsertNode({ id: action.id, labels: {}, connected: true });
        return;
      case 'leave':
        engine.removeNode(nodeId(s, action.node));
        return;
      case 'connect':
        engine.setConnected(nodeId(s, action.node), action.connected);
        return;
    }
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
  }
}

/**
 * Drives the script from step `next` on: timers fire one at a time up to each
 * step's time, then the step is applied. `checkpoint(next)` is called after
 * every timer and every step, with the index of the next step to apply.
 */
export function drive(engine: Engine, clock: VirtualClock, s: Scenario, next: number, checkpoint?: (next: number) => void): void {
  for (let i = next; i <= s.steps.length; i++) {
    const t = i < s.steps.length ? s.steps[i]!.at : s.horizon;
    while (clock.step(t)) checkpoint?.(i);
    clock.advanceTo(t);
    if (i < s.steps.length) {
      apply(engine, s, s.steps[i]!.action);
      checkpoint?.(i + 1);
    }
  }
}
