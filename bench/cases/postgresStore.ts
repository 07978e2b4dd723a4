/**
 * PostgresStore (issue "Replicas"): durable appends of health-report-sized
 * entries on a throwaway PostgreSQL cluster (fsync and synchronous_commit on,
 * data on the temporary folder's disk), and the failover time of the lease.
 *
 * - one at a time: each append awaited before the next (no group commit possible): the commit floor;
 * - batched: `appendBatch` of BATCH entries, awaited in turn (an inventory or report batch);
 * - concurrent: AGENTS agents, each awaiting its own append before sending the next (many agents
 *   at once); group commit puts the appends that arrive during a commit into the next one.
 * - engine: the same 1,000 agents through an engine replica (`openReplica`, group commit) over a
 *   rolling deployment of 10,000 nodes, each agent sending `reportHealth` and awaiting
 *   `engine.committed()` before its next: input to durable with its effects delivered.
 * - failover: a leader process holding the lease is SIGKILLed at a random moment of its renewal
 *   cycle while a standby waits (`waitForLease`); the figure is the time from the dead leader's
 *   lease expiry to the standby's acquire, both in database time (`LeaseGrant.takeover`), and the
 *   time from the kill to the acquire (the rest of the lease plus that).
 */
import { spawn } from 'node:child_process';
import { hrtime } from 'node:process';
import { fileURLToPath } from 'node:url';
import type { JournalEntry } from '../../src/engine/ports.js';
import { PostgresStore } from '../../src/engine/store/postgresStore.js';
import { latencyOf, percentile, type Latency } from '../percentiles.js';
import { startPostgresCluster } from '../postgresCluster.js';
import { startWatch } from '../stopwatch.js';

const SEQUENTIAL = 500;
const BATCH = 1_000;
const BATCHED = 100_000;
const AGENTS = 1_000;
const CONCURRENT = 100_000;
const FAILOVER_LEASE_MS = 500;
const FAILOVER_RENEW_MS = 100;
const LEADER_FILE = fileURLToPath(new URL('../postgresLeader.js', import.meta.url));

export interface ThroughputFigures {
  entries: number;
  wall_ms: number;
  cpu_ms: number;
  per_s: number;
  commits: number;
  /** Input to durable (promise resolved), one sample per append. */
  latency: Latency;
}

export interface PostgresStoreResult {
  case: 'postgres-store';
  server: string;
  entry_bytes: number;
  one_at_a_time: ThroughputFigures;
  batched: ThroughputFigures & { batch: number };
  concurrent: ThroughputFigures & { agents: number };
  engine: ThroughputFigures & { agents: number; nodes: number };
  failover: {
    trials: number;
    lease_ms: number;
    renew_ms: number;
    /** Dead leader's lease expiry to the standby's acquire, database time. */
    after_expiry: { p50_ms: number; p99_ms: number; max_ms: number };
    /** SIGKILL to the standby's acquire, standby's monotonic clock: at most lease_ms + after_expiry. */
    after_kill: { p50_ms: number; p99_ms: number; max_ms: number };
  };
}

function report(i: number): JournalEntry {
  return {
    at: 1_700_000_000_000 + i,
    input: { type: 'report.health', report: { node: `edge-${String(i % 100_000).padStart(6, '0')}`, job: 'default/web', version: 7, healthy: i % 50 !== 0, error_rate: 0.0125 } },
  };
}

async function freshLeader(url: string, schema: string): Promise<PostgresStore> {
  const store = await PostgresStore.open({ connectionString: url, schema });
  await store.leadership.waitForLease();
  await store.load();
  return store;
}

async function measure(url: string, schema: string, entries: number, drive: (store: PostgresStore, sample: (ns: number) => void) => Promise<void>): Promise<ThroughputFigures> {
  const store = await freshLeader(url, schema);
  const samples = new Float64Array(entries);
  let n = 0;
  const watch = startWatch();
  await drive(store, (ns) => (samples[n++] = ns));
  const elapsed = watch();
  const { commits } = store.stats;
  await store.close();
  return { entries, ...elapsed, per_s: entries / (elapsed.wall_ms / 1000), commits, latency: latencyOf(samples.subarray(0, n)) };
}

const ENGINE_NODES = 10_000;

/** Health reports from AGENTS agents through an engine replica: every report is journaled (the nodes are mid-streak). */
async function throughEngine(url: string): Promise<PostgresStoreResult['engine']> {
  const { openReplica, RealClock } = await import('../../src/engine/index.js');
  const store = await PostgresStore.open({ connectionString: url, schema: 'engine' });
  const engine = await openReplica({ executor: { start() {}, stop() {} }, clock: new RealClock(), store, leadership: store.leadership }, { heartbeatMs: 0 });
  engine.upsertNodes(Array.from({ length: ENGINE_NODES }, (_, i) => ({ id: `edge-${i}`, labels: {}, connected: true })));
  engine.submit({
    name: 'web', namespace: 'default', type: 'pipeline', priority: 50, labels: {}, meta: {},
    selector: { match_labels: {}, match_expressions: [], match_ids: [] },
    deployment: { strategy: 'rolling', max_parallel: ENGINE_NODES, canary_count: 0, canary_percent: 0, auto_promote: false, no_auto_rollback: false, max_failed_nodes: 0, max_failed_nodes_percent: 0, health_check: { deadline: '2h', min_healthy_time: '1h', max_error_rate: 0.1 } },
    timeouts: { execution_timeout: 0, queue_timeout: 0, total_timeout: 0 },
  });
  await engine.committed();
  const before = store.stats.commits;
  const samples = new Float64Array(CONCURRENT);
  let n = 0;
  let next = 0;
  const watch = startWatch();
  const agent = async (): Promise<void> => {
    while (next < CONCURRENT) {
      const i = next++;
      const start = hrtime.bigint();
      engine.reportHealth({ node: `edge-${i % ENGINE_NODES}`, job: 'default/web', version: 1, healthy: true, error_rate: 0.01 });
      await engine.committed();
      samples[n++] = Number(hrtime.bigint() - start);
    }
  };
  await Promise.all(Array.from({ length: AGENTS }, agent));
  const elapsed = watch();
  const commits = store.stats.commits - before;
  engine.dispose();
  await store.close();
  return { entries: CONCURRENT, ...elapsed, per_s: CONCURRENT / (elapsed.wall_ms / 1000), commits, latency: latencyOf(samples.subarray(0, n)), agents: AGENTS, nodes: ENGINE_NODES };
}

async function timed(append: Promise<void>, sample: (ns: number) => void): Promise<void> {
  const start = hrtime.bigint();
  await append;
  sample(Number(hrtime.bigint() - start));
}

async function failover(url: string, trials: number): Promise<PostgresStoreResult['failover']> {
  const schema = 'failover';
  const standby = await PostgresStore.open({ connectionString: url, schema, holder: 'standby', leaseMs: FAILOVER_LEASE_MS, renewMs: FAILOVER_RENEW_MS });
  const afterExpiry: number[] = [];
  const afterKill: number[] = [];
  for (let trial = 0; trial < trials; trial++) {
    const leader = spawn(process.execPath, [LEADER_FILE, url, schema, String(FAILOVER_LEASE_MS), String(FAILOVER_RENEW_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      leader.stdout.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('leader') && resolve());
      leader.on('exit', (code) => reject(new Error(`the leader process exited (${code}) before leading`)));
    });
    const waiting = standby.leadership.waitForLease();
    // A random moment of the leader's renewal cycle.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * FAILOVER_RENEW_MS * 2));
    leader.kill('SIGKILL');
    const killedAt = performance.now();
    const grant = await waiting;
    afterKill.push(performance.now() - killedAt);
    afterExpiry.push(grant.takeover?.afterExpiryMs ?? NaN);
    await standby.leadership.release();
    await new Promise((resolve) => (leader.exitCode === null && leader.signalCode === null ? leader.once('exit', resolve) : resolve(null)));
  }
  await standby.close();
  const figures = (values: number[]): { p50_ms: number; p99_ms: number; max_ms: number } => {
    const sorted = Float64Array.from(values).sort();
    const round = (ms: number): number => Math.round(ms * 10) / 10;
    return { p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), max_ms: round(sorted[sorted.length - 1]!) };
  };
  return { trials, lease_ms: FAILOVER_LEASE_MS, renew_ms: FAILOVER_RENEW_MS, after_expiry: figures(afterExpiry), after_kill: figures(afterKill) };
}

export async function runPostgresStore(trials: number): Promise<PostgresStoreResult> {
  const cluster = await startPostgresCluster({ settings: { shared_buffers: "'128MB'", max_wal_size: "'1GB'" } });
  try {
    const url = await cluster.createDatabase('bench');
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const server = (await client.query<{ v: string }>("SELECT current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') AS v")).rows[0]!.v;
    await client.end();

    const oneAtATime = await measure(url, 'one_at_a_time', SEQUENTIAL, async (store, sample) => {
      for (let i = 0; i < SEQUENTIAL; i++) await timed(store.append(report(i)), sample);
    });
    const batched = await measure(url, 'batched', BATCHED, async (store, sample) => {
      for (let b = 0; b < BATCHED / BATCH; b++) {
        const start = hrtime.bigint();
        await store.appendBatch(Array.from({ length: BATCH }, (_, i) => report(b * BATCH + i)));
        const ns = Number(hrtime.bigint() - start);
        for (let i = 0; i < BATCH; i++) sample(ns);
      }
    });
    const concurrent = await measure(url, 'concurrent', CONCURRENT, async (store, sample) => {
      let next = 0;
      const agent = async (): Promise<void> => {
        while (next < CONCURRENT) await timed(store.append(report(next++)), sample);
      };
      await Promise.all(Array.from({ length: AGENTS }, agent));
    });
    return {
      case: 'postgres-store',
      server,
      entry_bytes: JSON.stringify(report(12_345)).length,
      one_at_a_time: oneAtATime,
      batched: { ...batched, batch: BATCH },
      concurrent: { ...concurrent, agents: AGENTS },
      engine: await throughEngine(url),
      failover: await failover(url, trials),
    };
  } finally {
    cluster.stop();
  }
}
