/**
 * A durable `Store` in one SQLite file (better-sqlite3, synchronous).
 *
 * Durability: WAL journal; by default `synchronous = FULL`, so every `append`
 * is fsynced before it returns and survives a SIGKILL *and* a power loss or
 * kernel crash. `synchronous: 'normal'` skips the fsync: an append still
 * survives a SIGKILL of the process (it is in the OS's hands when `append`
 * returns) but the last ones may be lost on power loss. Measured on the dev VM:
 * FULL ~6,600 appends/s on a quiet disk, ~300/s under heavy I/O from other
 * processes; NORMAL 40,000-100,000/s. Every health report is an append, so a
 * fleet sending more reports a second than FULL sustains wants NORMAL.
 *
 * Single writer, many observers: the writer holds an exclusive transaction
 * on a companion lock file (`FILE-lock`, kept next to the store) for as long
 * as it is open, so a second engine on the same store fails at open instead
 * of interleaving two journals, while the store itself uses SQLite's normal
 * WAL locking: an observer (`SqliteStoreReader`, e.g. `fleet-rollout
 * watch`) reads committed state while the writer appends, and never writes.
 * The OS drops the lock when the owning process dies, so a restart after a
 * crash opens at once. The lock file is never deleted: deleting it could let
 * a waiting opener lock the old file while a third one locks a new one.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Heartbeat, JournalEntry, Store } from '../ports.js';
import type { EngineSnapshot } from '../types.js';

/** Written in `meta` so that a foreign SQLite file is never mistaken for ours. */
const APPLICATION = 'fleet-rollout';
/** Bump when the tables change; an older build refuses a newer file. */
export const SQLITE_SCHEMA_VERSION = 1;
// How long to wait for a lock held by another process (e.g. one still shutting down).
const BUSY_TIMEOUT_MS = 1000;

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
  CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
  CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL, delivered INTEGER);
`;

export interface SqliteStoreOptions {
  /** `full` (default): survives power loss; `normal`: survives a process crash only, much faster. */
  synchronous?: 'full' | 'normal';
  /**
   * Keep every journal entry: compaction moves the entries its snapshot covers
   * to a `journal_archive` table instead of deleting them, so the whole history
   * stays readable (`SqliteStoreReader.history()`, `fleet-rollout replay`). The
   * file grows with every input; recovery still reads only snapshot and journal.
   * Default false; once a file archives, every later store on it does too.
   */
  archive?: boolean;
}

const optionsSchema = z.strictObject({ synchronous: z.enum(['full', 'normal']).optional(), archive: z.boolean().optional() });

/** Created by the first store opened with `archive`; `complete` says whether it holds every entry since the file was created. */
// Its own numbering: the journal's `seq` starts again after each compaction empties it.
const ARCHIVE_SCHEMA = `CREATE TABLE IF NOT EXISTS journal_archive (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL, delivered INTEGER)`;

/** A typo (`{synchronous: 'FULL'}`, `{sync: 'full'}`) is an error naming the field, never a silent default. */
function checkOptions(file: string, options: unknown): SqliteStoreOptions {
  const result = optionsSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
  throw new StoreFileError(file, `SqliteStore option ${field}: ${issue.message}`);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  /** Held open, inside its exclusive transaction, until `close`. */
  private readonly writerLock: Database.Database;
  private readonly insertEntry: Database.Statement<[number, string, number | null]>;
  private readonly appendTx: (entries: readonly JournalEntry[]) => void;
  private readonly setHeartbeat: Database.Statement<[string]>;
  private readonly compactTx: (snapshot: EngineSnapshot) => void;

  /** Opens `file`, creating it (and its tables) when it does not exist. Throws `StoreFileError`. */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    const { synchronous = 'full', archive = false } = checkOptions(file, options);
    this.db = openDatabase(file);
    let lock: Database.Database | null = null;
    try {
      const kind = identify(this.db, file);
      lock = acquireWriterLock(file);
      prepareFile(this.db, kind, synchronous);
      // Once a file archives, it keeps archiving: a later open without the option must not leave a gap.
      if (archive || archiveState(this.db) !== undefined) prepareArchive(this.db);
    } catch (error) {
      lock?.close();
      this.db.close();
      throw error;
    }
    this.writerLock = lock;
    this.insertEntry = this.db.prepare('INSERT INTO journal (at, input, delivered) VALUES (?, ?, ?)');
    this.appendTx = this.db.transaction((entries: readonly JournalEntry[]) => {
      for (const entry of entries) this.insertEntry.run(entry.at, JSON.stringify(entry.input), entry.delivered ?? null);
    });
    this.setHeartbeat = this.db.prepare("INSERT INTO meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    const upsertSnapshot = this.db.prepare<[string]>(
      'INSERT INTO snapshot (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
    );
    const archiveJournal = archiveState(this.db) !== undefined ? this.db.prepare('INSERT INTO journal_archive (at, input, delivered) SELECT at, input, delivered FROM journal ORDER BY seq') : null;
    const clearJournal = this.db.prepare('DELETE FROM journal');
    // One transaction: a crash leaves either the old snapshot and its journal, or the new snapshot alone.
    this.compactTx = this.db.transaction((snapshot: EngineSnapshot) => {
      upsertSnapshot.run(JSON.stringify(snapshot));
      archiveJournal?.run();
      clearJournal.run();
    });
  }

  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat } {
    return loadState(this.db, this.file);
  }

  append(entry: JournalEntry): void {
    this.insertEntry.run(entry.at, JSON.stringify(entry.input), entry.delivered ?? null);
  }

  /** One transaction: one fsync for all of them. */
  appendBatch(entries: readonly JournalEntry[]): void {
    this.appendTx(entries);
  }

  /** One row of `meta`, overwritten: durable like an append. */
  heartbeat(beat: Heartbeat): void {
    this.setHeartbeat.run(JSON.stringify({ at: beat.at, delivered: beat.delivered }));
  }

  compact(snapshot: EngineSnapshot): void {
    this.compactTx(snapshot);
  }

  close(): void {
    if (this.db.open) this.db.close();
    if (this.writerLock.open) this.writerLock.close(); // after the store: the next writer finds it closed
  }
}

/**
 * A read-only observer of a store another process may be writing: it sees
 * each committed append and compaction, and cannot write (the file is opened
 * read-only). Throws `StoreFileError` for a missing or foreign file.
 */
export class SqliteStoreReader {
  private readonly db: Database.Database;
  private ours = false;

  constructor(readonly file: string) {
    try {
      this.db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'SQLITE_CANTOPEN') throw new StoreFileError(file, 'no such store (a fleet-rollout SQLite store is created by the engine that writes it)');
      throw new StoreFileError(file, `cannot open: ${(error as Error).message}`);
    }
    try {
      this.ours = identify(this.db, file) === 'ours'; // refuses a foreign file at once; an empty one may be a writer setting up
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Changes whenever another connection committed (SQLite's `data_version`): poll it, load only when it moved. */
  version(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The snapshot and journal as committed now; null while the writer has not created the tables yet. */
  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat } | null {
    if (!this.ours) {
      if (identify(this.db, this.file) === 'empty') return null;
      this.ours = true;
    }
    return loadState(this.db, this.file);
  }

  /**
   * Every journal entry since the file was created, from the archive and the
   * journal (one read transaction), when the store was written with `archive`
   * from its first compaction on; null otherwise (then compacted entries are gone).
   */
  history(): { journal: JournalEntry[] } | null {
    if (this.load() === null) return null;
    if (archiveState(this.db) !== 'complete') return null;
    const read = this.db.transaction(() => [
      ...this.db.prepare<[], EntryRow>('SELECT seq, at, input, delivered FROM journal_archive ORDER BY seq').all(),
      ...this.db.prepare<[], EntryRow>('SELECT seq, at, input, delivered FROM journal ORDER BY seq').all(),
    ]);
    return { journal: read().map((row) => entryOf(this.file, row)) };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface EntryRow {
  seq: number;
  at: number;
  input: string;
  delivered: number | null;
}

function entryOf(file: string, row: EntryRow): JournalEntry {
  return {
    at: row.at,
    input: parseJson(file, row.input, `journal entry ${row.seq}`) as JournalEntry['input'],
    ...(row.delivered === null ? {} : { delivered: row.delivered }),
  };
}

function archiveState(db: Database.Database): string | undefined {
  return db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'archive'").get()?.value;
}

/**
 * The archive table, once: it is complete when it starts before anything was
 * compacted (no snapshot yet), partial otherwise (said by `meta.archive`).
 */
function prepareArchive(db: Database.Database): void {
  db.transaction(() => {
    if (archiveState(db) !== undefined) return;
    db.exec(ARCHIVE_SCHEMA);
    const compacted = db.prepare('SELECT 1 FROM snapshot WHERE id = 1').get() !== undefined;
    db.prepare<[string]>("INSERT INTO meta (key, value) VALUES ('archive', ?)").run(compacted ? 'partial' : 'complete');
  })();
}

/** One read transaction: the snapshot and the journal that follows it, never a mix of two compactions. */
function loadState(db: Database.Database, file: string): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat } {
  // Files written before the outbox (§7a) have no `delivered` column; a read-only observer cannot add it.
  const delivered = db.prepare<[], { name: string }>('PRAGMA table_info(journal)').all().some((c) => c.name === 'delivered');
  const read = db.transaction(() => ({
    snapshot: db.prepare<[], { body: string }>('SELECT body FROM snapshot WHERE id = 1').get(),
    rows: db
      .prepare<[], { seq: number; at: number; input: string; delivered: number | null }>(`SELECT seq, at, input, ${delivered ? 'delivered' : 'NULL AS delivered'} FROM journal ORDER BY seq`)
      .all(),
    beat: db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'heartbeat'").get(),
  }));
  const { snapshot, rows, beat } = read();
  return {
    snapshot: snapshot === undefined ? null : (parseJson(file, snapshot.body, 'the snapshot') as EngineSnapshot),
    journal: rows.map((row) => entryOf(file, row)),
    ...(beat === undefined ? {} : { heartbeat: parseJson(file, beat.value, 'the heartbeat') as Heartbeat }),
  };
}

function parseJson(file: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreFileError(file, `${what} is not valid JSON; the file is damaged`);
  }
}

function openDatabase(file: string): Database.Database {
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
function acquireWriterLock(file: string): Database.Database {
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

/** Sets durability and, in an empty file, the schema; `identify` has checked that the file is ours or empty. */
function prepareFile(db: Database.Database, kind: 'empty' | 'ours', synchronous: 'full' | 'normal'): void {
  db.pragma('journal_mode = WAL');
  db.pragma(synchronous === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  if (kind === 'empty') {
    db.transaction(() => {
      db.exec(SCHEMA);
      const setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)');
      setMeta.run('application', APPLICATION);
      setMeta.run('schema_version', String(SQLITE_SCHEMA_VERSION));
    })();
  } else if (!db.prepare<[], { name: string }>('PRAGMA table_info(journal)').all().some((c) => c.name === 'delivered')) {
    // A file from before the outbox (§7a): the column is nullable, so older builds still read and write the file.
    db.exec('ALTER TABLE journal ADD COLUMN delivered INTEGER');
  }
}

function identify(db: Database.Database, file: string): 'empty' | 'ours' {
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
