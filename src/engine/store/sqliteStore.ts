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
 * Single writer: the file is opened in EXCLUSIVE locking mode, so a second
 * engine on the same file fails at open instead of interleaving two journals.
 * The OS drops the lock when the owning process dies, so a restart after a
 * crash opens at once.
 */
import Database from 'better-sqlite3';
import type { JournalEntry, Store } from '../ports.js';
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
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
  CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL);
`;

export interface SqliteStoreOptions {
  /** `full` (default): survives power loss; `normal`: survives a process crash only, much faster. */
  synchronous?: 'full' | 'normal';
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly insertEntry: Database.Statement<[number, string]>;
  private readonly selectSnapshot: Database.Statement<[], { body: string }>;
  private readonly selectJournal: Database.Statement<[], { seq: number; at: number; input: string }>;
  private readonly compactTx: (snapshot: EngineSnapshot) => void;

  /** Opens `file`, creating it (and its tables) when it does not exist. Throws `StoreFileError`. */
  constructor(
    readonly file: string,
    options: SqliteStoreOptions = {},
  ) {
    this.db = openDatabase(file);
    try {
      prepareFile(this.db, file, options.synchronous ?? 'full');
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.insertEntry = this.db.prepare('INSERT INTO journal (at, input) VALUES (?, ?)');
    this.selectSnapshot = this.db.prepare('SELECT body FROM snapshot WHERE id = 1');
    this.selectJournal = this.db.prepare('SELECT seq, at, input FROM journal ORDER BY seq');
    const upsertSnapshot = this.db.prepare<[string]>(
      'INSERT INTO snapshot (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body',
    );
    const clearJournal = this.db.prepare('DELETE FROM journal');
    // One transaction: a crash leaves either the old snapshot and its journal, or the new snapshot alone.
    this.compactTx = this.db.transaction((snapshot: EngineSnapshot) => {
      upsertSnapshot.run(JSON.stringify(snapshot));
      clearJournal.run();
    });
  }

  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[] } {
    const read = this.db.transaction(() => ({
      snapshot: this.selectSnapshot.get(),
      rows: this.selectJournal.all(),
    }));
    const { snapshot, rows } = read();
    return {
      snapshot: snapshot === undefined ? null : (this.parse(snapshot.body, 'the snapshot') as EngineSnapshot),
      journal: rows.map((row) => ({ at: row.at, input: this.parse(row.input, `journal entry ${row.seq}`) as JournalEntry['input'] })),
    };
  }

  append(entry: JournalEntry): void {
    this.insertEntry.run(entry.at, JSON.stringify(entry.input));
  }

  compact(snapshot: EngineSnapshot): void {
    this.compactTx(snapshot);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private parse(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw new StoreFileError(this.file, `${what} is not valid JSON; the file is damaged`);
    }
  }
}

function openDatabase(file: string): Database.Database {
  try {
    const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // Must precede the first read: in WAL mode it also keeps SQLite off shared memory.
    db.pragma('locking_mode = EXCLUSIVE');
    return db;
  } catch (error) {
    throw new StoreFileError(file, `cannot open: ${(error as Error).message}`);
  }
}

/** Checks that `file` is ours (or empty) before changing anything in it, then sets durability and the schema. */
function prepareFile(db: Database.Database, file: string, synchronous: 'full' | 'normal'): void {
  const kind = identify(db, file);
  db.pragma('journal_mode = WAL');
  db.pragma(synchronous === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  if (kind === 'empty') {
    db.transaction(() => {
      db.exec(SCHEMA);
      const setMeta = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)');
      setMeta.run('application', APPLICATION);
      setMeta.run('schema_version', String(SQLITE_SCHEMA_VERSION));
    })();
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
