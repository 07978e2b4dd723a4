/**
 * What the torture orchestrator (test/fixtures/crash-torture-orchestrator.mjs)
 * delivered, as it wrote it: one JSON object a line, one file per process
 * (an incarnation). The agents read the executor's starts and stops from it
 * as they are written; the invariants read all of it at the end.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface StartRecord {
  k: 'start';
  id: string;
  deployment: string;
  job: string;
  version: number;
  node: string;
  purpose: 'update' | 'revert';
  config: { image: string; behavior: string };
  at: number;
}
export interface StopRecord {
  k: 'stop';
  id: string;
  node: string;
  job: string;
  version: number;
  at: number;
}
export interface EventRecord {
  k: 'event';
  type: string;
  seq: number;
  at: number;
  deployment?: string;
  node?: string;
  version?: number;
  state?: string;
  reason?: string;
  job?: string;
  kind?: string;
  to_version?: number;
  [field: string]: unknown;
}
export type LogRecord =
  | StartRecord
  | StopRecord
  | EventRecord
  | { k: 'opening'; pid: number; at: number }
  | { k: 'compacting'; at: number }
  | { k: 'ready'; at: number; quarantined: number }
  | { k: 'submitted'; job: string; version: number; unchanged: boolean; deployment: string | null; rejected: { state: string } | null; at: number }
  | { k: 'promoted'; job: string; at: number }
  | { k: 'error'; source: string; event?: string; entry?: number; message: string };

/** One incarnation's log, read as it grows. A line cut by the SIGKILL (no newline) was never delivered: dropped. */
export class LogTail {
  readonly records: LogRecord[] = [];
  private offset = 0;
  private partial = '';
  private readonly buffer = Buffer.alloc(1 << 16);

  constructor(readonly file: string) {}

  /** The records written since the last call. */
  read(): LogRecord[] {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return []; // not created yet
    }
    const fresh: LogRecord[] = [];
    try {
      for (;;) {
        const bytes = readSync(fd, this.buffer, 0, this.buffer.length, this.offset);
        if (bytes === 0) break;
        this.offset += bytes;
        const lines = (this.partial + this.buffer.toString('utf8', 0, bytes)).split('\n');
        this.partial = lines.pop()!;
        for (const line of lines) if (line !== '') fresh.push(JSON.parse(line) as LogRecord);
      }
    } finally {
      closeSync(fd);
    }
    for (const record of fresh) this.records.push(record);
    return fresh;
  }
}
