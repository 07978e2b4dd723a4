/**
 * The store's tables, in a PostgreSQL schema of their own, and the migrations
 * that create or upgrade them on open. `meta` says whose tables these are and
 * at which version; an older build refuses a newer schema, and a schema
 * holding tables that are not ours is never touched.
 *
 * Fencing lives in the database: a trigger on every journal insert and
 * snapshot write compares the epoch the row carries with the lease row
 * (locked `FOR SHARE` until the write commits, so a takeover waits for it or
 * it sees the takeover) and raises SQLSTATE FR001 when the epoch is not the
 * current one or its lease ran out (`clock_timestamp()`: database time, never
 * a replica's clock).
 */
import type pg from 'pg';
import { FENCED_SQLSTATE, PostgresStoreError } from './errors.js';

/** Written in `meta` so that tables of another program are never mistaken for ours. */
export const APPLICATION = 'fleet-rollout';

export interface Migration {
  /** The schema version this migration brings the tables to (1, 2, ...). */
  version: number;
  /** SQL run in the open transaction; `s` is the quoted schema name. */
  sql(s: string): string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: (s) => `
      CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE ${s}.lease (
        id int PRIMARY KEY CHECK (id = 1),
        holder text,
        epoch bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        renewed_at timestamptz NOT NULL
      );
      INSERT INTO ${s}.lease VALUES (1, NULL, 0, to_timestamp(0), to_timestamp(0));
      CREATE TABLE ${s}.snapshot (
        id int PRIMARY KEY CHECK (id = 1),
        epoch bigint NOT NULL,
        through_seq bigint NOT NULL,
        body json NOT NULL,
        written_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE TABLE ${s}.journal (seq bigint PRIMARY KEY, epoch bigint NOT NULL, at double precision NOT NULL, input json NOT NULL);

      CREATE FUNCTION ${s}.fence(writer bigint) RETURNS void LANGUAGE plpgsql AS $fence$
      DECLARE
        lease ${s}.lease%ROWTYPE;
      BEGIN
        SELECT * INTO lease FROM ${s}.lease WHERE id = 1 FOR SHARE;
        IF lease.epoch <> writer THEN
          RAISE EXCEPTION 'write of epoch % refused: epoch % (holder %) leads now', writer, lease.epoch, coalesce(lease.holder, 'none')
            USING ERRCODE = '${FENCED_SQLSTATE}', HINT = 'superseded';
        ELSIF lease.holder IS NULL OR lease.expires_at <= clock_timestamp() THEN
          RAISE EXCEPTION 'write of epoch % refused: its lease expired at %', writer, lease.expires_at
            USING ERRCODE = '${FENCED_SQLSTATE}', HINT = 'expired';
        END IF;
      END
      $fence$;

      CREATE FUNCTION ${s}.fence_journal() RETURNS trigger LANGUAGE plpgsql AS $fence$
      DECLARE
        writer bigint;
      BEGIN
        IF (SELECT count(DISTINCT epoch) FROM added) > 1 THEN
          RAISE EXCEPTION 'one statement wrote journal entries of several epochs' USING ERRCODE = '${FENCED_SQLSTATE}', HINT = 'superseded';
        END IF;
        SELECT epoch INTO writer FROM added LIMIT 1;
        IF writer IS NOT NULL THEN PERFORM ${s}.fence(writer); END IF;
        RETURN NULL;
      END
      $fence$;
      CREATE TRIGGER journal_insert_fenced AFTER INSERT ON ${s}.journal
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ${s}.fence_journal();
      CREATE TRIGGER journal_update_fenced AFTER UPDATE ON ${s}.journal
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ${s}.fence_journal();

      CREATE FUNCTION ${s}.fence_snapshot() RETURNS trigger LANGUAGE plpgsql AS $fence$
      BEGIN
        PERFORM ${s}.fence(NEW.epoch);
        RETURN NEW;
      END
      $fence$;
      CREATE TRIGGER snapshot_fenced BEFORE INSERT OR UPDATE ON ${s}.snapshot
        FOR EACH ROW EXECUTE FUNCTION ${s}.fence_snapshot();
    `,
  },
];

export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

type Found = { kind: 'empty' } | { kind: 'ours'; version: number };

/**
 * Creates or upgrades the tables of `schema` to the newest of `migrations`, in
 * one transaction. A transaction-scoped advisory lock serializes replicas that
 * open at the same moment (released at COMMIT, so it is safe behind a
 * transaction-pooling proxy).
 */
export async function migrate(client: pg.ClientBase, schema: string, target: string, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const newest = migrations.at(-1)!.version;
  const s = client.escapeIdentifier(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${APPLICATION}:${schema}`]);
    const found = await identify(client, schema, target);
    const from = found.kind === 'empty' ? 0 : found.version;
    if (from > newest) throw newerError(target, from, newest);
    if (from === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    for (const migration of migrations.filter((m) => m.version > from)) await client.query(migration.sql(s));
    if (from === 0) await client.query(`INSERT INTO ${s}.meta (key, value) VALUES ('application', $1), ('schema_version', $2)`, [APPLICATION, String(newest)]);
    else if (from < newest) await client.query(`UPDATE ${s}.meta SET value = $1 WHERE key = 'schema_version'`, [String(newest)]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** For a read-only observer: the tables must exist at exactly this build's version (it never migrates). */
export async function checkSchema(client: pg.ClientBase, schema: string, target: string): Promise<void> {
  const found = await identify(client, schema, target);
  if (found.kind === 'empty') throw new PostgresStoreError(target, 'holds no fleet-rollout store yet; start a replica (a writer) on it first, it creates the tables');
  if (found.version > POSTGRES_SCHEMA_VERSION) throw newerError(target, found.version, POSTGRES_SCHEMA_VERSION);
  if (found.version < POSTGRES_SCHEMA_VERSION) {
    throw new PostgresStoreError(target, `holds store schema ${found.version}, older than this build's ${POSTGRES_SCHEMA_VERSION}; start a replica of this build on it once to migrate it`);
  }
}

async function identify(client: pg.ClientBase, schema: string, target: string): Promise<Found> {
  const tables = (await client.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1', [schema])).rows.map((r) => r.name);
  if (tables.length === 0) return { kind: 'empty' };
  const notOurs = new PostgresStoreError(target, `schema ${schema} holds tables that are not a fleet-rollout store (${tables.slice(0, 5).join(', ')}); pass another schema or database`);
  if (!tables.includes('meta')) throw notOurs;
  let meta: Map<string, string>;
  try {
    const rows = (await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${client.escapeIdentifier(schema)}.meta`)).rows;
    meta = new Map(rows.map((row) => [row.key, row.value]));
  } catch {
    throw notOurs; // a `meta` table of some other shape
  }
  if (meta.get('application') !== APPLICATION) throw notOurs;
  const version = Number(meta.get('schema_version'));
  if (!Number.isInteger(version) || version < 1) throw new PostgresStoreError(target, `has an unreadable store schema version ${JSON.stringify(meta.get('schema_version'))}`);
  return { kind: 'ours', version };
}

function newerError(target: string, found: number, newest: number): PostgresStoreError {
  return new PostgresStoreError(target, `was written by a newer fleet-rollout (store schema ${found}; this build reads up to ${newest}); upgrade fleet-rollout`);
}
