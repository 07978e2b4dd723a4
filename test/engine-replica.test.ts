/**
 * §7a "One leader": engines as replicas on one PostgreSQL store (a real,
 * throwaway server). A replica acts only while it holds the lease, stamps
 * its epoch on every start, and a standby takes over where the leader
 * stopped; a replica frozen past its lease writes and delivers nothing.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../src/engine/clocks/realClock.js';
import { openReplica, type Engine } from '../src/engine/index.js';
import type { ExecutionRequest } from '../src/engine/ports.js';
import { PostgresStore } from '../src/engine/store/postgresStore.js';
import { JOB, jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';
import { POSTGRES_INSTALLED, startPostgresCluster, type PostgresCluster } from './support/postgres.js';

let cluster: PostgresCluster;
let url: string;
let admin: pg.Client;
let schemas = 0;
const cleanup: Array<() => Promise<void>> = [];

async function replica(schema: string, executor = new RecordingExecutor()): Promise<{ engine: Engine; store: PostgresStore; executor: RecordingExecutor }> {
  const store = await PostgresStore.open({ connectionString: url, schema, leaseMs: 1000, renewMs: 200 });
  cleanup.push(() => store.close().catch(() => undefined));
  const engine = await openReplica({ executor, clock: new RealClock(), store, leadership: store.leadership }, { heartbeatMs: 0 });
  cleanup.push(async () => engine.dispose());
  return { engine, store, executor };
}

/** Blocks this process's event loop, as SIGSTOP would: no timer, no renewal, nothing runs. */
function freeze(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const rolling = jobSpec({ deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '10m', min_healthy_time: '0s', max_error_rate: 0.1 } } });

describe.skipIf(!POSTGRES_INSTALLED)('§7a replicas on a real PostgreSQL server', () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    url = await cluster.createDatabase('replicas');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    for (const close of cleanup.reverse()) await close();
    await admin?.end();
    cluster?.stop();
  });

  it('§7a: a standby takes over where a leader that stopped cleanly left off, in the next epoch, and re-delivers the starts in flight', async () => {
    const schema = `r${++schemas}`;
    const a = await replica(schema);
    expect(a.engine.leadership).toMatchObject({ epoch: 1, lost: null });
    a.engine.upsertNodes(nodes(6));
    a.engine.submit(rolling);
    await a.engine.committed();
    expect(a.executor.starts.map((s) => [s.node, s.epoch])).toEqual([['n-01', 1], ['n-02', 1]]);
    for (const node of ['n-01', 'n-02']) {
      a.engine.reportExecution({ node, job: JOB, version: 1, status: 'started' });
      a.engine.reportHealth({ node, job: JOB, version: 1, healthy: true });
    }
    await a.engine.committed();
    expect(a.engine.status(JOB)!.counts.stable).toBe(2);
    const before = a.engine.status(JOB);
    await a.engine.close();
    await a.store.close(); // releases the lease: the standby need not wait for it to run out

    const b = await replica(schema);
    expect(b.engine.leadership).toMatchObject({ epoch: 2, lost: null });
    expect(b.engine.status(JOB)).toEqual(before);
    await b.engine.committed();
    // The two in flight (n-03, n-04) are started again, stamped with the new epoch.
    expect(b.executor.starts.map((s) => [s.node, s.epoch])).toEqual([['n-03', 2], ['n-04', 2]]);
    for (const node of ['n-03', 'n-04', 'n-05', 'n-06']) {
      b.engine.reportExecution({ node, job: JOB, version: 1, status: 'started' });
      b.engine.reportHealth({ node, job: JOB, version: 1, healthy: true });
      await b.engine.committed();
    }
    expect(b.engine.status(JOB)!.state).toBe('completed');
    const { rows } = await admin.query<{ epoch: string }>(`SELECT DISTINCT epoch FROM ${schema}.journal ORDER BY epoch`);
    expect(rows.map((r) => Number(r.epoch))).toEqual([2]); // epoch 1 was compacted into the snapshot on close
  });

  it('§7a: a replica frozen past its lease acts on nothing it takes in after waking: no write, no executor call, `leadership.lost`', async () => {
    const schema = `r${++schemas}`;
    const a = await replica(schema);
    a.engine.upsertNodes(nodes(4));
    a.engine.submit(rolling);
    await a.engine.committed();
    const startsBefore = a.executor.starts.length;
    const lost: { reason: string; epoch: number }[] = [];
    a.engine.on('leadership.lost', (e) => lost.push({ reason: e.reason, epoch: e.epoch }));
    const journalBefore = Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.journal`)).rows[0].n);

    freeze(1500); // past the 1 s lease: the database now considers it expired
    // Woken, and before any of its timers run, an agent's report arrives: it would start the next node.
    a.engine.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'started' });
    a.engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true });
    await a.engine.committed().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(a.executor.starts.length).toBe(startsBefore);
    expect(lost).toEqual([{ reason: 'not_leader', epoch: 1 }]);
    expect(a.engine.leadership!.lost).toMatchObject({ reason: 'not_leader' });
    expect(() => a.engine.reportHealth({ node: 'n-02', job: JOB, version: 1, healthy: true })).toThrow(/lost its lease/);
    expect(Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.journal`)).rows[0].n)).toBe(journalBefore);

    // A standby takes over in the next epoch, without what the frozen replica took in after waking.
    const b = await replica(schema);
    expect(b.engine.leadership!.epoch).toBe(2);
    expect(b.engine.status(JOB)!.counts.stable).toBe(0);
    await b.engine.committed();
    expect(b.executor.starts.every((s: ExecutionRequest) => s.epoch === 2)).toBe(true);
  });

  it('§7a: what a dead leader decided and never delivered reaches a listener added as soon as openReplica resolves (events too, not only starts)', async () => {
    const schema = `r${++schemas}`;
    // The rows a leader leaves when it dies after its commit, before delivering what the inputs decided (`delivered: 0`).
    const dead = await PostgresStore.open({ connectionString: url, schema, leaseMs: 1000, renewMs: 200 });
    cleanup.push(() => dead.close().catch(() => undefined));
    await dead.leadership.waitForLease();
    await dead.load();
    const at = Date.now();
    await dead.appendBatch([...nodes(2).map((node) => ({ at, input: { type: 'node.upsert' as const, node }, delivered: 0 })), { at, input: { type: 'submit', spec: rolling }, delivered: 0 }]);
    await dead.leadership.release();

    const b = await replica(schema);
    const created: unknown[] = [];
    b.engine.on('deployment.created', (e) => created.push(e));
    b.engine.on('node.started', (e) => created.push(e));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(b.executor.starts.map((s) => [s.node, s.epoch])).toEqual([['n-01', 2], ['n-02', 2]]);
    expect(created).toHaveLength(3);
  });

  it('§7a: a lease that runs out while the standby restores is reported to a listener added as soon as openReplica resolves, and nothing more is called', async () => {
    const schema = `r${++schemas}`;
    const a = await replica(schema);
    a.engine.upsertNodes(nodes(4));
    a.engine.submit(rolling);
    await a.engine.committed();
    await a.engine.close();
    await a.store.close();

    // The standby re-delivers the two starts in flight; its process stalls past the lease during the first.
    const stalling = new RecordingExecutor();
    const start = stalling.start.bind(stalling);
    stalling.start = (request) => {
      start(request);
      if (stalling.starts.length === 1) freeze(1500);
    };
    const b = await replica(schema, stalling);
    const lost: string[] = [];
    b.engine.on('leadership.lost', (e) => lost.push(e.reason));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lost).toHaveLength(1);
    expect(b.engine.leadership!.lost).not.toBeNull();
    expect(stalling.starts.map((s) => s.node)).toEqual(['n-01']);
  });

  it('§4 v1.1 downtime: after a leader dies without releasing, a passing streak resumes with the time it had left at its last lease renewal', async () => {
    const schema = `r${++schemas}`;
    const a = await replica(schema);
    a.engine.upsertNodes(nodes(1));
    a.engine.submit(jobSpec({ deployment: { strategy: 'rolling', health_check: { deadline: '10m', min_healthy_time: '6s', max_error_rate: 0.1 } } }));
    a.engine.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'started' });
    a.engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true }); // the 6 s streak starts
    await a.engine.committed();
    const startedAt = Date.now();
    const at = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - (Date.now() - startedAt))));
    // The leader lives 5 s (renewing its lease, no input), then dies: no renewal, no release.
    await at(5000);
    (a.store as unknown as { lease: { stopTimers(): void } }).lease.stopTimers();
    a.engine.dispose();
    // The standby opens once the streak has run 6 s in wall time.
    await at(6000);
    const b = await replica(schema);
    expect(b.engine.leadership!.epoch).toBe(2);
    // The downtime (~1 s since the last renewal) is nobody's time: the streak has ~1 s left, not 0 ...
    expect(Date.now() - startedAt).toBeLessThan(6900);
    expect(b.engine.nodeState(b.engine.status(JOB)!.id, 'n-01')).toBe('updating');
    // ... and the 5 s the leader was alive count: it ends about 1 s later (not 6 s, as counting from the last input would make it).
    await at(8500);
    expect(b.engine.status(JOB)!.state).toBe('completed');
  });
});
