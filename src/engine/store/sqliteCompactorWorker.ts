/**
 * The SQLite compactor's worker thread (see sqliteCompactor.ts): on its own
 * read-only connection (WAL lets it read while the engine's connection
 * writes) it reads the stored snapshot and the journal through the requested
 * `seq` in one read transaction, replays them as recovery does
 * (`Engine.replayedSnapshot`) and sends the snapshot's JSON back in parts.
 */
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { Engine } from '../engine.js';
import { partsOf, type CompactReply, type CompactRequest, type CompactorSetup } from './sqliteCompactor.js';
import { BUSY_TIMEOUT_MS, readStored } from './sqliteFile.js';

const { file, port } = workerData as CompactorSetup;
const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });

port.on('message', ({ id, throughSeq, replay }: CompactRequest) => {
  let reply: CompactReply;
  try {
    const stored = readStored(db, file, throughSeq);
    if (stored.throughSeq >= throughSeq) reply = { id, kind: 'superseded' };
    else reply = { id, kind: 'parts', parts: partsOf(JSON.stringify(Engine.replayedSnapshot(stored, replay))) };
  } catch (error) {
    reply = { id, kind: 'failed', message: (error as Error).message };
  }
  port.postMessage(reply);
});
