/**
 * `status --store PATH_OR_URL [JOB] [--json]` (issue 10): every deployment an
 * engine's store holds, read-only and without the lease, from a SQLite file
 * or a PostgreSQL URL (a real throwaway cluster, a real engine writing through
 * a real PostgresStore); for PostgreSQL the lease holder and epoch (§7a). The
 * figures shown are the writer's own `engine.deployments()`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_FORMAT } from '../src/cli/print/json.js';
import { openEngine, VirtualClock, type DeploymentStatus, type Engine } from '../src/engine/index.js';
import { SqliteStore } from '../src/engine/store/sqliteStore.js';
import { buildCli, expectCleanFailure, runCompiled, tempDir } from './cli-harness.js';
import { jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';
import { POSTGRES_INSTALLED, startPostgresCluster, type PostgresCluster } from './support/postgres.js';
import { openPostgresWriter } from './support/postgresWriter.js';

const T0 = 1_700_000_000_000;

/** Two jobs: `web` failed by the deadline rule (§4, §6), `edge/api` still rolling out one node at a time. */
function twoJobs(engine: Engine, clock: VirtualClock): void {
  for (const node of nodes(3)) engine.upsertNode(node);
  engine.submit(jobSpec({ deployment: { max_parallel: 3, max_failed_nodes: 0, health_check: { deadline: '1m', min_healthy_time: '30s', max_error_rate: 0.1 } } }));
  clock.advanceTo(clock.now() + 61_000);
  engine.submit(jobSpec({ name: 'api', namespace: 'edge' }));
}

interface StatusJson {
  format: number;
  store: string;
  kind: string;
  lease: { holder: string | null; epoch: number; expiresInMs: number } | null;
  deployments: DeploymentStatus[];
}

function statusJson(main: string, args: string[]): StatusJson {
  const run = runCompiled(main, ['status', ...args, '--json']);
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as StatusJson;
}

describe('§7 status --store FILE (SQLite)', () => {
  let main: string;
  let db: string;
  let written: DeploymentStatus[];
  const temp = tempDir();
  beforeAll(() => {
    main = buildCli('cli-status');
    db = join(temp.dir, 'two-jobs.db');
    const store = new SqliteStore(db, { synchronous: 'normal' });
    const clock = new VirtualClock(T0);
    const engine = openEngine({ executor: new RecordingExecutor(), clock, store });
    twoJobs(engine, clock);
    written = engine.deployments();
    engine.dispose();
    store.close();
  }, 120_000);
  afterAll(() => temp.cleanup());

  it('§7 lists every deployment as the engine that wrote them sees it, oldest first, and writes nothing', () => {
    const before = createHash('sha256').update(readFileSync(db)).digest('hex');
    const json = statusJson(main, ['--store', db]);
    expect(json.format).toBe(JSON_FORMAT);
    expect(json).toMatchObject({ store: db, kind: 'sqlite', lease: null });
    expect(json.deployments).toEqual([...written].sort((a, b) => a.created_at - b.created_at));
    expect(json.deployments.map((d) => `${d.id} ${d.state}`)).toEqual(['default/web#1 failed', 'edge/api#1 in_progress']);

    const text = runCompiled(main, ['status', '--store', db]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${db} · SQLite · 2 deployments`);
    expect(text.stdout).toMatch(/default\/web#1 +create +v1 +rolling +failed \(failure_rule\) +0\/3 +0 +1 +0 /);
    expect(text.stdout).toMatch(/edge\/api#1 +create +v1 +rolling +in_progress +0\/3 +1 +0 +0 /);
    expect(text.stdout).not.toContain('leader');
    expect(createHash('sha256').update(readFileSync(db)).digest('hex')).toBe(before);
  });

  it('§7 a store the engine opened but never submitted to lists no deployment and exits 0', () => {
    const empty = join(temp.dir, 'empty.db');
    new SqliteStore(empty).close();
    expect(statusJson(main, ['--store', empty]).deployments).toEqual([]);
    expect(runCompiled(main, ['status', '--store', empty]).stdout).toContain('no deployment yet');
  });

  it('§7 a job (a bare name is the default namespace) or a deployment id narrows the list', () => {
    expect(statusJson(main, ['--store', db, 'web']).deployments.map((d) => d.id)).toEqual(['default/web#1']);
    expect(statusJson(main, ['--store', db, 'edge/api#1']).deployments.map((d) => d.id)).toEqual(['edge/api#1']);
  });

  it('§8 bad input exits 2 naming the store and the field: no such file, an unknown job, a schema for a file, not a database', () => {
    const missing = join(temp.dir, 'missing.db');
    expectCleanFailure(runCompiled(main, ['status', '--store', missing]), 2, missing, 'no such store');
    expectCleanFailure(runCompiled(main, ['status', '--store', db, 'edge/nope']), 2, db, 'no deployment of job edge/nope', 'default/web, edge/api');
    expectCleanFailure(runCompiled(main, ['status', '--store', db, '--schema', 'x']), 2, db, '--schema');
    const foreign = temp.file('notes.txt', 'not a database at all, just text that is long enough to be read as a header........');
    expectCleanFailure(runCompiled(main, ['status', '--store', foreign, '--json']), 2, foreign, 'not a SQLite database');
    expectCleanFailure(runCompiled(main, ['status']), 2, '--store');
  });
});

describe.skipIf(!POSTGRES_INSTALLED)('§7 §7a status --store postgresql://', () => {
  let main: string;
  let cluster: PostgresCluster;
  let url: string;
  beforeAll(async () => {
    main = buildCli('cli-status-pg');
    cluster = await startPostgresCluster();
    url = await cluster.createDatabase('fleet');
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('§7a shows the deployments and who leads in which epoch while a replica holds the lease, then no leader once it released it', async () => {
    const clock = new VirtualClock(T0);
    // Compacting every 4 inputs: the state read holds a snapshot.
    const writer = await openPostgresWriter(url, 'replicas', { executor: new RecordingExecutor(), clock, options: { compactEvery: 4 } });
    twoJobs(writer.engine, clock);
    await writer.flushed();
    const written = writer.engine.deployments().sort((a, b) => a.created_at - b.created_at);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const { rows } = await admin.query<{ snapshots: string }>('SELECT count(*) AS snapshots FROM replicas.snapshot');
    await admin.end();
    expect(rows[0]!.snapshots).toBe('1'); // what status reads is restored from a snapshot (plus the journal after it, if any)

    const leading = statusJson(main, ['--store', url, '--schema', 'replicas']);
    expect(leading.kind).toBe('postgresql');
    expect(leading.store).toContain('(schema replicas)');
    expect(leading.lease).toMatchObject({ holder: 'test-writer-replicas', epoch: 1 });
    expect(leading.lease!.expiresInMs).toBeGreaterThan(0);
    expect(leading.deployments).toEqual(written);
    const text = runCompiled(main, ['status', '--store', url, '--schema', 'replicas', 'edge/api']);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('(schema replicas) · PostgreSQL · 1 deployment');
    expect(text.stdout).toMatch(/leader: test-writer-replicas, epoch 1, lease runs \d+\.\d s more/);
    expect(text.stdout).toMatch(/edge\/api#1 +create +v1 +rolling +in_progress +0\/3 +1 /);

    await writer.close(); // a clean shutdown releases the lease
    const released = statusJson(main, ['--store', url, '--schema', 'replicas']);
    expect(released.lease).toEqual({ holder: null, epoch: 1, expiresInMs: 0 });
    expect(released.deployments).toEqual(written);
    expect(runCompiled(main, ['status', '--store', url, '--schema', 'replicas']).stdout).toContain('leader: none now (the lease of epoch 1 was released or ran out)');
  }, 60_000);

  it('§8 bad input exits 2 naming the store (never its password) and the field', async () => {
    const withPassword = url.replace('postgresql://', 'postgresql://fleet:hunter2@');
    const empty = runCompiled(main, ['status', '--store', withPassword, '--schema', 'nothing_here']);
    expectCleanFailure(empty, 2, '(schema nothing_here)', 'holds no fleet-rollout store yet');
    expect(empty.stderr).not.toContain('hunter2');
    expectCleanFailure(runCompiled(main, ['status', '--store', url, '--schema', 'Bad-Name', '--json']), 2, '--schema', 'lower-case SQL identifier');
    expectCleanFailure(runCompiled(main, ['status', '--store', url.replace(/\/fleet(\?|$)/, '/nodb$1')]), 2, 'cannot connect', 'nodb');
  });
});
