/**
 * PostgresStore against a real PostgreSQL server (a throwaway cluster started
 * here): schema, journal round trip, group commit, the lease with its fencing
 * epoch (contract §7a "One leader": a replica that lost its leadership cannot
 * write), a frozen replica, and the read-only observer. docs/replicas.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../src/engine/ports.js';
import type { EngineSnapshot } from '../src/engine/types.js';
import { migrate, MIGRATIONS } from '../src/engine/store/postgres/schema.js';
import { PostgresObserver } from '../src/engine/store/postgresObserver.js';
import { FencedError, POSTGRES_SCHEMA_VERSION, PostgresStore, PostgresStoreError, type PostgresStoreOptions } from '../src/engine/store/postgresStore.js';
import { compileForChildren, POSTGRES_INSTALLED, startPostgresCluster, type PostgresCluster } from './support/postgres.js';

let cluster: PostgresCluster;
let url: string;
let admin: pg.Client;
const opened: Array<{ close(): Promise<void> }> = [];
let schemas = 0;

/** Each test works in a schema of its own, so tests never see each other's tables. */
function freshSchema(): string {
  schemas += 1;
  return `t${schemas}`;
}

async function openStore(options: Partial<PostgresStoreOptions> & { schema: string }): Promise<PostgresStore> {
  const store = await PostgresStore.open({ connectionString: url, ...options });
  opened.push(store);
  return store;
}

async function leader(schema: string, options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = await openStore({ schema, ...options });
  expect(await store.leadership.acquire()).not.toBeNull();
  await store.load();
  return store;
}

async function observe(schema: string): Promise<PostgresObserver> {
  const observer = await PostgresObserver.open({ connectionString: url, schema });
  opened.push(observer);
  return observer;
}

function health(i: number): JournalEntry {
  return { at: 1_700_000_000_000 + i, input: { type: 'report.health', report: { node: `edge-${i}`, job: 'default/web', version: 2, healthy: i % 3 !== 0, error_rate: 0.01 } } };
}

function snapshotOf(tag: number): EngineSnapshot {
  return { format: 1, tag, nodes: { 'edge-1': { labels: { region: 'us-west' } } } };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

async function epochsInJournal(schema: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ epoch: string; n: string }>(`SELECT epoch, count(*) AS n FROM ${schema}.journal GROUP BY epoch`);
  return new Map(rows.map((row) => [Number(row.epoch), Number(row.n)]));
}

describe.skipIf(!POSTGRES_INSTALLED)('PostgresStore on a real PostgreSQL server', () => {
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    url = await cluster.createDatabase('fleet');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    for (const handle of opened.reverse()) await handle.close().catch(() => undefined);
    await admin?.end();
    cluster?.stop();
  });

  describe('schema: created, migrated and refused on open', () => {
    it('creates its tables in an empty schema, and replicas opening at once all succeed', async () => {
      const schema = freshSchema();
      await Promise.all([0, 1, 2, 3].map(() => openStore({ schema })));
      const { rows } = await admin.query(`SELECT key, value FROM ${schema}.meta ORDER BY key`);
      expect(rows).toEqual([
        { key: 'application', value: 'fleet-rollout' },
        { key: 'schema_version', value: String(POSTGRES_SCHEMA_VERSION) },
      ]);
    });

    it('migrates an older schema on open, then an older build refuses the newer schema', async () => {
      const schema = freshSchema();
      await (await openStore({ schema })).close();
      const client = await connectAdmin();
      try {
        const v2 = { version: 2, sql: (s: string) => `ALTER TABLE ${s}.journal ADD COLUMN source text` };
        await migrate(client, schema, 'test', [...MIGRATIONS, v2]);
      } finally {
        await client.end();
      }
      const { rows } = await admin.query(`SELECT value FROM ${schema}.meta WHERE key = 'schema_version'`);
      expect(rows).toEqual([{ value: '2' }]);
      const columns = await admin.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'journal'`, [schema]);
      expect(columns.rows.map((r) => r.column_name)).toContain('source');
      const refused = await rejection(openStore({ schema }));
      expect(refused).toBeInstanceOf(PostgresStoreError);
      expect(refused.message).toContain(`(schema ${schema}): was written by a newer fleet-rollout (store schema 2; this build reads up to ${POSTGRES_SCHEMA_VERSION}); upgrade fleet-rollout`);
      expect((await rejection(observe(schema))).message).toContain('newer fleet-rollout');
    });

    it('refuses a schema holding tables of another program, and touches nothing in it', async () => {
      const foreign = freshSchema();
      await admin.query(`CREATE SCHEMA ${foreign}; CREATE TABLE ${foreign}.accounts (id int)`);
      const refused = await rejection(openStore({ schema: foreign }));
      expect(refused).toBeInstanceOf(PostgresStoreError);
      expect(refused.message).toContain(`schema ${foreign} holds tables that are not a fleet-rollout store (accounts)`);
      const sameNames = freshSchema();
      await admin.query(`CREATE SCHEMA ${sameNames}; CREATE TABLE ${sameNames}.meta (key text, value text); INSERT INTO ${sameNames}.meta VALUES ('application', 'billing')`);
      expect((await rejection(openStore({ schema: sameNames }))).message).toContain('not a fleet-rollout store');
      const { rows } = await admin.query(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ($1, $2) ORDER BY 1`, [foreign, sameNames]);
      expect(rows.map((r) => r.t)).toEqual([`${foreign}.accounts`, `${sameNames}.meta`]);
    });

    it('refuses bad options before connecting, naming the field', async () => {
      const base = { connectionString: url, schema: freshSchema() };
      const message = async (options: object): Promise<string> => (await rejection(PostgresStore.open(options as PostgresStoreOptions))).message;
      expect(await message({ ...base, leaseMS: 5000 })).toMatch(/^PostgresStore options: leaseMS: unknown option \(a typo\?\); the options are connectionString, schema, leaseMs, renewMs, holder$/);
      expect(await message({ ...base, leaseMs: '15s' })).toContain('leaseMs: ');
      expect(await message({ ...base, leaseMs: 1000, renewMs: 600 })).toContain('renewMs: must be at most half of leaseMs');
      expect(await message({ ...base, schema: 'Robert"); DROP' })).toContain('schema: must be a lower-case SQL identifier');
      expect(await message({ connectionString: `${url.replace(/port=\d+/, 'port=1')}`, schema: 's' })).toMatch(/\(schema s\): cannot connect: /);
    });
  });

  describe('journal and snapshot', () => {
    it('entries come back in append order, equal to what was appended, from another replica too', async () => {
      const schema = freshSchema();
      const store = await leader(schema);
      const entries = [health(1), health(2), { at: 5.5, input: { type: 'command', command: { type: 'promote', job: 'default/web' } } } satisfies JournalEntry, health(3)];
      for (const entry of entries) await store.append(entry);
      expect(await store.load()).toEqual({ snapshot: null, journal: entries });
      const other = await openStore({ schema });
      expect(await other.load()).toEqual({ snapshot: null, journal: entries });
    });

    it('compact replaces the snapshot and drops exactly the entries appended before it, even with writes still queued', async () => {
      const schema = freshSchema();
      const store = await leader(schema);
      // Not awaited one by one: the compaction is queued between appends and must cover only those before it.
      await Promise.all([store.append(health(1)), store.append(health(2)), store.compact(snapshotOf(1)), store.append(health(3))]);
      expect(await store.load()).toEqual({ snapshot: snapshotOf(1), journal: [health(3)] });
      await Promise.all([store.compact(snapshotOf(2)), store.appendBatch([health(4), health(5)])]);
      const reopened = await openStore({ schema });
      expect(await reopened.load()).toEqual({ snapshot: snapshotOf(2), journal: [health(4), health(5)] });
    });

    it('writes need the lease and a load in its epoch', async () => {
      const schema = freshSchema();
      const store = await openStore({ schema });
      const notLeader = await rejection(store.append(health(1)));
      expect(notLeader).toBeInstanceOf(FencedError);
      expect((notLeader as FencedError).reason).toBe('not_leader');
      await store.leadership.acquire();
      expect((await rejection(store.append(health(1)))).message).toMatch(/^load\(\) the store after acquiring epoch 1/);
      await store.load();
      await store.append(health(1));
      expect((await store.load()).journal).toEqual([health(1)]);
    });
  });

  describe('group commit', () => {
    it('concurrent appends share commits, and each is durable (visible to another connection) when its promise resolves', async () => {
      const schema = freshSchema();
      const store = await leader(schema);
      const watcher = await connectAdmin();
      const checks: Array<Promise<void>> = [];
      const appends = Array.from({ length: 2_000 }, (_, i) =>
        store.append(health(i)).then(() => {
          if (i % 250 === 0) {
            checks.push(
              watcher.query(`SELECT count(*)::int AS n FROM ${schema}.journal WHERE seq = $1`, [i + 1]).then(({ rows }) => {
                expect(rows[0].n, `entry ${i} resolved before it was committed`).toBe(1);
              }),
            );
          }
        }),
      );
      await Promise.all(appends);
      await Promise.all(checks);
      await watcher.end();
      expect(checks.length).toBe(8);
      const { commits, entries } = store.stats;
      expect(entries).toBe(2_000);
      expect(commits).toBe(1); // all 2,000 were appended in one tick
      expect((await store.load()).journal).toEqual(Array.from({ length: 2_000 }, (_, i) => health(i)));
    });

    it('appends arriving while a commit is under way go together into the next one', async () => {
      const schema = freshSchema();
      const store = await leader(schema);
      const first = store.append(health(0));
      await new Promise((resolve) => setImmediate(resolve)); // the first commit is now on its way
      const rest = Array.from({ length: 100 }, (_, i) => store.append(health(i + 1)));
      await Promise.all([first, ...rest]);
      expect(store.stats).toEqual({ commits: 2, entries: 101 });
    });
  });

  describe('§7a one leader: lease and fencing epoch', () => {
    it('while A holds the lease B cannot take it; when A releases, B leads in the next epoch', async () => {
      const schema = freshSchema();
      const a = await openStore({ schema, holder: 'a', leaseMs: 1_500, renewMs: 150 });
      const b = await openStore({ schema, holder: 'b', leaseMs: 1_500, renewMs: 150 });
      expect(await a.leadership.acquire()).toEqual({ holder: 'a', epoch: 1 });
      expect(await b.leadership.acquire()).toBeNull();
      // A renews: two lease lengths later B still has nothing.
      const waiting = b.leadership.waitForLease(AbortSignal.timeout(3_000));
      expect((await rejection(waiting)).name).toBe('TimeoutError');
      expect(a.leadership.isLeader()).toBe(true);
      await a.leadership.release();
      expect(await b.leadership.waitForLease()).toEqual({ holder: 'b', epoch: 2 });
      const observer = await observe(schema);
      expect(await observer.lease()).toMatchObject({ holder: 'b', epoch: 2 });
    });

    it('the database refuses a write of an older epoch: A believes it leads, B took over, A writes nothing', async () => {
      const schema = freshSchema();
      const a = await leader(schema, { holder: 'a', leaseMs: 60_000, renewMs: 10_000 });
      const b = await openStore({ schema, holder: 'b' });
      await a.append(health(1));
      const lost: Error[] = [];
      a.leadership.onLost((error) => lost.push(error));
      // A's renewals stop reaching the database (a partition): its lease runs out there while A's own view still says it leads.
      await admin.query(`UPDATE ${schema}.lease SET expires_at = clock_timestamp()`);
      expect(await b.leadership.acquire()).toMatchObject({ holder: 'b', epoch: 2, takeover: { from: 'a' } });
      expect(a.leadership.isLeader()).toBe(true);
      const refused = await rejection(Promise.all([a.append(health(2)), a.appendBatch([health(3), health(4)]), a.compact(snapshotOf(9))]));
      expect(refused).toBeInstanceOf(FencedError);
      expect(refused).toMatchObject({ reason: 'superseded', epoch: 1 });
      expect(refused.message).toContain('write of epoch 1 refused: epoch 2 (holder b) leads now');
      expect(a.leadership.isLeader()).toBe(false);
      expect(lost).toHaveLength(1);
      expect((await rejection(a.append(health(5)))).name).toBe('FencedError');
      await b.load();
      await b.append(health(6));
      expect(await epochsInJournal(schema)).toEqual(new Map([[1, 1], [2, 1]]));
      expect((await b.load()).journal).toEqual([health(1), health(6)]);
    });

    it('the database refuses a write whose lease ran out even when no one took over', async () => {
      const schema = freshSchema();
      const a = await leader(schema, { holder: 'a', leaseMs: 60_000, renewMs: 10_000 });
      await admin.query(`UPDATE ${schema}.lease SET expires_at = clock_timestamp()`);
      const refused = await rejection(a.append(health(1)));
      expect(refused).toMatchObject({ name: 'FencedError', reason: 'expired', epoch: 1 });
      expect(await epochsInJournal(schema)).toEqual(new Map());
    });

    it('the fence is in the database: a raw insert or snapshot write with a stale epoch fails with SQLSTATE FR001', async () => {
      const schema = freshSchema();
      const a = await leader(schema, { holder: 'a' });
      await a.leadership.release();
      await leader(schema, { holder: 'b' });
      const insert = await rejection(admin.query(`INSERT INTO ${schema}.journal VALUES (1, 1, 0, '{}')`));
      expect(insert).toMatchObject({ code: 'FR001' });
      const snapshot = await rejection(admin.query(`INSERT INTO ${schema}.snapshot (id, epoch, through_seq, body) VALUES (1, 1, 0, '{}')`));
      expect(snapshot).toMatchObject({ code: 'FR001' });
      await admin.query(`INSERT INTO ${schema}.journal VALUES (1, 2, 0, '{}')`); // the current epoch passes
    });

    it('a replica frozen (SIGSTOP) past its lease writes nothing after waking (SIGCONT); the standby leads in epoch + 1', async () => {
      const schema = freshSchema();
      const dist = compileForChildren();
      let child: ChildProcess | undefined;
      try {
        await (await openStore({ schema })).close(); // tables exist before the child and the standby race to them
        const leaseMs = 800;
        child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'postgres-frozen-writer.mjs'), url, schema, String(leaseMs), '200'], {
          env: { ...process.env, FLEET_ROLLOUT_DIST: dist },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const lines = linesOf(child);
        await lines.until((all) => all.filter((line) => line.startsWith('ack')).length >= 20);
        child.kill('SIGSTOP');
        const standby = await openStore({ schema, holder: 'standby', leaseMs, renewMs: 200 });
        const grant = await standby.leadership.waitForLease();
        expect(grant).toMatchObject({ holder: 'standby', epoch: 2, takeover: { from: 'frozen-writer' } });
        expect(grant.takeover!.afterExpiryMs).toBeLessThan(leaseMs); // woken by the expiry it was told, not by polling
        const { journal } = await standby.load();
        await standby.append(health(1_000));
        const beforeWaking = await epochsInJournal(schema);
        child.kill('SIGCONT');
        await lines.until((all) => all.some((line) => line.startsWith('fenced')));
        await new Promise((resolve) => child!.once('exit', resolve));
        const acked = lines.all.filter((line) => line.startsWith('ack')).length;
        // Every entry the frozen replica saw acknowledged is in the journal the standby loaded; it added none after.
        expect(journal.length).toBeGreaterThanOrEqual(acked);
        expect(await epochsInJournal(schema)).toEqual(beforeWaking);
        expect(beforeWaking.get(1)).toBe(journal.length);
        expect(beforeWaking.get(2)).toBe(1);
        expect(lines.all.at(-1)).toMatch(/^fenced (expired|superseded|not_leader)$/);
      } finally {
        if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
        rmSync(dist, { recursive: true, force: true });
      }
    });
  });

  describe('read-only observer', () => {
    it('reads whole commits while a writer writes, never a half-written batch, without the lease', async () => {
      const schema = freshSchema();
      const writer = await leader(schema);
      const observer = await observe(schema);
      const batches = 40;
      const writing = (async () => {
        for (let b = 0; b < batches; b++) await writer.appendBatch(Array.from({ length: 50 }, (_, i) => health(b * 50 + i)));
      })();
      const seen: number[] = [];
      let done = false;
      void writing.then(() => (done = true));
      while (!done) {
        const { journal } = await observer.load();
        seen.push(journal.length);
        expect(journal).toEqual(Array.from({ length: journal.length }, (_, i) => health(i)));
      }
      await writing;
      expect(seen.every((n) => n % 50 === 0)).toBe(true);
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(new Set(seen).size).toBeGreaterThan(2);
      expect((await observer.load()).journal).toHaveLength(batches * 50);
      expect(await observer.lease()).toMatchObject({ holder: writer.holder, epoch: 1 });
    });

    it('refuses a schema with no store in it instead of creating one', async () => {
      const schema = freshSchema();
      const refused = await rejection(observe(schema));
      expect(refused.message).toContain('holds no fleet-rollout store yet; start a replica (a writer) on it first');
      const { rows } = await admin.query('SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = $1', [schema]);
      expect(rows[0].n).toBe(0);
    });
  });
});

async function connectAdmin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

function linesOf(child: ChildProcess): { all: string[]; until(done: (all: string[]) => boolean): Promise<void> } {
  const all: string[] = [];
  const stderr: string[] = [];
  let wake = (): void => undefined;
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    all.push(...complete);
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.on('exit', () => wake());
  return {
    all,
    until: (done) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (done(all)) resolve();
          else if (child.exitCode !== null) reject(new Error(`the child exited (${child.exitCode}) first:\n${all.join('\n')}\n${stderr.join('')}`));
        };
        wake = check;
        check();
      }),
  };
}
