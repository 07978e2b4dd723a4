/**
 * The SQLite store's file: its tables, how a file is recognised as ours and
 * brought up to this build's schema, the single-writer lock, and the one
 * consistent read of the state (snapshot, journal after it, heartbeat) that
 * the writer, its observers and the compactor's worker share.
 *
 * The snapshot covers the journal up to `snapshot.through_seq`: journal rows
 * with a greater `seq` follow it, rows at or below it are covered and only
 * wait to be trimmed (archived first when the file archives). Its JSON is
 * either `snapshot.body` (a synchronous compaction) or, when `parts` > 0,
 * deflated (zlib) UTF-8 bytes split over the `snapshot_part` rows of its
 * `through_seq`, in `idx` order (a background compaction writes them one
 * short transaction each before it switches the snapshot over; parts of any
 * other `through_seq` are leftovers of a compaction that never finished,
 * ignored and cleaned up). Deflated, a 10k-node snapshot of 2.7 MB is ~0.2
 * MB: one part, and little for the engine's thread to write.
 *
 * A journal row holds one entry (`batch` NULL: `input` is its input) or a
 * run of `batch` consecutive entries with the same `at` and `delivered` (a
 * batch call's inputs, a group commit's): `input` is then the JSON array of
 * their inputs, and `seq` is the last one's, so the rows' `seq` still count
 * entries, without gaps. One string and one row for a batch of 1,000, not
 * 1,000 of each (`SqliteStore.appendBatch`).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Heartbeat, JournalEntry } from '../ports.js';
import type { EngineSnapshot } from '../types.js';

/** Written in `meta` so that a foreign SQLite file is never mistaken for ours. */
const APPLICATION = 'fleet-rollout';
/**
 * Bump when the tables change; an older build refuses a newer file. 2: the
 * snapshot says through which `seq` it covers the journal and may come in
 * parts; a schema-1 build would replay covered rows, so it must refuse.
 * 3: a journal row may hold a run of entries (`batch`); a schema-2 build
 * would read the run as one input it cannot apply.
 */
export const SQLITE_SCHEMA_VERSION = 3;
/** Bytes a WAL file is cut back to when it starts over: a few checkpoints' worth, so the usual one is reused, not regrown. */
const WAL_SIZE_LIMIT = 16 * 1024 * 1024;
// How long to wait for a lock held by another process (e.g. one still shutting down).
export const BUSY_TIMEOUT_MS = 1000;

/** The file cannot be used as a fleet-rollout store; `file` names it, `message` says why and what to do. */
export class StoreFileError extends Error {
  override readonly name = 'StoreFileError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL, through_seq INTEGER NOT NULL DEFAULT 0, parts INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL, delivered INTEGER, batch INTEGER);
`;
// Large rows: a rowid table (the primary key becomes an index), not WITHOUT ROWID.
const PARTS_SCHEMA = `CREATE TABLE IF NOT EXISTS snapshot_part (through_seq INTEGER NOT NULL, idx INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (through_seq, idx))`;

/** Created by the first store opened with `archive`; `complete` says whether it holds every entry since the file was created. Its own numbering. */
const ARCHIVE_SCHEMA = `CREATE TABLE IF NOT EXISTS journal_archive (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL, delivered INTEGER, batch INTEGER)`;

export interface StoredState {
  snapshot: EngineSnapshot | null;
  /** The entries after the snapshot, in append order. */
  journal: JournalEntry[];
  heartbeat?: Heartbeat;
  /** The journal's `seq` the snapshot covers (0: none). */
  throughSeq: number;
}

export interface EntryRow {
  seq: number;
  at: number;
  input: string;
  delivered: number | null;
  /** NULL: one entry; otherwise `input` holds this many. */
  batch: number | null;
}

/** The row's entries, pushed onto `into`. */
export function entriesOf(file: string, row: EntryRow, into: JournalEntry[] = []): JournalEntry[] {
  const what = row.batch === null ? `journal entry ${row.seq}` : `journal entries ${row.seq - row.batch + 1}-${row.seq}`;
  return pushEntries(file, what, row, parseJson(file, row.input, what), into);
}

/**
 * A row's entries, pushed onto `into`, from its parsed `input`: the input
 * itself, or for a run (`batch` not NULL) the array of its `batch` inputs,
 * checked, as a damaged run would replay the wrong number of entries.
 */
export function pushEntries(file: string, what: string, row: Pick<EntryRow, 'at' | 'delivered' | 'batch'>, parsed: unknown, into: JournalEntry[]): JournalEntry[] {
  const { at, delivered, batch } = row;
  if (batch === null) {
    into.push(delivered === null ? { at, input: parsed as JournalEntry['input'] } : { at, input: parsed as JournalEntry['input'], delivered });
    return into;
  }
  if (!Array.isArray(parsed) || parsed.length !== batch) throw new StoreFileError(file, `${what}: not ${batch} inputs; the file is damaged`);
  for (const input of parsed as JournalEntry['input'][]) into.push(delivered === null ? { at, input } : { at, input, delivered });
  return into;
}

function columnsOf(db: Database.Database, table: string): Set<string> {
  return new Set(db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all().map((c) => c.name));
}

/**
 * One read transaction: the snapshot and the journal that follows it, never
 * a mix of two compactions. `upTo`: only the entries through that `seq` (the
 * compactor's worker). Reads files of schema 1 too (a read-only observer
 * cannot upgrade them): no `delivered` column before the outbox (§7a), no
 * `through_seq` before background compaction (their journal always followed
 * the snapshot whole).
 */
export function readStored(db: Database.Database, file: string, upTo = Number.MAX_SAFE_INTEGER): StoredState {
  const journal = columnsOf(db, 'journal');
  const snapshot = columnsOf(db, 'snapshot');
  const parted = snapshot.has('through_seq');
  const read = db.transaction(() => {
    const row = db
      .prepare<[], { body: string; through_seq: number; parts: number }>(`SELECT body, ${parted ? 'through_seq, parts' : '0 AS through_seq, 0 AS parts'} FROM snapshot WHERE id = 1`)
      .get();
    const throughSeq = row?.through_seq ?? 0;
    const parts = row === undefined || row.parts === 0 ? [] : db.prepare<[number], { body: Buffer }>('SELECT body FROM snapshot_part WHERE through_seq = ? ORDER BY idx').all(throughSeq);
    const rows = db
      .prepare<[number, number], EntryRow>(
        `SELECT seq, at, input, ${journal.has('delivered') ? 'delivered' : 'NULL AS delivered'}, ${journal.has('batch') ? 'batch' : 'NULL AS batch'} FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq`,
      )
      .all(throughSeq, upTo);
    const beat = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'heartbeat'").get();
    return { row, parts, throughSeq, rows, beat };
  });
  const { row, parts, throughSeq, rows, beat } = read();
  if (row !== undefined && row.parts !== parts.length) throw new StoreFileError(file, `the snapshot has ${parts.length} of its ${row.parts} parts; the file is damaged`);
  const body = row === undefined ? null : row.parts === 0 ? row.body : snapshotJson(file, parts.map((part) => part.body));
  return {
    snapshot: body === null ? null : (parseJson(file, body, 'the snapshot') as EngineSnapshot),
    journal: rows.reduce<JournalEntry[]>((entries, row) => entriesOf(file, row, entries), []),
    ...(beat === undefined ? {} : { heartbeat: parseJson(file, beat.value, 'the heartbeat') as Heartbeat }),
    throughSeq,
  };
}

/** A snapshot's JSON as its parts hold it: UTF-8, deflated (the compactor's worker writes it, off the engine's thread). */
export function snapshotBytes(json: string): Uint8Array {
  return deflateSync(json, { level: 1 });
}

function snapshotJson(file: string, parts: Buffer[]): string {
  try {
    return inflateSync(Buffer.concat(parts)).toString('utf8');
  } catch {
    throw new StoreFileError(file, 'the snapshot\'s parts do not inflate; the file is damaged');
  }
}

export function parseJson(file: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreFileError(file, `${what} is not valid JSON; the file is damaged`);
  }
}

export function archiveState(db: Database.Database): string | undefined {
  return db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'archive'").get()?.value;
}

/**
 * The archive table, once: it is complete when it starts before anything was
 * compacted (no snapshot yet), partial otherwise (said by `meta.archive`).
 */
export function prepareArchive(db: Database.Database): void {
  db.transaction(() => {
    if (archiveState(db) !== undefined) return;
    db.exec(ARCHIVE_SCHEMA);
    const compacted = db.prepare('SELECT 1 FROM snapshot WHERE id = 1').get() !== undefined;
    db.prepare<[string]>("INSERT INTO meta (key, value) VALUES ('archive', ?)").run(compacted ? 'partial' : 'complete');
  })();
}

export function openDatabase(file: string): Database.Database {
  try {
    return new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new StoreFileError(file, `cannot open: ${(error as Error).message}`);
  }
}

/**
 * The single-writer guard: an exclusive transaction on `FILE-lock`, held
 * until the store closes. Its journal stays in memory, so holding it writes
 * nothing to disk.
 */
export function acquireWriterLock(file: string): Database.Database {
  const lockFile = `${file}-lock`;
  let lock: Database.Database;
  try {
    lock = new Database(lockFile, { timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw new StoreFileError(file, `cannot open its lock file ${lockFile}: ${(error as Error).message}`);
  }
  try {
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN EXCLUSIVE');
    return lock;
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new StoreFileError(file, 'is in use by another process (one engine per store); stop it first');
    throw new StoreFileError(file, `cannot lock ${lockFile}: ${(error as Error).message}`);
  }
}

/**
 * Sets durability and, in an empty file, the schema; brings a schema-1 file
 * up to this one (one transaction; from then on older builds refuse it).
 * `identify` has checked that the file is ours or empty.
 */
export function prepareFile(db: Database.Database, kind: 'empty' | 'ours', synchronous: 'full' | 'normal'): void {
  db.pragma('journal_mode = WAL');
  db.pragma(synchronous === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  // A WAL that grew (a checkpoint held off by a reader) shrinks back to this when it starts over.
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  db.transaction(() => {
    if (kind === 'empty') {
      db.exec(SCHEMA);
      const setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)');
      setMeta.run('application', APPLICATION);
      setMeta.run('schema_version', String(SQLITE_SCHEMA_VERSION));
    }
    // A file from before the outbox (§7a).
    if (!columnsOf(db, 'journal').has('delivered')) db.exec('ALTER TABLE journal ADD COLUMN delivered INTEGER');
    // A file from before runs of entries in a row (schema 3).
    if (!columnsOf(db, 'journal').has('batch')) db.exec('ALTER TABLE journal ADD COLUMN batch INTEGER');
    const archive = columnsOf(db, 'journal_archive');
    if (archive.size > 0 && !archive.has('batch')) db.exec('ALTER TABLE journal_archive ADD COLUMN batch INTEGER');
    // A schema-1 file: its snapshot, if any, is in `body` and covers no journal row.
    if (!columnsOf(db, 'snapshot').has('through_seq')) {
      db.exec('ALTER TABLE snapshot ADD COLUMN through_seq INTEGER NOT NULL DEFAULT 0; ALTER TABLE snapshot ADD COLUMN parts INTEGER NOT NULL DEFAULT 0');
    }
    db.exec(PARTS_SCHEMA);
    db.prepare<[string, string]>("UPDATE meta SET value = ? WHERE key = 'schema_version' AND value <> ?").run(String(SQLITE_SCHEMA_VERSION), String(SQLITE_SCHEMA_VERSION));
  })();
}

export function identify(db: Database.Database, file: string): 'empty' | 'ours' {
  let tables: string[];
  try {
    tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((row) => row.name);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_NOTADB') throw new StoreFileError(file, 'is not a SQLite database; pass the path of a fleet-rollout store (or of a new file)');
    if (code === 'SQLITE_BUSY') throw new StoreFileError(file, 'is in use by another process (one engine per store); stop it first');
    throw new StoreFileError(file, `cannot read: ${(error as Error).message}`);
  }
  if (tables.length === 0) return 'empty';
  const notOurs = new StoreFileError(file, 'is a SQLite database but not a fleet-rollout store; pass the path of a fleet-rollout store (or of a new file)');
  if (!tables.includes('meta')) throw notOurs;
  let meta: Map<string, string>;
  try {
    const rows = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all();
    meta = new Map(rows.map((row) => [row.key, row.value]));
  } catch {
    throw notOurs; // a `meta` table of some other shape
  }
  if (meta.get('application') !== APPLICATION) throw notOurs;
  const version = Number(meta.get('schema_version'));
  if (!Number.isInteger(version) || version < 1) throw new StoreFileError(file, `has an unreadable schema version ${JSON.stringify(meta.get('schema_version'))}`);
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new StoreFileError(file, `was written by a newer fleet-rollout (store schema ${version}; this build reads up to ${SQLITE_SCHEMA_VERSION}); upgrade fleet-rollout`);
  }
  return 'ours';
}
