/**
 * Engine only (issue "Rollout engine"): a rolling deployment over `nodes`
 * nodes on a VirtualClock, fed directly in a tight loop, no simulator.
 * The driver plays the fleet the way the simulator's agents do: a node
 * started at time s sends `started` and its first health report at s+10 s,
 * then a report every 10 s until the engine calls it stable. All starts fall
 * on 10 s ticks (stability timers are 30 s after a report), so ticking the
 * clock 10 s at a time sends exactly the reports the agents would.
 *
 * Measured: inputs per second (health reports alone for the target), the
 * latency of one input (report or timer fired, with everything the engine
 * decides and calls back synchronously) for one input in SAMPLE_EVERY, and
 * the live heap per node, nodes' own objects included (the floor is taken
 * before any node exists). Peak RSS covers both rollouts of the process.
 */
import { hrtime } from 'node:process';
import { createEngine, VirtualClock } from '../../src/engine/index.js';
import { validateJobSpec } from '../../src/spec/index.js';
import { HeapProbe, heapFigures, type HeapFigures } from '../memory.js';
import { latencyOf, type Latency } from '../percentiles.js';
import { startWatch, type Elapsed } from '../stopwatch.js';
import { nodeId, REPORT_INTERVAL_MS, rollingJob } from '../workloads.js';

/** A power of two. */
const SAMPLE_EVERY = 8;
const REGIONS = ['us-west', 'us-east', 'eu-central', 'ap-south'];

export interface EngineRollingResult {
  case: 'engine-rolling';
  nodes: number;
  /** Upserting the inventory (not in wall_ms). */
  setup_ms: number;
  /** From submit to the deployment's completion, checkpoints left out. */
  wall_ms: number;
  cpu_ms: number;
  health_reports: number;
  execution_reports: number;
  timers_fired: number;
  /** Health reports over the whole rollout's wall time (timers and execution reports included): the target's figure. */
  health_per_s: number;
  /** Health reports per second of time spent inside reportHealth alone (from the sampled latencies). */
  health_only_per_s: number;
  inputs_per_s: number;
  latency: { all: Latency; health: Latency; execution: Latency; timer: Latency };
  heap_per_node: number;
  memory: HeapFigures;
  outcome: string;
  stable: number;
  virtual_end_s: number;
}

class Sampler {
  private readonly all: number[] = [];
  private readonly byKind = new Map<string, number[]>();
  private state = 0x9e3779b9;

  /** True for about one input in SAMPLE_EVERY, drawn (xorshift) so the sample does not lock onto the driver's fixed order. */
  due(): boolean {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return (x & (SAMPLE_EVERY - 1)) === 0;
  }

  add(kind: string, ns: number): void {
    this.all.push(ns);
    let list = this.byKind.get(kind);
    if (list === undefined) this.byKind.set(kind, (list = []));
    list.push(ns);
  }

  latency(kind?: string): Latency {
    return latencyOf(Float64Array.from(kind === undefined ? this.all : (this.byKind.get(kind) ?? [])));
  }
}

/** What one rollout measured; `probe` (when given) samples the live heap at its checkpoints. */
interface Rollout {
  setupMs: number;
  elapsed: Elapsed;
  counts: { health: number; execution: number; timers: number };
  sampler: Sampler;
  outcome: string;
  stable: number;
  virtualEndMs: number;
}

function rollout(nodes: number, probe: HeapProbe | null): Rollout {
  const validated = validateJobSpec(rollingJob(nodes, '2.0.0'));
  if (!validated.valid) throw new Error(`bench job spec is invalid: ${JSON.stringify(validated.errors)}`);
  const spec = validated.spec;
  const job = `${spec.namespace}/${spec.name}`;

  const clock = new VirtualClock(0);
  let fresh: string[] = [];
  const executor = {
    start: (request: { node: string }): void => void fresh.push(request.node),
    stop: (): void => {},
  };
  const engine = createEngine({ executor, clock });
  const updating = new Set<string>();
  let stable = 0;
  engine.on('node.stable', (e) => {
    updating.delete(e.node);
    stable += 1;
  });

  const setupStart = performance.now();
  for (let i = 0; i < nodes; i += 1) {
    engine.upsertNode({ id: nodeId(i, nodes), labels: { env: 'production', region: REGIONS[i % REGIONS.length]! }, connected: true });
  }
  const setupMs = performance.now() - setupStart;
  probe?.checkpoint();

  const sampler = new Sampler();
  const counts = { health: 0, execution: 0, timers: 0 };
  let version = 0;
  // Inlined rather than wrapped in closures, so the driver costs the engine's figures nothing it need not.
  const health = (node: string): void => {
    counts.health += 1;
    if (!sampler.due()) return engine.reportHealth({ node, job, version, healthy: true, error_rate: 0 });
    const t = hrtime.bigint();
    engine.reportHealth({ node, job, version, healthy: true, error_rate: 0 });
    sampler.add('health', Number(hrtime.bigint() - t));
  };
  const started = (node: string): void => {
    counts.execution += 1;
    if (!sampler.due()) return engine.reportExecution({ node, job, version, status: 'started' });
    const t = hrtime.bigint();
    engine.reportExecution({ node, job, version, status: 'started' });
    sampler.add('execution', Number(hrtime.bigint() - t));
  };
  const fireTimer = (): void => {
    counts.timers += 1;
    if (!sampler.due()) return void clock.step();
    const t = hrtime.bigint();
    clock.step();
    sampler.add('timer', Number(hrtime.bigint() - t));
  };

  const pausedBefore = probe?.pauseMs ?? 0;
  const watch = startWatch();
  version = engine.submit(spec).version;
  probe?.checkpoint();
  let nextCheckpoint = nodes / 4;
  let ready: string[] = [];
  for (;;) {
    // Nodes already running report; then those started one tick ago send `started` and their first report.
    for (const node of updating) health(node);
    for (const node of ready) {
      started(node);
      updating.add(node);
      health(node);
    }
    ready = fresh;
    fresh = [];
    if (updating.size === 0 && ready.length === 0 && clock.pending === 0) break;
    const target = clock.now() + REPORT_INTERVAL_MS;
    for (let due = clock.nextDue(); due !== null && due <= target; due = clock.nextDue()) fireTimer();
    clock.advanceTo(target);
    if (probe !== null && stable >= nextCheckpoint) {
      nextCheckpoint += nodes / 4;
      probe.checkpoint();
    }
  }
  probe?.checkpoint();
  const elapsed = watch((probe?.pauseMs ?? 0) - pausedBefore);
  return { setupMs, elapsed, counts, sampler, outcome: engine.status(job)?.state ?? 'missing', stable, virtualEndMs: clock.now() };
}

/**
 * Two rollouts in this process: the first samples the live heap (forced full
 * GCs, which shrink the heap and would slow what follows: its time is not
 * used); the second, with warm code and no forced GC, gives the figures.
 */
export function runEngineRolling(nodes: number): EngineRollingResult {
  const probe = new HeapProbe();
  rollout(nodes, probe);
  const timed = rollout(nodes, null);
  const { counts, sampler, elapsed } = timed;
  const wallMs = elapsed.wall_ms;
  const inputs = counts.health + counts.execution + counts.timers;
  return {
    case: 'engine-rolling',
    nodes,
    setup_ms: timed.setupMs,
    wall_ms: wallMs,
    cpu_ms: elapsed.cpu_ms,
    health_reports: counts.health,
    execution_reports: counts.execution,
    timers_fired: counts.timers,
    health_per_s: counts.health / (wallMs / 1000),
    health_only_per_s: 1e6 / sampler.latency('health').mean_us,
    inputs_per_s: inputs / (wallMs / 1000),
    latency: { all: sampler.latency(), health: sampler.latency('health'), execution: sampler.latency('execution'), timer: sampler.latency('timer') },
    heap_per_node: probe.peak / nodes,
    memory: heapFigures(),
    outcome: timed.outcome,
    stable: timed.stable,
    virtual_end_s: timed.virtualEndMs / 1000,
  };
}
