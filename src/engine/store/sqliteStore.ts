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
 *
 * Compaction: `compact(snapshot)` writes the engine's snapshot and drops the
 * journal in one transaction (a 10k-node snapshot: tens of ms). The engine
 * instead asks for `compactInBackground` when it can: once a snapshot was
 * large, a worker thread that keeps the state replayed from the file's
 * journal computes the snapshot, and this thread writes it in parts, a short
 * step inside each append's transaction (or on its own at a turn without
 * appends), then switches over and trims the covered rows; the worker also
 * does the WAL checkpoints (sqliteCompactor.ts). Either way a crash at any
 * moment leaves a file that loads exactly (sqliteFile.ts says how the tables
 * hold a snapshot and what it covers). `close` stops the worker; a
 * compaction it cut short leaves nothing the next open does not clean.
 */
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Heartbeat, JournalEntry, ReplayOptions, Store } from '../ports.js';
import type { EngineSnapshot } from '../types.js';
import { CoveredRows, SqliteCompactor } from './sqliteCompactor.js';
import {
  acquireWriterLock,
  archiveState,
  BUSY_TIMEOUT_MS,
  entriesOf,
  identify,
  openDatabase,
  prepareArchive,
  prepareFile,
  readStored,
  StoreFileError,
  type EntryRow,
} from './sqliteFile.js';

export { SQLITE_SCHEMA_VERSION, StoreFileError } from './sqliteFile.js';

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

/** Journal rows one INSERT statement writes, when a batch has that many. */
const INSERT_ROWS = 50;

const optionsSchema = z.strictObject({ synchronous: z.enum(['full', 'normal']).optional(), archive: z.boolean().optional() });

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
  private readonly insertEntry: Database.Statement<[number, number, string, number | null, number | null]>;
  /** Returns about how many bytes it wrote. */
  private readonly appendTx: (entries: readonly JournalEntry[]) => number;
  private readonly setHeartbeat: Database.Statement<[string]>;
  private readonly compactTx: (json: string, throughSeq: number) => void;
  private readonly compactor: SqliteCompactor;
  /**
   * The `seq` of the next journal entry: assigned here, so that it never goes
   * back below what a snapshot covers, however far the covered rows were trimmed.
   */
  private nextSeq: number;
  /** The engine's options, as its last request to compact in the background gave them (the worker's replay needs them). */
  private replay: ReplayOptions | undefined;

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
    const archives = archiveState(this.db) !== undefined;
    const stored = this.db.prepare<[], { through_seq: number; chars: number; parts: number }>('SELECT through_seq, length(body) AS chars, parts FROM snapshot WHERE id = 1').get();
    const throughSeq = stored?.through_seq ?? 0;
    const lastRow = this.db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal').get()?.seq ?? 0;
    this.nextSeq = Math.max(throughSeq, lastRow) + 1;
    const covered = new CoveredRows(this.db, archives);
    // What a compaction cut short by a crash left: parts never switched to, rows covered but not trimmed yet.
    this.db.transaction(() => {
      this.db.prepare<[number]>('DELETE FROM snapshot_part WHERE through_seq <> ? OR NOT EXISTS (SELECT 1 FROM snapshot WHERE parts > 0)').run(throughSeq);
      covered.trim(throughSeq);
    })();
    this.compactor = new SqliteCompactor(this.db, file, throughSeq, archives);
    // A snapshot in parts was large enough to be written in the background.
    if (stored !== undefined) this.compactor.sized(stored.parts > 0 ? Number.MAX_SAFE_INTEGER : stored.chars);
    this.insertEntry = this.db.prepare('INSERT INTO journal (seq, at, input, delivered, batch) VALUES (?, ?, ?, ?, ?)');
    // A background compaction's next step rides in the same transaction (sqliteCompactor.ts).
    // Rows go in `INSERT_ROWS` a statement: a third less time than a statement each.
    const insertRows = this.db.prepare(`INSERT INTO journal (seq, at, input, delivered, batch) VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?, ?, ?)').join(', ')}`);
    const values: unknown[] = new Array(5 * INSERT_ROWS);
    this.appendTx = this.db.transaction((entries: readonly JournalEntry[]) => {
      const rows = rowsOf(entries, this.nextSeq);
      let bytes = 0;
      const whole = rows.length - (rows.length % INSERT_ROWS);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        bytes += row.input.length;
        if (i >= whole) {
          this.insertEntry.run(row.seq, row.at, row.input, row.delivered, row.batch);
          continue;
        }
        const k = 5 * (i % INSERT_ROWS);
        values[k] = row.seq;
        values[k + 1] = row.at;
        values[k + 2] = row.input;
        values[k + 3] = row.delivered;
        values[k + 4] = row.batch;
        if (k === values.length - 5) insertRows.run(values);
      }
      this.compactor.step(true);
      return bytes;
    });
    this.setHeartbeat = this.db.prepare("INSERT INTO meta (key, value) VALUES ('heartbeat', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    const upsertSnapshot = this.db.prepare<[string, number]>(
      'INSERT INTO snapshot (id, body, through_seq, parts) VALUES (1, ?, ?, 0) ON CONFLICT (id) DO UPDATE SET body = excluded.body, through_seq = excluded.through_seq, parts = 0',
    );
    const dropParts = this.db.prepare('DELETE FROM snapshot_part');
    // One transaction: a crash leaves either the old snapshot and its journal, or the new snapshot (and maybe covered rows the worker replays next).
    this.compactTx = this.db.transaction((json: string, through: number) => {
      upsertSnapshot.run(json, through);
      dropParts.run();
      covered.trim(this.compactor.trimmable(through));
    });
  }

  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat } {
    const { throughSeq: _, ...state } = readStored(this.db, this.file);
    return state;
  }

  append(entry: JournalEntry): void {
    this.appendBatch([entry]);
  }

  /** One transaction: one fsync for all of them. */
  appendBatch(entries: readonly JournalEntry[]): void {
    this.compactor.beforeAppend();
    const bytes = this.appendTx(entries);
    this.nextSeq += entries.length;
    this.compactor.appended(bytes);
  }

  /** One row of `meta`, overwritten: durable like an append. */
  heartbeat(beat: Heartbeat): void {
    this.setHeartbeat.run(JSON.stringify({ at: beat.at, delivered: beat.delivered }));
  }

  /** The snapshot covers every entry appended so far; a background compaction under way is superseded. */
  compact(snapshot: EngineSnapshot): void {
    const through = this.nextSeq - 1;
    const json = JSON.stringify(snapshot);
    this.compactTx(json, through);
    this.compactor.compacted(through);
    this.compactor.sized(json.length, this.replay);
  }

  /**
   * Compacts every entry appended so far on a worker thread, which replays
   * this file's journal with `replay` (the engine's options); this thread
   * only writes the result, a short transaction at a time (see
   * sqliteCompactor.ts), then calls `settled`. False when one is under way,
   * when the last snapshot was small (under `BACKGROUND_FROM_CHARS`: compacting
   * it here costs less than the worker's lag) or the compiled worker is not
   * there (the sources run by a TypeScript loader).
   */
  compactInBackground(replay: ReplayOptions, settled: (error: Error | null) => void): boolean {
    this.replay = replay;
    return this.compactor.start(this.nextSeq - 1, replay, settled);
  }

  close(): void {
    this.compactor.close();
    if (this.db.open) {
      emptyWal(this.db);
      this.db.close();
    }
    if (this.writerLock.open) this.writerLock.close(); // after the store: the next writer finds it closed
  }
}

/**
 * The journal rows of `entries`, the first at `seq`: each run of
 * consecutive entries with the same `at` and `delivered` (a batch call's
 * inputs; in a group commit, those of one millisecond with nothing
 * delivered between them) is one row, its inputs one JSON array
 * (sqliteFile.ts): reading it back gives the same entries.
 */
function rowsOf(entries: readonly JournalEntry[], seq: number): EntryRow[] {
  const rows: EntryRow[] = [];
  for (let from = 0; from < entries.length; ) {
    const { at, delivered } = entries[from]!;
    let to = from + 1;
    while (to < entries.length && entries[to]!.at === at && entries[to]!.delivered === delivered) to++;
    const inputs = to - from === 1 ? entries[from]!.input : entries.slice(from, to).map((entry) => entry.input);
    seq += to - from;
    rows.push({ seq: seq - 1, at, input: JSON.stringify(inputs), delivered: delivered ?? null, batch: to - from === 1 ? null : to - from });
    from = to;
  }
  return rows;
}

/** Attempts at emptying the WAL on close, `CLOSE_RETRY_MS` apart: a checkpoint of the worker's (~10-30 ms) makes one busy. */
const CLOSE_ATTEMPTS = 20;
const CLOSE_RETRY_MS = 10;

/**
 * The WAL into the database and emptied. SQLite leaves that to whichever
 * connection closes last, and the worker's may outlive this one (a worker
 * stops asynchronously); a checkpoint it is running makes this one busy at
 * once (no busy handler for that), so it is tried again, briefly.
 */
function emptyWal(db: Database.Database): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; attempt <= CLOSE_ATTEMPTS; attempt++) {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    if (result?.busy === 0) return;
    Atomics.wait(pause, 0, 0, CLOSE_RETRY_MS);
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
    const { throughSeq: _, ...state } = readStored(this.db, this.file);
    return state;
  }

  /**
   * Every journal entry since the file was created, from the archive and the
   * journal (one read transaction), when the store was written with `archive`
   * from its first compaction on; null otherwise (then compacted entries are gone).
   * Rows a snapshot covers but not trimmed yet are still in the journal, not
   * the archive: a row moves to the archive in the transaction that trims it.
   */
  history(): { journal: JournalEntry[] } | null {
    if (this.load() === null) return null;
    if (archiveState(this.db) !== 'complete') return null;
    const read = this.db.transaction(() => [
      ...this.db.prepare<[], EntryRow>('SELECT seq, at, input, delivered, batch FROM journal_archive ORDER BY seq').all(),
      ...this.db.prepare<[], EntryRow>('SELECT seq, at, input, delivered, batch FROM journal ORDER BY seq').all(),
    ]);
    return { journal: read().reduce<JournalEntry[]>((entries, row) => entriesOf(this.file, row, entries), []) };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

