/**
 * Background compaction of a SqliteStore, the main thread's side. The
 * engine's thread never serializes its state: a worker thread
 * (sqliteCompactorWorker.ts), with its own connection, keeps the state
 * replayed from the file's journal and brings it to `seq` X the way
 * recovery would (the rows after what it holds, replayed), then hands back
 * its JSON deflated (a 10k-node snapshot: 2.7 MB of JSON, ~0.2 MB
 * deflated). This side then writes, one short step at a time (in the
 * transaction of each journal append, or on its own at a turn of the event
 * loop without one), so that an input never waits long behind it and the
 * compaction adds no fsync while the engine writes:
 *   1. each part (`snapshot_part`, keyed by X);
 *   2. the switch: the snapshot is now the parts of X, covering rows <= X;
 *   3. the previous snapshot's parts go, one at a time;
 *   4. the covered rows go, `TRIM_ROWS` at a time (archived first when the file archives).
 * A SIGKILL between any two leaves a file that loads exactly: before 2 the
 * old snapshot and its journal (stray parts are ignored, and cleaned at the
 * next open), after it the new snapshot and the rows after X.
 *
 * Checkpoints (copying the WAL into the database) are the worker's too: the
 * writer's automatic one would copy megabytes inside an append. Every
 * `CHECKPOINT_PAGES` written to the WAL, the worker checkpoints without
 * blocking the writer. The WAL starts over only once all of it was copied,
 * and the writer commits while the worker copies: so every `RESTART_PAGES`
 * this side copies what the worker's checkpoint left (a few pages) before
 * its next append, and the WAL stays small.
 *
 * A synchronous `compact` (the engine closing or recovering) supersedes a
 * compaction under way: its through-seq is then at least X, and the result
 * is dropped at its next step. Without the compiled worker file (the sources
 * run by a TypeScript loader) there is no background compaction, and the
 * writer checkpoints as SQLite does by default.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { ReplayOptions } from '../ports.js';

/** What the worker is asked: the snapshot of the journal through `throughSeq`, to replay the file as it is now (`prime`), or a checkpoint. */
export type WorkerRequest = { kind: 'compact'; id: number; throughSeq: number; replay: ReplayOptions } | { kind: 'prime'; replay: ReplayOptions } | { kind: 'checkpoint' };

/** `holds`: the `seq` through which the worker holds the replayed state (0: none); it reads the rows after it next time. */
export type CompactReply =
  /** The snapshot's JSON (`chars` long), UTF-8, deflated (sqliteFile.ts `snapshotBytes`), in a buffer transferred to this thread. */
  | { id: number; kind: 'snapshot'; bytes: Uint8Array; chars: number; holds: number }
  /** The store's snapshot already covers `throughSeq`. */
  | { id: number; kind: 'superseded'; holds: number }
  | { id: number; kind: 'failed'; message: string }
  /** This side then copies what was committed while the worker copied (a checkpoint sees the WAL as it was when it began). */
  | { kind: 'checkpointed' }
  | { kind: 'primed'; holds: number };

/** What the worker is started with. */
export interface CompactorSetup {
  file: string;
  /** Requests come in and replies go out on it (the main side can read a reply without the event loop). */
  port: MessagePort;
}

/** Bytes of the deflated snapshot a part holds: one part's write and fsync stays under a millisecond. */
export const PART_BYTES = 256 * 1024;
/** Covered journal rows deleted (and archived) in one write: ~0.7 ms on the dev VM. */
export const TRIM_ROWS = 1000;
/**
 * Characters of snapshot JSON from which compaction goes to the worker:
 * below, the engine's thread builds and writes it in under ~2 ms (~14 ns a
 * character on the dev VM), sooner than the worker would replay the
 * journal (a few hundred small deployments' worth of history; a fleet of
 * ~500 nodes). Until a snapshot was written its size is not known: the
 * first compaction of a store is synchronous.
 */
export const BACKGROUND_FROM_CHARS = 128 * 1024;

/** WAL pages written between two checkpoints by the worker: SQLite's own default (~4 MB). */
export const CHECKPOINT_PAGES = 1000;
/**
 * WAL pages written before this side finishes a checkpoint of the worker's,
 * so that the WAL starts over (~16 MB, the file's `journal_size_limit`): a
 * few pages copied and two fsyncs, ~1 ms, that often.
 */
export const RESTART_PAGES = 4 * CHECKPOINT_PAGES;
/** SQLite's page size (the default, which the store keeps). */
const PAGE_BYTES = 4096;

/** SQLite's default `wal_autocheckpoint`, given back to the writer when no worker checkpoints. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

const WORKER_FILE = new URL('./sqliteCompactorWorker.js', import.meta.url);

/** Where a compaction stands: waiting for the worker, then each a few short writes. */
type Stage = { kind: 'replaying' } | { kind: 'parts'; bytes: Uint8Array; next: number; count: number } | { kind: 'dropping' } | { kind: 'trimming' };

interface Job {
  id: number;
  throughSeq: number;
  stage: Stage;
  settled(error: Error | null): void;
}

export class SqliteCompactor {
  private worker: { thread: Worker; port: MessagePort } | null = null;
  private job: Job | null = null;
  private nextId = 1;
  private closed = false;
  private turnScheduled = false;
  /** A step rode on an append since the last turn: the turn makes none (no fsync of its own while the engine writes). */
  private appendedSinceTurn = false;
  /** WAL pages written since the worker was last asked to checkpoint; null while it is at it. */
  private sinceCheckpoint: number | null = 0;
  /** WAL pages written since the WAL last started over (about). */
  private sinceRestart = 0;
  /** The worker checkpointed and the WAL is long: what was committed meanwhile is copied before the next append, and the WAL starts over. */
  private finishCheckpoint = false;
  /** Characters of the last snapshot's JSON (0: none written yet). */
  private snapshotChars = 0;
  /** Where the worker's replayed state stands (0: none, or not known). */
  private workerHolds = 0;
  /** The worker was asked to load the stored snapshot and has not said it did. */
  private priming = false;
  private readonly advanceTx: (job: Job) => void;
  private readonly insertPart: Database.Statement<[number, number, Buffer]>;
  private readonly switchTo: Database.Statement<[number, number]>;
  private readonly dropParts: Database.Statement<[number]>;
  private readonly dropOnePart: Database.Statement<[number]>;
  private readonly trimmer: CoveredRows;

  /** `throughSeq`: what the stored snapshot covers now. */
  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private throughSeq: number,
    archives: boolean,
  ) {
    this.insertPart = db.prepare('INSERT OR REPLACE INTO snapshot_part (through_seq, idx, body) VALUES (?, ?, ?)');
    this.switchTo = db.prepare(
      "INSERT INTO snapshot (id, body, through_seq, parts) VALUES (1, '', ?, ?) ON CONFLICT (id) DO UPDATE SET body = '', through_seq = excluded.through_seq, parts = excluded.parts",
    );
    this.dropParts = db.prepare('DELETE FROM snapshot_part WHERE through_seq <> ?');
    this.dropOnePart = db.prepare('DELETE FROM snapshot_part WHERE rowid = (SELECT rowid FROM snapshot_part WHERE through_seq <> ? LIMIT 1)');
    this.trimmer = new CoveredRows(db, archives);
    this.advanceTx = db.transaction((job: Job) => this.advance(job));
  }

  /** Whether this install can compact in the background (the compiled worker is there). */
  static get available(): boolean {
    return existsSync(fileURLToPath(WORKER_FILE));
  }

  /**
   * Compacts the journal through `throughSeq` in the background, then calls
   * `settled` (with the error if it failed); false when it cannot (no worker,
   * one under way, closed).
   */
  start(throughSeq: number, replay: ReplayOptions, settled: (error: Error | null) => void): boolean {
    if (this.closed || this.job !== null || throughSeq <= this.throughSeq || this.snapshotChars < BACKGROUND_FROM_CHARS || !SqliteCompactor.available) return false;
    this.job = { id: this.nextId++, throughSeq, stage: { kind: 'replaying' }, settled };
    const request: WorkerRequest = { kind: 'compact', id: this.job.id, throughSeq, replay };
    this.workerOf().port.postMessage(request);
    return true;
  }

  /** Before an append's transaction: the rest of the worker's checkpoint, when it left some (no checkpoint runs inside a transaction). */
  beforeAppend(): void {
    if (!this.finishCheckpoint) return;
    this.finishCheckpoint = false;
    this.sinceRestart = 0;
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /**
   * After a write committed about `bytes`: asks the worker for a checkpoint
   * once the WAL grew by `CHECKPOINT_PAGES`. A commit writes whole pages (the
   * rows' and the b-tree's above them): counted as two pages more than the bytes fill.
   */
  appended(bytes: number): void {
    if (this.sinceCheckpoint === null || this.closed || !SqliteCompactor.available) return;
    const pages = Math.ceil(bytes / PAGE_BYTES) + 2;
    this.sinceCheckpoint += pages;
    this.sinceRestart += pages;
    if (this.sinceCheckpoint < CHECKPOINT_PAGES) return;
    this.sinceCheckpoint = null;
    const request: WorkerRequest = { kind: 'checkpoint' };
    this.workerOf().port.postMessage(request);
  }

  /**
   * One short write of the compaction under way, if it has one to make,
   * inside the journal append's transaction (`inAppend`: no fsync of its
   * own; a savepoint, so that a failing step fails the compaction, never the
   * append) or on its own at a turn of the event loop with no append. So a
   * compaction goes on also while the engine is fed in one synchronous loop
   * (the worker's reply is then read without waiting for the event loop).
   */
  step(inAppend: boolean): void {
    if (this.closed) return;
    if (this.sinceCheckpoint === null || this.job?.stage.kind === 'replaying') this.receive();
    const job = this.job;
    if (job === null || job.stage.kind === 'replaying') return;
    if (inAppend) this.appendedSinceTurn = true;
    try {
      this.advanceTx(job);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /**
   * Through which `seq` a synchronous compaction through `throughSeq` trims
   * the journal: not past what the worker holds, whose next compaction
   * replays the rows after it (and trims them once it switched); without
   * them it would read and replay the whole snapshot again.
   */
  trimmable(throughSeq: number): number {
    return this.worker === null || this.workerHolds === 0 ? throughSeq : Math.min(throughSeq, this.workerHolds);
  }

  /**
   * The last snapshot written (synchronously) had `chars` characters of
   * JSON: whether the next compaction is worth the worker. When it is, and
   * the worker holds no state yet, it starts replaying the file now (its
   * first replay reads the whole snapshot: hundreds of ms for 10,000 nodes,
   * better spent before a compaction is due than after). `replay`: the
   * engine's options, when known (the next compaction asks with them anyway).
   */
  sized(chars: number, replay?: ReplayOptions): void {
    this.snapshotChars = chars;
    if (replay === undefined || chars < BACKGROUND_FROM_CHARS || this.workerHolds > 0 || this.priming || this.closed || !SqliteCompactor.available) return;
    this.priming = true;
    const request: WorkerRequest = { kind: 'prime', replay };
    this.workerOf().port.postMessage(request);
  }

  /** A synchronous compaction now covers the journal through `throughSeq`: a compaction under way is superseded. */
  compacted(throughSeq: number): void {
    this.throughSeq = throughSeq;
  }

  /** Stops the worker; a compaction under way is abandoned (what it wrote is ignored, and cleaned at the next open). */
  close(): void {
    this.closed = true;
    void this.worker?.thread.terminate();
    this.worker = null;
    this.finish();
  }

  private advance(job: Job): void {
    const stage = job.stage;
    switch (stage.kind) {
      case 'replaying':
        return;
      case 'parts':
        if (this.throughSeq >= job.throughSeq) {
          this.dropParts.run(this.throughSeq); // what a superseding synchronous compaction did not see
          return this.finish();
        }
        if (stage.next < stage.count) {
          const from = stage.next * PART_BYTES;
          const part = stage.bytes.subarray(from, Math.min(stage.bytes.length, from + PART_BYTES));
          this.insertPart.run(job.throughSeq, stage.next, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
          stage.next += 1;
          this.appended(part.byteLength);
        } else {
          this.switchTo.run(job.throughSeq, stage.count);
          this.throughSeq = job.throughSeq;
          job.stage = { kind: 'dropping' };
        }
        return;
      case 'dropping':
        // The previous snapshot's parts, one at a time (freeing a part's pages reads them).
        if (this.dropOnePart.run(this.throughSeq).changes === 0) job.stage = { kind: 'trimming' };
        return this.appended(0);
      case 'trimming':
        // A few b-tree and freelist pages (the rows' own pages are freed, not written).
        this.appended(8 * PAGE_BYTES);
        if (!this.trimmer.trim(this.trimmable(this.throughSeq), TRIM_ROWS)) this.finish();
        return;
    }
  }

  /** A reply the worker sent, read without the event loop (the engine may be fed in one synchronous loop). */
  private receive(): void {
    const reply = this.worker === null ? undefined : receiveMessageOnPort(this.worker.port);
    if (reply !== undefined) this.onReply(reply.message as CompactReply);
  }

  /** Steps at every turn of the event loop while there are writes to make. */
  private scheduleTurns(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      if (!this.appendedSinceTurn) this.step(false);
      this.appendedSinceTurn = false;
      if (this.job !== null && this.job.stage.kind !== 'replaying') this.scheduleTurns();
    });
  }

  private workerOf(): { thread: Worker; port: MessagePort } {
    if (this.worker !== null) return this.worker;
    const { port1, port2 } = new MessageChannel();
    const setup: CompactorSetup = { file: this.file, port: port2 };
    const thread = new Worker(WORKER_FILE, { workerData: setup, transferList: [port2] });
    // Neither keeps the process up: a compaction cut short by an exit is one a SIGKILL could cut short too.
    thread.unref();
    port1.unref();
    port1.on('message', (reply: CompactReply) => this.onReply(reply));
    thread.on('error', (error) => this.onWorkerLost(thread, error));
    thread.on('exit', (code) => this.onWorkerLost(thread, new Error(`the compaction worker stopped with exit code ${code}`)));
    this.worker = { thread, port: port1 };
    // The worker checkpoints instead of the writer (a lost worker gives it back, `onWorkerLost`).
    this.db.pragma('wal_autocheckpoint = 0');
    return this.worker;
  }

  private onWorkerLost(thread: Worker, error: Error): void {
    if (this.worker?.thread !== thread) return;
    this.worker.port.close();
    this.worker = null;
    this.workerHolds = 0;
    this.priming = false;
    // Nobody checkpoints for the writer any more: SQLite's default again, until a next worker takes over.
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    this.sinceCheckpoint = 0;
    this.fail(new Error(`${this.file}: background compaction failed: ${error.message}`, { cause: error }));
  }

  private onReply(reply: CompactReply): void {
    if (reply.kind === 'checkpointed') {
      this.sinceCheckpoint = 0;
      this.finishCheckpoint = this.sinceRestart >= RESTART_PAGES;
      return;
    }
    this.workerHolds = reply.kind === 'failed' ? 0 : reply.holds;
    if (reply.kind === 'primed') {
      this.priming = false;
      return;
    }
    const job = this.job;
    if (job === null || job.id !== reply.id || job.stage.kind !== 'replaying') return;
    if (reply.kind === 'failed') return this.fail(new Error(`${this.file}: background compaction failed: ${reply.message}`));
    if (reply.kind === 'superseded') return this.finish();
    this.snapshotChars = reply.chars;
    job.stage = { kind: 'parts', bytes: reply.bytes, next: 0, count: Math.ceil(reply.bytes.length / PART_BYTES) };
    this.scheduleTurns();
  }

  private finish(): void {
    const job = this.job;
    this.job = null;
    job?.settled(null);
  }

  private fail(error: Error): void {
    const job = this.job;
    this.job = null;
    job?.settled(error);
  }
}

/** The journal rows a snapshot covers, trimmed oldest first (moved to `journal_archive` when the file archives). */
export class CoveredRows {
  private readonly oldest: Database.Statement<[], { seq: number | null }>;
  private readonly tx: (through: number) => void;

  constructor(db: Database.Database, archives: boolean) {
    this.oldest = db.prepare('SELECT min(seq) AS seq FROM journal');
    const newest = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal');
    const archive = archives ? db.prepare<[number]>('INSERT INTO journal_archive (at, input, delivered, batch) SELECT at, input, delivered, batch FROM journal WHERE seq <= ? ORDER BY seq') : null;
    const drop = db.prepare<[number]>('DELETE FROM journal WHERE seq <= ?');
    // Without a WHERE, SQLite frees the table's pages whole instead of rewriting each as its rows go.
    const dropAll = db.prepare('DELETE FROM journal');
    this.tx = db.transaction((through: number) => {
      archive?.run(through);
      if ((newest.get()?.seq ?? 0) <= through) dropAll.run();
      else drop.run(through);
    });
  }

  /** Trims at most `max` rows at or below `throughSeq` in one transaction; true when some may be left. */
  trim(throughSeq: number, max = Number.MAX_SAFE_INTEGER): boolean {
    const oldest = this.oldest.get()?.seq ?? null;
    if (oldest === null || oldest > throughSeq) return false;
    const upTo = Math.min(throughSeq, oldest + max - 1);
    this.tx(upTo);
    return upTo < throughSeq;
  }
}
