/**
 * Background compaction of a SqliteStore, the main thread's side. The
 * engine's thread never serializes its state: a worker thread
 * (sqliteCompactorWorker.ts), with its own read-only connection, computes the
 * snapshot of the journal through `seq` X the way recovery would (the stored
 * snapshot plus the rows through X, replayed) and hands back its JSON in
 * parts. This side then writes, one short transaction per turn of the event
 * loop so that an input never waits long behind it:
 *   1. each part (`snapshot_part`, keyed by X);
 *   2. the switch: the snapshot is now the parts of X, covering rows <= X;
 *   3. the previous snapshot's parts go, one a turn;
 *   4. the covered rows go, `TRIM_ROWS` a turn (archived first when the file archives).
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
import { Worker } from 'node:worker_threads';
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
}

/** About 0.5 MB of UTF-8 at most per part: one part's write and fsync stays well under a millisecond. */
export const PART_CHARS = 256 * 1024;
/** Covered journal rows deleted (and archived) a turn. */
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

interface Job {
  id: number;
  throughSeq: number;
  resolve(): void;
  reject(error: Error): void;
}

export class SqliteCompactor {
  private worker: Worker | null = null;
  private job: Job | null = null;
  private nextId = 1;
  private closed = false;
  private readonly insertPart: Database.Statement<[number, number, string]>;
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
  }

  /** Whether this install can compact in the background (the compiled worker is there). */
  static get available(): boolean {
    return existsSync(fileURLToPath(WORKER_FILE));
  }

  /** Compacts the journal through `throughSeq` in the background; null when it cannot (no worker, one under way, closed). */
  start(throughSeq: number, replay: ReplayOptions): Promise<void> | null {
    if (this.closed || this.job !== null || throughSeq <= this.throughSeq || !SqliteCompactor.available) return null;
    return new Promise<void>((resolve, reject) => {
      this.job = { id: this.nextId++, throughSeq, resolve, reject };
      const request: CompactRequest = { id: this.job.id, throughSeq, replay };
      this.workerOf().postMessage(request);
    });
  }

  /** A synchronous compaction now covers the journal through `throughSeq`: a compaction under way is superseded. */
  compacted(throughSeq: number): void {
    this.throughSeq = throughSeq;
  }

  /** Stops the worker; a compaction under way is abandoned (what it wrote is ignored, and cleaned at the next open). */
  close(): void {
    this.closed = true;
    void this.worker?.terminate();
    this.worker = null;
    this.finish();
  }

  private workerOf(): Worker {
    if (this.worker !== null) return this.worker;
    const setup: CompactorSetup = { file: this.file };
    const worker = new Worker(WORKER_FILE, { workerData: setup });
    // An idle worker does not keep the process up; a compaction cut short by an exit is one a SIGKILL could cut short too.
    worker.unref();
    worker.on('message', (reply: CompactReply) => this.onReply(reply));
    worker.on('error', (error) => this.onWorkerLost(worker, error));
    worker.on('exit', (code) => this.onWorkerLost(worker, new Error(`the compaction worker stopped with exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private onWorkerLost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.fail(new Error(`${this.file}: background compaction failed: ${error.message}`, { cause: error }));
  }

  private onReply(reply: CompactReply): void {
    const job = this.job;
    if (job === null || job.id !== reply.id) return;
    if (reply.kind === 'failed') return this.fail(new Error(`${this.file}: background compaction failed: ${reply.message}`));
    if (reply.kind === 'superseded') return this.finish();
    this.turn(() => this.writePart(job, reply.parts, 0));
  }

  /** Runs `step` in a later turn of the event loop, unless the job was superseded or the store closed meanwhile. */
  private turn(step: () => void): void {
    const job = this.job;
    setImmediate(() => {
      if (this.closed || this.job !== job) return;
      try {
        step();
      } catch (error) {
        this.fail(error as Error);
      }
    });
  }

  private writePart(job: Job, parts: string[], index: number): void {
    if (this.throughSeq >= job.throughSeq) {
      this.dropParts.run(this.throughSeq); // what a superseding synchronous compaction did not see
      return this.finish();
    }
    if (index < parts.length) {
      this.insertPart.run(job.throughSeq, index, parts[index]!);
      return this.turn(() => this.writePart(job, parts, index + 1));
    }
    this.switchTo.run(job.throughSeq, parts.length);
    this.throughSeq = job.throughSeq;
    this.turn(() => this.dropOldPart());
  }

  /** The previous snapshot's parts, one a turn (freeing a part's pages reads them). */
  private dropOldPart(): void {
    if (this.dropOnePart.run(this.throughSeq).changes > 0) this.turn(() => this.dropOldPart());
    else this.turn(() => this.trim());
  }

  private trim(): void {
    if (this.trimmer.trim(this.throughSeq, TRIM_ROWS)) this.turn(() => this.trim());
    else this.finish();
  }

  private finish(): void {
    const job = this.job;
    this.job = null;
    job?.resolve();
  }

  private fail(error: Error): void {
    const job = this.job;
    this.job = null;
    job?.reject(error);
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
