/**
 * fast-check arbitraries for rollouts: fleets, JobSpecs valid by
 * construction (every strategy, job type and limit of contract §2), node
 * behaviors and schedules of operator and fleet events. They shrink toward
 * small fleets, default policies and healthy nodes, so a counterexample reads
 * like a hand-written test.
 */
import fc from 'fast-check';
import type { FleetNode } from '../selector/types.js';
import type { JobType, Strategy } from '../spec/types.js';
import type { NodeBehavior } from './behavior.js';
import type { NodeInput } from './harness.js';

export const REGIONS = ['us-east', 'us-west', 'eu-west'] as const;
export const TIERS = ['a', 'b'] as const;
export const STRATEGIES: readonly Strategy[] = ['immediate', 'rolling', 'canary'];
export const JOB_TYPES: readonly JobType[] = ['pipeline', 'query', 'update', 'config'];

/** A raw JobSpec object, as a user would write it (missing fields take their defaults). */
export type JobSpecInput = Record<string, unknown>;

/** Go duration text of a whole number of seconds: `45s`, `2m`, `1m30s`. */
export function goSeconds(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest}s`;
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}

/** The id of the i-th generated node: `n-00`, `n-01` ... (zero-padded, so id order is index order). */
export function nodeId(index: number): string {
  return `n-${String(index).padStart(2, '0')}`;
}

export interface FleetArbOptions {
  minNodes?: number;
  maxNodes?: number;
  /** Allow nodes that start disconnected (default true). */
  disconnected?: boolean;
}

/** Fleets of nodes `n-00`, `n-01` ... with a `region` and a `tier` label; about one in eight starts disconnected. */
export function fleetArb(options: FleetArbOptions = {}): fc.Arbitrary<FleetNode[]> {
  const { minNodes = 1, maxNodes = 8, disconnected = true } = options;
  const node = fc.record({
    region: fc.constantFrom(...REGIONS),
    tier: fc.constantFrom(...TIERS),
    connected: disconnected ? fc.oneof({ weight: 7, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) : fc.constant(true),
  });
  return fc.array(node, { minLength: minNodes, maxLength: maxNodes }).map((nodes) =>
    nodes.map(({ region, tier, connected }, i) => ({ id: nodeId(i), labels: { region, tier }, connected })),
  );
}

export interface JobSpecArbOptions {
  strategies?: readonly Strategy[];
  types?: readonly JobType[];
  /** Upper bound for `canary_count` (the fleet size is a good choice). Default 8. */
  maxNodes?: number;
  /** Also generate selectors (which may target nothing). Default true. */
  selectors?: boolean;
  /** Also generate `timeouts` (total, queue, execution). Default true. */
  timeouts?: boolean;
  name?: string;
}

const SELECTORS: readonly JobSpecInput[] = [
  { match_expressions: ['region=us-east'] },
  { match_expressions: ['region in (us-east,us-west)'] },
  { match_expressions: ['tier!=b'] },
  { match_labels: { tier: 'a' } },
  { match_ids: ['n-00', 'n-01', 'n-03'] },
];

const ERROR_RATES = [0, 0.05, 0.1, 0.5, 1];

/** JobSpecs that pass validation, with some fields left out so defaults are exercised. */
export function jobSpecArb(options: JobSpecArbOptions = {}): fc.Arbitrary<JobSpecInput> {
  const { strategies = STRATEGIES, types = JOB_TYPES, maxNodes = 8, selectors = true, timeouts = true, name = 'app' } = options;
  const deployment = fc.constantFrom(...strategies).chain((strategy) => deploymentArb(strategy, maxNodes));
  return fc
    .record(
      {
        type: fc.constantFrom(...types),
        priority: fc.integer({ min: 0, max: 100 }),
        deployment,
        selector: selectors ? fc.constantFrom(...SELECTORS) : fc.constant(undefined),
        timeouts: timeouts ? timeoutsArb() : fc.constant(undefined),
      },
      { requiredKeys: ['type'] },
    )
    .map((fields) => withoutUndefined({ name, ...fields }));
}

function deploymentArb(strategy: Strategy, maxNodes: number): fc.Arbitrary<JobSpecInput | undefined> {
  const limits = {
    max_failed_nodes: fc.integer({ min: 0, max: 3 }),
    max_failed_nodes_percent: fc.constantFrom(0, 10, 25, 50, 100),
    no_auto_rollback: fc.boolean(),
  };
  if (strategy === 'immediate') {
    const policy = fc.record({ strategy: fc.constant('immediate'), ...limits }, { requiredKeys: ['strategy'] });
    return fc.option(policy, { nil: undefined, freq: 4 });
  }
  const common = {
    strategy: fc.constant(strategy),
    max_parallel: fc.integer({ min: 0, max: 4 }),
    health_check: healthCheckArb(),
    ...limits,
  };
  if (strategy === 'rolling') return fc.record(common, { requiredKeys: ['strategy', 'health_check'] });
  return fc
    .record(
      {
        ...common,
        canary_count: fc.integer({ min: 0, max: maxNodes }),
        canary_percent: fc.integer({ min: 0, max: 100 }),
        auto_promote: fc.boolean(),
      },
      { requiredKeys: ['strategy', 'health_check', 'canary_count', 'canary_percent'] },
    )
    .map((policy) => {
      // §2: canary needs canary_count or canary_percent > 0.
      if (policy.canary_count === 0 && policy.canary_percent === 0) return { ...policy, canary_count: 1 };
      return policy;
    });
}

/** deadline 5 s..10 min; min_healthy_time below it (left out only when the 30 s default fits). */
function healthCheckArb(): fc.Arbitrary<JobSpecInput> {
  return fc.integer({ min: 5, max: 600 }).chain((deadline) =>
    fc
      .record(
        {
          deadline: fc.constant(goSeconds(deadline)),
          min_healthy_time: fc.integer({ min: 0, max: Math.min(deadline - 1, 120) }).map(goSeconds),
          max_error_rate: fc.constantFrom(...ERROR_RATES),
        },
        { requiredKeys: deadline > 30 ? ['deadline'] : ['deadline', 'min_healthy_time'] },
      )
      .map((check) => check as JobSpecInput),
  );
}

/** Mostly no timeouts; otherwise a total with queue and execution timeouts that fit in it (§2). */
function timeoutsArb(): fc.Arbitrary<JobSpecInput | undefined> {
  const set = fc.integer({ min: 30, max: 3600 }).chain((total) =>
    fc.record(
      {
        total_timeout: fc.constant(total),
        queue_timeout: fc.integer({ min: 0, max: total }),
        execution_timeout: fc.integer({ min: 0, max: total }),
      },
      { requiredKeys: ['total_timeout'] },
    ),
  );
  return fc.option(set, { nil: undefined, freq: 5 });
}

const seconds = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });

/**
 * How one node behaves under the new version (times in seconds): start delay
 * (fixed or drawn from the seed) and report interval, health that comes
 * late, never, goes away or flaps, crashes, error rates, a hung agent, a
 * revert that never comes back. Shrinks to healthy.
 */
export function behaviorArb(): fc.Arbitrary<Partial<NodeBehavior>> {
  const flapping = fc.array(fc.record({ healthy: fc.boolean(), for: seconds(1, 90) }), { minLength: 1, maxLength: 5 }).map((steps) => [...steps, { healthy: true }]);
  return fc.record(
    {
      startDelay: fc.oneof(seconds(0, 30), fc.tuple(seconds(0, 10), seconds(10, 40)).map(([min, max]) => ({ min, max }))),
      reportInterval: seconds(1, 15),
      healthyFrom: fc.option(seconds(0, 120), { nil: null }),
      unhealthyFrom: seconds(0, 300),
      healthSequence: flapping,
      errorRate: fc.oneof(fc.constantFrom(...ERROR_RATES), fc.constant({ min: 0, max: 0.3 })),
      crash: fc.oneof(fc.constant<'at_start'>('at_start'), seconds(0, 60)),
      silent: fc.constant(true),
      runTime: seconds(0, 120),
      completion: fc.constant<'failed'>('failed'),
      revert: fc.constantFrom<NodeBehavior['revert']>('hangs', 'fails'),
    },
    { requiredKeys: [] },
  );
}

/** Operator commands and fleet events, at `at` seconds after the rollout was submitted. */
export type ScheduledEvent =
  | { at: number; do: 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' | 'submit' | 'restart' }
  | { at: number; do: 'disconnect' | 'connect'; node: string }
  | { at: number; do: 'join'; node: NodeInput };

export type EventKind = ScheduledEvent['do'];

export const EVENT_KINDS: readonly EventKind[] = ['pause', 'resume', 'promote', 'abort', 'rollback', 'submit', 'restart', 'disconnect', 'connect', 'join'];

export interface EventsArbOptions {
  kinds?: readonly EventKind[];
  maxEvents?: number;
  /** Latest time of an event, seconds after the submission. Default 600 (10 min). */
  horizon?: number;
}

/** A schedule of events in time order; `disconnect`/`connect` name one of `nodeIds`, `join` brings a new node. */
export function eventsArb(nodeIds: readonly string[], options: EventsArbOptions = {}): fc.Arbitrary<ScheduledEvent[]> {
  const { kinds = EVENT_KINDS, maxEvents = 6, horizon = 600 } = options;
  const usable = kinds.filter((kind) => (kind !== 'disconnect' && kind !== 'connect') || nodeIds.length > 0);
  if (usable.length === 0) return fc.constant([]);
  const at = fc.integer({ min: 0, max: horizon });
  const event = fc.tuple(at, fc.constantFrom(...usable), fc.nat(), fc.constantFrom(...REGIONS)).map(([time, kind, pick, region]): ScheduledEvent => {
    if (kind === 'disconnect' || kind === 'connect') return { at: time, do: kind, node: nodeIds[pick % nodeIds.length]! };
    if (kind === 'join') return { at: time, do: kind, node: { id: `j-${String(pick % 100).padStart(2, '0')}`, labels: { region, tier: 'a' } } };
    return { at: time, do: kind };
  });
  // Joined ids are numbered in time order: a node joins once (a second join of the same id would be an update).
  return fc.array(event, { maxLength: maxEvents }).map((events) => {
    let joined = 0;
    return [...events].sort((a, b) => a.at - b.at).map((e) => (e.do === 'join' ? { ...e, node: { ...e.node, id: `j-${String(joined++).padStart(2, '0')}` } } : e));
  });
}

/** Everything one random rollout needs; `runRollout` plays it. */
export interface RolloutScenario {
  seed: number;
  nodes: FleetNode[];
  /** A version completed on the fleet before the rollout: the rollout is an update with a rollback target. */
  previous: boolean;
  spec: JobSpecInput;
  /** Behavior of the new version by node id; nodes not listed are healthy. */
  behaviors: Record<string, Partial<NodeBehavior>>;
  events: ScheduledEvent[];
  maxConcurrentUpdates?: number;
}

export interface ScenarioArbOptions extends FleetArbOptions, Omit<JobSpecArbOptions, 'maxNodes'>, EventsArbOptions {
  /** Generate an engine-wide cap on concurrent updates. Default false. */
  globalCap?: boolean;
}

export function rolloutScenarioArb(options: ScenarioArbOptions = {}): fc.Arbitrary<RolloutScenario> {
  return fleetArb(options).chain((nodes) => {
    const ids = nodes.map((node) => node.id);
    return fc.record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      nodes: fc.constant(nodes),
      previous: fc.boolean(),
      spec: jobSpecArb({ ...options, maxNodes: nodes.length }),
      behaviors: fc.tuple(...nodes.map(() => fc.option(behaviorArb(), { nil: undefined, freq: 2 }))).map((list) => {
        const behaviors: Record<string, Partial<NodeBehavior>> = {};
        list.forEach((behavior, i) => {
          if (behavior !== undefined) behaviors[ids[i]!] = behavior;
        });
        return behaviors;
      }),
      events: eventsArb(ids, options),
      ...(options.globalCap === true ? { maxConcurrentUpdates: fc.integer({ min: 1, max: 3 }) } : {}),
    });
  });
}

function withoutUndefined(value: JobSpecInput): JobSpecInput {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}
