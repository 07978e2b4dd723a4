/**
 * Shared fixture for the engine tests: a normalized JobSpec builder, a fleet,
 * an executor that records what it is asked, and an engine on a virtual clock
 * whose events are recorded in order.
 */
import { createEngine, type Engine } from '../../src/engine/index.js';
import { VirtualClock } from '../../src/engine/clocks/virtualClock.js';
import type { ExecutionRequest, Executor, Store } from '../../src/engine/ports.js';
import type { EngineEvents, EngineOptions } from '../../src/engine/types.js';
import type { FleetNode } from '../../src/selector/types.js';
import type { DeploymentPolicy, JobSpec } from '../../src/spec/types.js';

export const JOB = 'default/web';

type SpecOverrides = Partial<Omit<JobSpec, 'deployment' | 'timeouts'>> & {
  deployment?: Partial<DeploymentPolicy>;
  timeouts?: Partial<JobSpec['timeouts']>;
};

/** A normalized spec: a pipeline rolled out one node at a time, deadline 5m, min_healthy_time 30s. */
export function jobSpec(overrides: SpecOverrides = {}): JobSpec {
  const { deployment, timeouts, ...rest } = overrides;
  return {
    name: 'web',
    namespace: 'default',
    type: 'pipeline',
    priority: 50,
    labels: {},
    meta: {},
    selector: { match_labels: {}, match_expressions: [], match_ids: [] },
    ...rest,
    deployment: {
      strategy: 'rolling',
      max_parallel: 1,
      canary_count: 0,
      canary_percent: 0,
      auto_promote: false,
      no_auto_rollback: false,
      max_failed_nodes: 10,
      max_failed_nodes_percent: 10,
      health_check: { deadline: '5m', min_healthy_time: '30s', max_error_rate: 0.1 },
      ...deployment,
    },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0, ...timeouts },
  };
}

/** Nodes n-01 .. n-NN, connected. */
export function nodes(count: number, labels: Record<string, string> = {}): FleetNode[] {
  return Array.from({ length: count }, (_, i) => ({ id: `n-${String(i + 1).padStart(2, '0')}`, labels: { ...labels }, connected: true }));
}

export class RecordingExecutor implements Executor {
  readonly starts: ExecutionRequest[] = [];
  readonly stops: { executionId: string; node: string; job: string; version: number }[] = [];
  start(request: ExecutionRequest): void {
    this.starts.push(request);
  }
  stop(request: { executionId: string; node: string; job: string; version: number }): void {
    this.stops.push(request);
  }
  startedNodes(purpose: 'update' | 'revert' = 'update'): string[] {
    return this.starts.filter((s) => s.purpose === purpose).map((s) => s.node);
  }
}

export type Recorded = { type: keyof EngineEvents } & Record<string, unknown>;

export const EVENT_TYPES: (keyof EngineEvents)[] = [
  'deployment.created',
  'deployment.state',
  'deployment.promoted',
  'node.started',
  'node.stable',
  'node.failed',
  'node.degraded',
  'node.reverting',
  'node.reverted',
  'node.revert_failed',
  'decision',
  'report.ignored',
];

export function record(engine: Engine): Recorded[] {
  const log: Recorded[] = [];
  for (const type of EVENT_TYPES) engine.on(type, ((e: Record<string, unknown>) => log.push({ type, ...e })) as never);
  return log;
}

export interface Rig {
  engine: Engine;
  clock: VirtualClock;
  executor: RecordingExecutor;
  events: Recorded[];
  /** Events of one type, in order. */
  of(type: keyof EngineEvents): Recorded[];
  /** Passing health report for the job's version on a node. */
  healthy(node: string, version?: number, error_rate?: number): void;
  unhealthy(node: string, version?: number): void;
  exec(node: string, status: 'started' | 'succeeded' | 'failed', version?: number): void;
  /** Advances virtual time by a Go-ish amount of ms. */
  advance(ms: number): void;
  state(job?: string): string | undefined;
}

export function rig(options: { fleet?: FleetNode[]; engine?: EngineOptions; store?: Store; job?: string } = {}): Rig {
  const clock = new VirtualClock();
  const executor = new RecordingExecutor();
  const engine = createEngine(options.store === undefined ? { executor, clock } : { executor, clock, store: options.store }, options.engine);
  const events = record(engine);
  for (const node of options.fleet ?? []) engine.upsertNode(node);
  const job = options.job ?? JOB;
  return {
    engine,
    clock,
    executor,
    events,
    of: (type) => events.filter((e) => e.type === type),
    healthy: (node, version = 1, error_rate) =>
      engine.reportHealth(error_rate === undefined ? { node, job, version, healthy: true } : { node, job, version, healthy: true, error_rate }),
    unhealthy: (node, version = 1) => engine.reportHealth({ node, job, version, healthy: false }),
    exec: (node, status, version = 1) => engine.reportExecution({ node, job, version, status }),
    advance: (ms) => clock.advanceBy(ms),
    state: (j = job) => engine.status(j)?.state,
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
