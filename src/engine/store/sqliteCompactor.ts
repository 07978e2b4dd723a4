/**
 * Background compaction of a SqliteStore, the main thread's side. The
 * engine's thread never serializes its state: a worker thread
 * (sqliteCompactorWorker.ts), with its own read-only connection, computes the
 * snapshot of the journal through `seq` X the way recovery would (the stored
 * snapshot plus the rows through X, replayed) and hands back its JSON in
 * parts. This side then writes, one short step at a time (in the
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
 * A synchronous `compact` (the engine closing or recovering) supersedes a
 * compaction under way: its through-seq is then at least X, and the result
 * is dropped at its next step. Without the compiled worker file (the sources
 * run by a TypeScript loader) there is no background compaction.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { ReplayOptions } from '../ports.js';

/** What the worker is asked: the snapshot of the journal through `throughSeq`. */
export interface CompactRequest {
  id: number;
  throughSeq: number;
  replay: ReplayOptions;
}

export type CompactReply =
  | { id: number; kind: 'parts'; parts: string[] }
  /** The store's snapshot already covers `throughSeq`. */
  | { id: number; kind: 'superseded' }
  | { id: number; kind: 'failed'; message: string };

/** What the worker is started with. */
export interface CompactorSetup {
  file: string;
  /** Requests come in and replies go out on it (the main side can read a reply without the event loop). */
  port: MessagePort;
}

/** About 0.5 MB of UTF-8 at most per part: one part's write and fsync stays well under a millisecond. */
export const PART_CHARS = 256 * 1024;
/** Covered journal rows deleted (and archived) in one write. */
export const TRIM_ROWS = 2000;

/** `PART_CHARS` a part, never splitting a surrogate pair (each part is stored as UTF-8 on its own). */
export function partsOf(json: string): string[] {
  const parts: string[] = [];
  let from = 0;
  while (from < json.length) {
    let to = Math.min(json.length, from + PART_CHARS);
    const last = json.charCodeAt(to - 1);
    if (to < json.length && last >= 0xd800 && last <= 0xdbff) to -= 1;
    parts.push(json.slice(from, to));
    from = to;
  }
  return parts;
}

const WORKER_FILE = new URL('./sqliteCompactorWorker.js', import.meta.url);

/** Where a compaction stands: waiting for the worker, then each a few short writes. */
type Stage = { kind: 'replaying' } | { kind: 'parts'; parts: string[]; next: number } | { kind: 'dropping' } | { kind: 'trimming' };

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
  private readonly advanceTx: (job: Job) => void;
  private readonly insertPart: Database.Statement<[number, number, string]>;
  private readonly switchTo: Database.Statement<[number, number]>;
  private readonly dropParts: Database.Statement<[number]>;
  private readonly dropOnePart: Database.Statement<[number]>;
  private readonly trimmer: CoveredRows;

  /** `throughSeq`: what the stored snapshot covers now. */
  constructor(
    db: Database.Database,
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
    if (this.closed || this.job !== null || throughSeq <= this.throughSeq || !SqliteCompactor.available) return false;
    this.job = { id: this.nextId++, throughSeq, stage: { kind: 'replaying' }, settled };
    const request: CompactRequest = { id: this.job.id, throughSeq, replay };
    this.workerOf().port.postMessage(request);
    return true;
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
    const job = this.job;
    if (job === null || this.closed) return;
    if (inAppend) this.appendedSinceTurn = true;
    try {
      this.advanceTx(job);
    } catch (error) {
      this.fail(error as Error);
    }
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
      case 'replaying': {
        const reply = this.worker === null ? undefined : receiveMessageOnPort(this.worker.port);
        if (reply !== undefined) this.onReply(reply.message as CompactReply);
        return;
      }
      case 'parts':
        if (this.throughSeq >= job.throughSeq) {
          this.dropParts.run(this.throughSeq); // what a superseding synchronous compaction did not see
          return this.finish();
        }
        if (stage.next < stage.parts.length) {
          this.insertPart.run(job.throughSeq, stage.next, stage.parts[stage.next]!);
          stage.next += 1;
        } else {
          this.switchTo.run(job.throughSeq, stage.parts.length);
          this.throughSeq = job.throughSeq;
          job.stage = { kind: 'dropping' };
        }
        return;
      case 'dropping':
        // The previous snapshot's parts, one at a time (freeing a part's pages reads them).
        if (this.dropOnePart.run(this.throughSeq).changes === 0) job.stage = { kind: 'trimming' };
        return;
      case 'trimming':
        if (!this.trimmer.trim(this.throughSeq, TRIM_ROWS)) this.finish();
        return;
    }
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
    return this.worker;
  }

  private onWorkerLost(thread: Worker, error: Error): void {
    if (this.worker?.thread !== thread) return;
    this.worker.port.close();
    this.worker = null;
    this.fail(new Error(`${this.file}: background compaction failed: ${error.message}`, { cause: error }));
  }

  private onReply(reply: CompactReply): void {
    const job = this.job;
    if (job === null || job.id !== reply.id || job.stage.kind !== 'replaying') return;
    if (reply.kind === 'failed') return this.fail(new Error(`${this.file}: background compaction failed: ${reply.message}`));
    if (reply.kind === 'superseded') return this.finish();
    job.stage = { kind: 'parts', parts: reply.parts, next: 0 };
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
    const archive = archives ? db.prepare<[number]>('INSERT INTO journal_archive (at, input, delivered) SELECT at, input, delivered FROM journal WHERE seq <= ? ORDER BY seq') : null;
    const drop = db.prepare<[number]>('DELETE FROM journal WHERE seq <= ?');
    this.tx = db.transaction((through: number) => {
      archive?.run(through);
      drop.run(through);
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
