/**
 * The SQLite compactor's worker thread (see sqliteCompactor.ts). It keeps
 * the state it replayed (`Engine.replaying`) between compactions, so each
 * request reads and replays only the journal rows after the `seq` it holds.
 * It reads the stored snapshot only to start (`prime`, once a large snapshot
 * was written, or its first request), when the rows it needs are gone, or
 * when a synchronous compaction went far past it. Replays go in chunks, so
 * that a checkpoint asked meanwhile waits little. Its connection (WAL lets it
 * read while the engine's connection writes) writes nothing but checkpoints:
 * the writer leaves those to it, so that no append copies the WAL into the
 * database. The snapshot goes back deflated, in a transferred buffer. It
 * runs at a lower priority than the engine's thread (where the OS allows).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { Engine, type JournalReplay } from '../engine.js';
import type { JournalEntry, ReplayOptions } from '../ports.js';
import type { CompactorSetup, CompactReply, WorkerRequest } from './sqliteCompactor.js';
import { BUSY_TIMEOUT_MS, entriesOf, pushEntries, readStored, snapshotBytes, type EntryRow } from './sqliteFile.js';

/** The worker's nice value: background work, so the engine's thread (nice 0) gets the CPU when they compete for it. */
const WORKER_NICE = 10;

/** On Linux a thread has its own nice value, set through its thread id (`os.setPriority` takes one); elsewhere nothing changes. */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // Not Linux (no /proc/thread-self), or refused: the thread keeps the process's priority.
  }
}

lowerPriority();
const { file, port } = workerData as CompactorSetup;
const db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
const storedThrough = db.prepare<[], { through_seq: number }>('SELECT through_seq FROM snapshot WHERE id = 1');
const rowsAfter = db.prepare<[number, number], EntryRow>('SELECT seq, at, input, delivered, batch FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq');
/**
 * The same rows as one JSON array of `[at, input, delivered, batch]` (and the entries they hold), built by
 * SQLite and parsed once: a third of the time of a row object and a parse
 * each (the worker's largest cost after the snapshot itself).
 */
const entriesAfter = db
  .prepare<[number, number], { n: number; entries: string | null }>(
    "SELECT ifnull(sum(ifnull(batch, 1)), 0) AS n, '[' || group_concat('[' || at || ',' || input || ',' || ifnull(delivered, 'null') || ',' || ifnull(batch, 'null') || ']', ',' ORDER BY seq) || ']' AS entries FROM journal WHERE seq > ? AND seq <= ?",
  );

const MAX_CHECKPOINT_PASSES = 4;
/** Pages committed during a pass that are few enough to leave to the writer. */
const SMALL_REST_PAGES = 64;

/** The state replayed through `seq`, with the options it was replayed with. */
let held: { replay: JournalReplay; seq: number; options: string } | null = null;

/**
 * Rows a synchronous compaction may have gone past what is held before the
 * stored snapshot is read instead of replaying them: reading, parsing and
 * replaying that many health reports takes about what loading a 10k-node
 * snapshot does (~100 ms on the dev VM).
 */
const RELOAD_PAST_ROWS = 20_000;

/** Entries replayed between two turns of this thread's event loop: a checkpoint asked meanwhile waits ~10 ms at most. */
const REPLAY_CHUNK = 2000;
const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Brings the held state to `throughSeq` (to the stored snapshot, without
 * any row after it: `undefined`); false when the store's snapshot already
 * covers it. Yields between chunks, so that checkpoints go on while it replays.
 */
async function catchUp(throughSeq: number | undefined, replay: ReplayOptions): Promise<boolean> {
  const options = JSON.stringify(replay);
  // One read transaction: the rows and what the snapshot covers agree.
  const read = db.transaction(() => {
    const through = storedThrough.get()?.through_seq ?? 0;
    if (throughSeq !== undefined && through >= throughSeq) return { kind: 'superseded' as const };
    // The rows after what is held are there even when a synchronous compaction went past it (it leaves them,
    // `SqliteCompactor.trimmable`); when it went far past, its snapshot is the shorter way.
    if (throughSeq !== undefined && held !== null && held.options === options && held.seq <= throughSeq && through - held.seq < RELOAD_PAST_ROWS) {
      const { n, entries } = entriesAfter.get(held.seq, throughSeq)!;
      // The seq has no gaps: a row missing means it was trimmed, so start again from the stored snapshot.
      if (n === throughSeq - held.seq) return { kind: 'rows' as const, entries: entries ?? '[]', from: held.seq, to: throughSeq };
    }
    const stored = readStored(db, file, throughSeq ?? 0);
    return { kind: 'stored' as const, stored, to: stored.throughSeq + stored.journal.length };
  });
  const got = read();
  if (got.kind === 'superseded') return false;
  const before = held;
  held = null; // until replayed whole: never built on half-way
  const state = got.kind === 'rows' ? before!.replay : Engine.replaying({ snapshot: got.stored.snapshot, journal: [] }, replay);
  const entries = got.kind === 'rows' ? entriesOfRows(got.entries, got.from, got.to) : got.stored.journal;
  for (let from = 0; from < entries.length; from += REPLAY_CHUNK) {
    if (from > 0) await turn();
    state.replay(entries.slice(from, from + REPLAY_CHUNK));
  }
  held = { replay: state, seq: got.to, options };
  return true;
}

/** The rows' `[at, input, delivered, batch]` as entries (a row of a run holds its inputs' array). */
function entriesOfRows(json: string, from: number, through: number): JournalEntry[] {
  let rows: [number, unknown, number | null, number | null][];
  try {
    rows = JSON.parse(json) as typeof rows;
  } catch {
    // A damaged row: read one at a time, `entriesOf` names it (it throws). None is: the rows changed since, nothing is built on them.
    for (const row of rowsAfter.all(from, through)) entriesOf(file, row);
    throw new Error(`journal rows ${from + 1}-${through} changed while they were read`);
  }
  const entries: JournalEntry[] = [];
  for (const [at, input, delivered, batch] of rows) pushEntries(file, `journal rows ${from + 1}-${through}`, { at, delivered, batch }, input, entries);
  return entries;
}

/**
 * PASSIVE: never waits for the writer, nor holds it up, and copies the WAL
 * as it was when it began. Passes go on while the writer committed much
 * during the last one, so that little is left for the writer's own pass.
 */
function checkpoint(): void {
  let before = -1;
  for (let pass = 0; pass < MAX_CHECKPOINT_PASSES; pass++) {
    const { log } = (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!;
    if (before >= 0 && log - before < SMALL_REST_PAGES) return;
    before = log;
  }
}

/** The snapshot of the journal through `throughSeq`, deflated, or why not. */
async function compact(id: number, throughSeq: number, replay: ReplayOptions): Promise<void> {
  try {
    if (!(await catchUp(throughSeq, replay))) {
      const reply: CompactReply = { id, kind: 'superseded', holds: held?.seq ?? 0 };
      port.postMessage(reply);
      return;
    }
    await turn();
    const json = JSON.stringify(held!.replay.snapshot());
    await turn();
    const deflated = snapshotBytes(json);
    // Its own buffer, whole: transferred, not copied.
    const bytes = deflated.byteOffset === 0 && deflated.byteLength === deflated.buffer.byteLength ? deflated : new Uint8Array(deflated);
    const reply: CompactReply = { id, kind: 'snapshot', bytes, chars: json.length, holds: throughSeq };
    port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
  } catch (error) {
    held = null; // half-replayed, maybe: never built on
    const reply: CompactReply = { id, kind: 'failed', message: (error as Error).message };
    port.postMessage(reply);
  }
}

/** Loads the stored snapshot now, so that the first compaction asked replays only the rows after it. */
async function prime(replay: ReplayOptions): Promise<void> {
  try {
    await catchUp(undefined, replay);
  } catch {
    held = null; // the next compaction reads the file again, and reports what fails
  }
  const reply: CompactReply = { kind: 'primed', holds: held?.seq ?? 0 };
  port.postMessage(reply);
}

/** Compactions and primes one after the other (they share `held`); checkpoints at once, between their chunks. */
let work = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  if (request.kind === 'checkpoint') {
    try {
      checkpoint();
    } catch {
      // A busy or failing checkpoint: the writer's own pass copies what this one did not.
    }
    const reply: CompactReply = { kind: 'checkpointed' };
    port.postMessage(reply);
    return;
  }
  work = work.then(() => (request.kind === 'prime' ? prime(request.replay) : compact(request.id, request.throughSeq, request.replay)));
});
