/**
 * Durable health reports (issue 9): an engine on a `SqliteStore` with
 * `synchronous = FULL`, a rolling deployment over `nodes` nodes, and health
 * reports arriving two ways:
 * - in batches of `batch` (`engine.reportHealthBatch`: one transaction, one
 *   fsync a batch). Latency: the batch call returns after its entries are
 *   durable and its calls and events went out. Two shapes: back to back in
 *   one synchronous loop (closed loop, as fast as the engine goes: the
 *   throughput figure; the event loop never turns, so V8's foreground GC
 *   tasks and the compactor's turns never run between batches, which no
 *   orchestrator receiving batches over a network does), and `batch_open`,
 *   batches arriving at the 50,000 reports/s target (open loop: latency
 *   from a batch's arrival, queueing behind a late one included), each
 *   handled in a turn of the event loop, as a server would.
 * - from many agents at once, one `reportHealth` call each, with group commit
 *   (`commit: 'group'`): arrivals at a steady rate (open loop, as agents do
 *   not wait for each other), handled as a server would, a turn of the event
 *   loop at a time. Latency: from an input's arrival to `committed()`, i.e.
 *   durable and its effects delivered, queueing behind earlier commits included.
 *   Compaction (every `DEFAULT_COMPACT_EVERY` inputs) runs on the store's
 *   worker thread (the compiled build has it); `agents.compactions` counts them.
 * Each shape first runs `WARMUP_MS` of the same load, measured apart
 * (`first_second`) and left out of `latency`, as of a server
 * that has been up a while: the JIT's first compiles, the young generation
 * growing to its working size, the worker's thread starting and loading the
 * first snapshot (a once-per-process cost, ~0.5 s here) are not the steady
 * state a p99 describes. `durable_floor` is the yardstick in the same run:
 * the same arrivals, each turn's bytes appended to a file and fsync-ed,
 * nothing else; its tail is the disk's, which no store can beat.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, DEFAULT_COMPACT_EVERY, RealClock, type Engine } from '../../src/engine/index.js';
import type { HealthReport } from '../../src/engine/types.js';
import { SqliteStore } from '../../src/engine/store/sqliteStore.js';
import { latencyOf, type Latency } from '../percentiles.js';

export interface DurableReportsResult {
  case: 'durable-reports';
  nodes: number;
  batch: number;
  /** Each shape first ran this long, its figures kept apart (`first_second`) from `latency`. */
  warmup_ms: number;
  reports: number;
  wall_ms: number;
  per_s: number;
  latency: Latency;
  /** Batches arriving at `target_per_s` reports a second, each in a turn of the event loop; `first_second`: the warm-up's (a new process's first second). */
  batch_open: { target_per_s: number; batches: number; per_s: number; latency: Latency; first_second: Latency };
  /** Separate calls from many agents at once, group commit. */
  agents: {
    target_per_s: number;
    reports: number;
    per_s: number;
    commits: number;
    /** Compactions during the run: on the store's worker thread, and on the engine's (synchronous). */
    compactions: { background: number; synchronous: number };
    latency: Latency;
    /** The warm-up's: a new process's first second. */
    first_second: Latency;
  };
  /** The least a durable group commit costs on this disk at the agents' rate: same arrivals, a turn's bytes appended and fsync-ed. */
  durable_floor: { target_per_s: number; reports: number; commits: number; latency: Latency };
}

/** The same load run before each shape's measured samples (see the module comment). */
export const WARMUP_MS = 1000;
/** Journal bytes an input costs about (sqliteStore.ts rows): what the floor writes per arrival. */
const BYTES_PER_INPUT = 110;

export async function runDurableReports(nodes: number, batch: number): Promise<DurableReportsResult> {
  const batched = runBatches(nodes, batch);
  const batchOpen = await runOpenBatches(nodes, batch, 50_000, 200_000);
  const agents = await runAgents(nodes, 50_000, 200_000);
  const floor = await durableFloor(50_000, 200_000);
  return { ...batched, warmup_ms: WARMUP_MS, batch_open: batchOpen, agents, durable_floor: floor };
}

/**
 * `total` arrivals at `perSecond`, open loop as in `runAgents`: each turn
 * appends `BYTES_PER_INPUT` a due arrival to a file and fsyncs it, and an
 * arrival's latency runs to the end of its fsync. No engine, no SQLite.
 */
async function durableFloor(perSecond: number, total: number): Promise<DurableReportsResult['durable_floor']> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  const fd = openSync(join(dir, 'floor'), 'w');
  // A turn's bytes: 100 ms of arrivals at most (a turn that late is the tail anyway).
  const chunk = Buffer.alloc(BYTES_PER_INPUT * Math.ceil(perSecond / 10), 0x61);
  const append = (from: number, to: number): void => {
    writeSync(fd, chunk, 0, Math.min(chunk.length, (to - from) * BYTES_PER_INPUT));
    fsyncSync(fd);
  };
  try {
    await openLoop(perSecond, Math.round((perSecond * WARMUP_MS) / 1000), null, append);
    const samples = new Float64Array(total);
    const commits = await openLoop(perSecond, total, samples, append);
    return { target_per_s: perSecond, reports: total, commits, latency: latencyOf(samples) };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Arrivals `0 .. total - 1` at `perSecond` (open loop): at each turn of the
 * event loop, `handle(from, to)` takes those due since the last turn and
 * returns (or resolves) once they are durable; each arrival's latency, from
 * when it was due, goes into `samples` (null: unmeasured). Returns the turns that handled some.
 */
async function openLoop(perSecond: number, total: number, samples: Float64Array | null, handle: (from: number, to: number) => void | Promise<void>): Promise<number> {
  const nsPerArrival = 1e9 / perSecond;
  const started = process.hrtime.bigint();
  let next = 0;
  let turns = 0;
  while (next < total) {
    const elapsed = Number(process.hrtime.bigint() - started);
    const due = Math.min(total, Math.floor(elapsed / nsPerArrival) + 1);
    if (due === next) {
      await new Promise((resolve) => setImmediate(resolve));
      continue;
    }
    const first = next;
    next = due;
    turns++;
    await handle(first, next);
    if (samples === null) continue;
    const done = Number(process.hrtime.bigint() - started);
    for (let i = first; i < next; i++) samples[i] = done - i * nsPerArrival;
  }
  return turns;
}

function runBatches(nodes: number, batch: number): Omit<DurableReportsResult, 'agents' | 'batch_open' | 'durable_floor' | 'warmup_ms'> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  const store = new SqliteStore(join(dir, 'bench.db'), { synchronous: 'full' });
  try {
    const engine = rollingEngine(store, nodes, 'each');
    const rounds = Math.max(20, Math.ceil(1_000_000 / batch));
    const samples = new Float64Array(rounds);
    const reports: HealthReport[] = Array.from({ length: batch }, (_, i) => ({ node: `n-${i % nodes}`, job: 'default/web', version: 1, healthy: true, error_rate: 0.01 }));
    for (const warmupEnds = performance.now() + WARMUP_MS; performance.now() < warmupEnds; ) engine.reportHealthBatch(reports);
    const started = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      engine.reportHealthBatch(reports);
      samples[r] = Number(process.hrtime.bigint() - t0);
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    engine.dispose();
    return { case: 'durable-reports', nodes, batch, reports: rounds * batch, wall_ms: wallMs, per_s: (rounds * batch) / (wallMs / 1000), latency: latencyOf(samples) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `total` reports in batches of `batch`, a batch due every `batch / perSecond` s; one handled a turn, from when it was due. */
async function runOpenBatches(nodes: number, batch: number, perSecond: number, total: number): Promise<DurableReportsResult['batch_open']> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  const store = new SqliteStore(join(dir, 'bench.db'), { synchronous: 'full' });
  try {
    const engine = rollingEngine(store, nodes, 'each');
    const rounds = Math.max(20, Math.ceil(total / batch));
    const samples = new Float64Array(rounds);
    const reports: HealthReport[] = Array.from({ length: batch }, (_, i) => ({ node: `n-${i % nodes}`, job: 'default/web', version: 1, healthy: true, error_rate: 0.01 }));
    const nsPerBatch = (1e9 * batch) / perSecond;
    const warm = new Float64Array(Math.round((perSecond * WARMUP_MS) / 1000 / batch));
    await openBatches(engine, reports, nsPerBatch, warm);
    const wallMs = await openBatches(engine, reports, nsPerBatch, samples);
    engine.dispose();
    return { target_per_s: perSecond, batches: rounds, per_s: (rounds * batch) / (wallMs / 1000), latency: latencyOf(samples), first_second: latencyOf(warm) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A batch due every `nsPerBatch`, one handled a turn; each one's latency from when it was due into `samples` (as many as it holds). Returns the wall time in ms. */
async function openBatches(engine: Engine, reports: readonly HealthReport[], nsPerBatch: number, samples: Float64Array): Promise<number> {
  const started = process.hrtime.bigint();
  for (let r = 0; r < samples.length; r++) {
    const due = r * nsPerBatch;
    const wait = (due - Number(process.hrtime.bigint() - started)) / 1e6;
    // Until it is due, or one turn when it is late: a batch never runs inside the previous one's turn.
    await new Promise((resolve) => (wait >= 1 ? setTimeout(resolve, Math.floor(wait)) : setImmediate(resolve)));
    while (Number(process.hrtime.bigint() - started) < due) await new Promise((resolve) => setImmediate(resolve));
    engine.reportHealthBatch(reports);
    samples[r] = Number(process.hrtime.bigint() - started) - due;
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** `total` reports from `nodes` agents arriving at `perSecond`, each its own call, group commit. */
async function runAgents(nodes: number, perSecond: number, total: number): Promise<DurableReportsResult['agents']> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  const store = new SqliteStore(join(dir, 'bench.db'), { synchronous: 'full' });
  let commits = 0;
  const appendBatch = store.appendBatch.bind(store);
  store.appendBatch = (entries) => (commits++, appendBatch(entries));
  const compactions = { background: 0, synchronous: 0 };
  const compact = store.compact.bind(store);
  store.compact = (snapshot) => (compactions.synchronous++, compact(snapshot));
  const compactInBackground = store.compactInBackground.bind(store);
  store.compactInBackground = (replay, settled) => {
    const started = compactInBackground(replay, settled);
    if (started) compactions.background++;
    return started;
  };
  try {
    const engine = rollingEngine(store, nodes, 'group');
    await engine.committed();
    const reports: HealthReport[] = Array.from({ length: nodes }, (_, i) => ({ node: `n-${i}`, job: 'default/web', version: 1, healthy: true, error_rate: 0.01 }));
    const send = (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) engine.reportHealth(reports[i % nodes]!);
      return engine.committed();
    };
    const warm = new Float64Array(Math.round((perSecond * WARMUP_MS) / 1000));
    await openLoop(perSecond, warm.length, warm, send);
    commits = 0;
    compactions.background = compactions.synchronous = 0;
    const samples = new Float64Array(total);
    const started = process.hrtime.bigint();
    await openLoop(perSecond, total, samples, send);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    engine.dispose();
    return { target_per_s: perSecond, reports: total, per_s: total / (wallMs / 1000), commits, compactions: { ...compactions }, latency: latencyOf(samples), first_second: latencyOf(warm) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A rolling deployment with every node updating (a long streak ahead), so every report is a real, journaled input. */
function rollingEngine(store: SqliteStore, nodes: number, commit: 'each' | 'group'): Engine {
  // FLEET_BENCH_COMPACT_EVERY: how often the journal is compacted (default the engine's, 10,000 inputs), to see what compaction costs the tail.
  const compactEvery = Number(process.env.FLEET_BENCH_COMPACT_EVERY ?? DEFAULT_COMPACT_EVERY);
  const engine = createEngine({ executor: { start() {}, stop() {} }, clock: new RealClock(), store }, { heartbeatMs: 0, commit, compactEvery });
  engine.upsertNodes(Array.from({ length: nodes }, (_, i) => ({ id: `n-${i}`, labels: {}, connected: true })));
  engine.submit({
    name: 'web', namespace: 'default', type: 'pipeline', priority: 50, labels: {}, meta: {},
    selector: { match_labels: {}, match_expressions: [], match_ids: [] },
    deployment: { strategy: 'rolling', max_parallel: nodes, canary_count: 0, canary_percent: 0, auto_promote: false, no_auto_rollback: false, max_failed_nodes: 0, max_failed_nodes_percent: 0, health_check: { deadline: '2h', min_healthy_time: '1h', max_error_rate: 0.1 } },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
  });
  return engine;
}
