/**
 * `watch --store PATH_OR_URL [JOB]`: follows a real rollout from the engine's
 * store (a SQLite file, or PostgreSQL through its read-only observer),
 * read-only and without the lease, and exits with the deployment's outcome
 * (§7 states; codes in docs/cli.md). The live SQLite test runs
 * examples/orchestrator.ts (compiled) and watches it from another process;
 * the PostgreSQL tests run a real engine on a real PostgresStore in a
 * throwaway cluster (test/support/postgres.ts) and watch it likewise.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openEngine, RealClock, VirtualClock, type Executor } from '../src/engine/index.js';
import { PostgresStore } from '../src/engine/store/postgresStore.js';
import { SqliteStore } from '../src/engine/store/sqliteStore.js';
import { watchCommand } from '../src/cli/commands/watch.js';
import { buildCli, expectCleanFailure, memoryIO, REPO, runCompiled, tempDir } from './cli-harness.js';
import { jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';
import { POSTGRES_INSTALLED, startPostgresCluster, type PostgresCluster } from './support/postgres.js';
import { openPostgresWriter } from './support/postgresWriter.js';

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { exited: Promise<Exited>; stdout: () => string } {
  const child = spawn(process.execPath, args, { cwd: REPO, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { exited: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))), stdout: () => stdout };
}

async function until(holds: () => boolean, what: string, ms = 20_000): Promise<void> {
  const started = Date.now();
  while (!holds()) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A store left by an engine (closed): a job aborted before any version completed is `failed` (§6, §7). */
function storeWith(file: string, steps: (engine: ReturnType<typeof openEngine>, clock: VirtualClock) => void): void {
  const store = new SqliteStore(file, { synchronous: 'normal' });
  const clock = new VirtualClock(1_700_000_000_000);
  const engine = openEngine({ executor: new RecordingExecutor(), clock, store });
  for (const node of nodes(3)) engine.upsertNode(node);
  steps(engine, clock);
  engine.dispose();
  store.close();
}

const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('§7 watch --store', () => {
  let main: string;
  const temp = tempDir();
  beforeAll(() => {
    main = buildCli('cli-watch');
  }, 120_000);
  afterAll(() => temp.cleanup());

  it('§7 follows examples/orchestrator.ts live, line by line, and exits with its outcome', async () => {
    const db = join(temp.dir, 'live.db');
    const orchestratorJs = join(dirname(dirname(main)), '..', 'examples', 'orchestrator.js');
    expect(existsSync(orchestratorJs)).toBe(true);
    const orchestrator = start([orchestratorJs, db]);
    await until(() => existsSync(db), 'the orchestrator to create its store');
    const watch = start([main, 'watch', '--store', db, 'edge/telemetry', '--interval', '100ms', '--timeout', '2m']);
    const [ran, watched] = await Promise.all([orchestrator.exited, watch.exited]);

    expect(ran.code, ran.stderr).toBe(0); // the orchestrator exits 0 once its rollout completed
    expect(ran.stdout).toMatch(/edge\/telemetry#1 ended completed/);
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('edge/telemetry#1 ended completed; exit 0');
    // Live: it saw the rollout under way, then its end, one line per change.
    const progress = lines.filter((line) => / edge\/telemetry#1 /.test(line));
    expect(progress.some((line) => line.includes(' in_progress '))).toBe(true);
    expect(progress.at(-1)).toMatch(/ completed · 0 updating · 20\/20 stable · 0 failed/);
    expect(new Set(progress).size).toBe(progress.length);
    expect(progress.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('§7 a failed deployment exits 3, and watching writes nothing to the store', () => {
    const db = join(temp.dir, 'aborted.db');
    storeWith(db, (engine) => {
      engine.submit(jobSpec({ deployment: { max_parallel: 1 } }));
      engine.abort('default/web');
    });
    const before = digest(db);
    const run = runCompiled(main, ['watch', '--store', db, 'web']); // a bare name: the default namespace
    expect(run.status, run.stderr).toBe(3);
    expect(run.stdout).toMatch(/default\/web#1 failed \(aborted\)/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('default/web#1 ended failed; exit 3');
    expect(digest(db)).toBe(before);
  });

  it('§4 §6 on a terminal: the block shows phase, counts, the budget and the latest failure with its reason', async () => {
    const db = join(temp.dir, 'deadline.db');
    storeWith(db, (engine, clock) => {
      engine.submit(jobSpec({ deployment: { max_parallel: 3, max_failed_nodes: 0, health_check: { deadline: '1m', min_healthy_time: '30s', max_error_rate: 0.1 } } }));
      clock.advanceTo(clock.now() + 61_000); // nobody reports: the deadline fails the nodes, the rule breaks at the first
    });
    const { io, stdout } = memoryIO('', { NO_COLOR: '1' }); // a terminal without colour: the text is what is asserted
    const code = await watchCommand({ store: db, job: null, interval: '50ms', timeout: '10s' }, { ...io, stdout: { ...io.stdout, isTTY: true } });
    expect(code).toBe(3);
    const text = stdout();
    expect(text).toMatch(/phase +.*failed.* \(failure_rule\)/);
    expect(text).toMatch(/nodes +3 targeted: 0 stable, 0 updating, 0 pending, 1 failed/);
    expect(text).toMatch(/budget +0 more failed nodes tolerated \(1 failed of 3; limits 0 nodes, 10%\)/);
    expect(text).toMatch(/failure +n-01 deadline_exceeded at \d\d:\d\d:\d\d/);
    expect(text.trim().split('\n').at(-1)).toBe('default/web#1 ended failed; exit 3');
  });

  it('§7 a deployment still running when --timeout passes exits 6', () => {
    const db = join(temp.dir, 'running.db');
    storeWith(db, (engine) => void engine.submit(jobSpec()));
    const run = runCompiled(main, ['watch', '--store', db, '--interval', '50ms', '--timeout', '300ms']);
    expect(run.status).toBe(6);
    expect(run.stdout).toMatch(/default\/web#1 in_progress · 1 updating · 0\/3 stable/);
    expect(run.stderr).toMatch(/still not ended after 300ms/);
  });

  it('§8 bad input exits 2 naming it: no such store, an unknown job, an unreachable PostgreSQL server, a bad duration', () => {
    const missing = join(temp.dir, 'missing.db');
    expectCleanFailure(runCompiled(main, ['watch', '--store', missing]), 2, missing, 'no such store');
    expect(existsSync(missing)).toBe(false);
    const db = join(temp.dir, 'one-job.db');
    storeWith(db, (engine) => void engine.submit(jobSpec()));
    expectCleanFailure(runCompiled(main, ['watch', '--store', db, 'edge/nope']), 2, db, 'no deployment of job edge/nope', 'default/web');
    const unreachable = runCompiled(main, ['watch', '--store', 'postgres://ops:s3cret@127.0.0.1:1/rollouts']);
    expectCleanFailure(unreachable, 2, 'postgres://ops:***@127.0.0.1:1/rollouts (schema fleet_rollout)', 'cannot connect');
    expect(unreachable.stderr).not.toContain('s3cret');
    expectCleanFailure(runCompiled(main, ['watch', '--store', db, '--schema', 'rollouts']), 2, db, '--schema', 'PostgreSQL store only');
    expectCleanFailure(runCompiled(main, ['watch', '--store', db, '--interval', 'soon']), 2, '--interval', 'soon');
    const foreign = temp.file('notes.txt', 'not a database at all, just text that is long enough to be read as a header........');
    expectCleanFailure(runCompiled(main, ['watch', '--store', foreign]), 2, foreign, 'not a SQLite database');
  });
});

/** Fake agents on real time: each started node reports healthy every 100 ms until stopped (`silence` stops them all). */
function healthyAgents(clock: RealClock, engine: () => ReturnType<typeof openEngine>): Executor & { silence(): void } {
  const timers = new Map<string, ReturnType<RealClock['schedule']>>();
  return {
    silence() {
      for (const timer of timers.values()) clock.cancel(timer);
      timers.clear();
    },
    start({ node, job, version }) {
      const report = (): void => {
        engine().reportHealth({ node, job, version, healthy: true, error_rate: 0 });
        timers.set(node, clock.schedule(clock.now() + 100, report));
      };
      timers.set(
        node,
        clock.schedule(clock.now() + 50, () => {
          engine().reportExecution({ node, job, version, status: 'started' });
          report();
        }),
      );
    },
    stop({ node }) {
      clock.cancel(timers.get(node) ?? null);
      timers.delete(node);
    },
  };
}

describe.skipIf(!POSTGRES_INSTALLED)('§7 §7a watch --store postgresql://', () => {
  let main: string;
  let cluster: PostgresCluster;
  let url: string;
  beforeAll(async () => {
    main = buildCli('cli-watch-pg');
    cluster = await startPostgresCluster();
    url = await cluster.createDatabase('fleet');
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('§7 follows a live rollout of a real engine on PostgresStore and exits 0 once it completed', async () => {
    const clock = new RealClock();
    let engine: ReturnType<typeof openEngine> | null = null;
    const agents = healthyAgents(clock, () => engine!);
    const writer = await openPostgresWriter(url, 'live', { executor: agents, clock });
    engine = writer.engine;
    for (const node of nodes(4)) engine.upsertNode(node);
    engine.submit(jobSpec({ deployment: { max_parallel: 2, health_check: { deadline: '30s', min_healthy_time: '1s', max_error_rate: 0.1 } } }));
    await writer.flushed();
    const watch = start([main, 'watch', '--store', url, '--schema', 'live', 'web', '--interval', '100ms', '--timeout', '1m']);
    const flushing = setInterval(() => void writer.flushed(), 50);
    const watched = await watch.exited;
    clearInterval(flushing);
    const final = engine.status('default/web')!;
    agents.silence();
    await writer.close();

    expect(watched.stderr).toBe('');
    expect(final.state).toBe('completed');
    expect(watched.code).toBe(0);
    const lines = watched.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('default/web#1 ended completed; exit 0');
    const progress = lines.filter((line) => / default\/web#1 /.test(line));
    expect(progress.some((line) => line.includes(' in_progress '))).toBe(true);
    expect(progress.at(-1)).toMatch(/ completed · 0 updating · 4\/4 stable · 0 failed/);
    expect(new Set(progress).size).toBe(progress.length);
    // §7a: the replica writing holds the lease all along.
    for (const line of progress) expect(line).toMatch(/ · leader test-writer-live \(epoch 1\)$/);
  }, 120_000);

  it('§6 §7 §7a a failed deployment exits 3 with its failure and the leader shown, and watching writes nothing (journal and lease unchanged)', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const writer = await openPostgresWriter(url, 'aborted', { executor: new RecordingExecutor(), clock });
    for (const node of nodes(3)) writer.engine.upsertNode(node);
    writer.engine.submit(jobSpec({ deployment: { max_parallel: 3, max_failed_nodes: 0, health_check: { deadline: '1m', min_healthy_time: '30s', max_error_rate: 0.1 } } }));
    clock.advanceTo(clock.now() + 61_000); // nobody reports: the deadline fails the nodes
    await writer.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const table = async (): Promise<string> => JSON.stringify((await admin.query('SELECT (SELECT count(*) FROM aborted.journal) AS entries, (SELECT row_to_json(l) FROM aborted.lease l) AS lease')).rows);
    try {
      const before = await table();
      const { io, stdout } = memoryIO('', { NO_COLOR: '1' });
      const code = await watchCommand({ store: url, schema: 'aborted', job: null, interval: '50ms', timeout: '10s' }, { ...io, stdout: { ...io.stdout, isTTY: true } });
      expect(code).toBe(3);
      const text = stdout();
      expect(text).toMatch(/phase +.*failed.* \(failure_rule\)/);
      expect(text).toMatch(/failure +n-0\d deadline_exceeded at \d\d:\d\d:\d\d/);
      expect(text).toContain('(schema aborted) · read ');
      expect(text).toMatch(/leader +none now \(epoch 1 released or ran out\)/); // the writer closed, releasing its lease
      expect(text.trim().split('\n').at(-1)).toBe('default/web#1 ended failed; exit 3');
      expect(await table()).toBe(before);
    } finally {
      await admin.end();
    }
  }, 60_000);

  it('§7a follows a failover: the leader releasing, a standby taking the lease (epoch 2) before it writes anything, then a replica aborting (exit 3)', async () => {
    const clock = new VirtualClock(1_700_000_000_000);
    const first = await openPostgresWriter(url, 'failover', { executor: new RecordingExecutor(), clock, holder: 'replica-a' });
    for (const node of nodes(3)) first.engine.upsertNode(node);
    first.engine.submit(jobSpec());
    await first.flushed();
    const watch = start([main, 'watch', '--store', url, '--schema', 'failover', '--interval', '100ms', '--timeout', '1m']);
    await until(() => watch.stdout().includes('leader replica-a (epoch 1)'), 'the first leader in the view');
    await first.close(); // releases the lease
    await until(() => watch.stdout().includes('leader none now (epoch 1 released or ran out)'), 'no leader in the view');
    // A standby that took the lease but has not restored yet: nothing written, the view changes for the leader alone.
    const standby = await PostgresStore.open({ connectionString: url, schema: 'failover', holder: 'replica-b' });
    expect(await standby.leadership.acquire()).toMatchObject({ epoch: 2 });
    await until(() => watch.stdout().includes('leader replica-b (epoch 2)'), 'the standby leading in the view');
    expect(standby.stats.commits).toBe(0);
    await standby.close();
    const third = await openPostgresWriter(url, 'failover', { executor: new RecordingExecutor(), clock: new VirtualClock(clock.now() + 1_000), holder: 'replica-c' });
    expect(third.engine.status('default/web')?.state).toBe('in_progress'); // it restored what the first one wrote
    third.engine.abort('default/web');
    await third.flushed();
    const watched = await watch.exited;
    await third.close();
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(3);
    const lines = watched.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('default/web#1 ended failed; exit 3');
    expect(lines.at(-2)).toMatch(/ failed \(aborted\) .* · leader replica-c \(epoch 3\)$/);
    // One line per change: the same in-progress state under each leader in turn.
    const leaders = lines.filter((line) => line.includes(' in_progress ')).map((line) => line.replace(/^.* · leader /, ''));
    expect(leaders.slice(0, 3)).toEqual(['replica-a (epoch 1)', 'none now (epoch 1 released or ran out)', 'replica-b (epoch 2)']);
  }, 60_000);

  it('§8 bad input exits 2 naming the store: a schema without a store, a schema that is not an identifier, an unknown job', async () => {
    expectCleanFailure(runCompiled(main, ['watch', '--store', url, '--schema', 'nothing_here']), 2, '(schema nothing_here)', 'holds no fleet-rollout store yet');
    expectCleanFailure(runCompiled(main, ['watch', '--store', url, '--schema', 'Bad-Name']), 2, '(schema Bad-Name): --schema:', 'lower-case SQL identifier');
    expectCleanFailure(runCompiled(main, ['watch', '--store', url, '--schema', 'aborted', 'edge/nope']), 2, '(schema aborted)', 'no deployment of job edge/nope', 'default/web');
  });
});
