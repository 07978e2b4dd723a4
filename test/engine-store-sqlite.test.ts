/**
 * SqliteStore: the durable store behind the write-ahead journal (architecture
 * "Persistence"; ports.ts `Store`). Crash behaviour is in engine-crash-sigkill.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../src/engine/ports.js';
import type { EngineSnapshot } from '../src/engine/types.js';
import { SQLITE_SCHEMA_VERSION, SqliteStore, SqliteStoreReader, StoreFileError } from '../src/engine/store/sqliteStore.js';

let dir: string;
let opened: SqliteStore[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-store-'));
  opened = [];
});
afterEach(() => {
  for (const store of opened) store.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(file = join(dir, 'rollout.db')): SqliteStore {
  const store = new SqliteStore(file);
  opened.push(store);
  return store;
}

function health(i: number): JournalEntry {
  return { at: 1_700_000_000_000 + i, input: { type: 'report.health', report: { node: `edge-${i}`, job: 'default/web', version: 2, healthy: i % 3 !== 0, error_rate: 0.01 } } };
}

function snapshotOf(tag: number): EngineSnapshot {
  return { format: 1, tag, nodes: { 'edge-1': { labels: { region: 'us-west' } } } };
}

function openError(run: () => unknown): StoreFileError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreFileError);
    return error as StoreFileError;
  }
  throw new Error('expected the store to refuse the file');
}

describe('SqliteStore (ports.ts Store): journal and snapshot', () => {
  it('a new file loads as empty: no snapshot, no journal', () => {
    expect(open().load()).toEqual({ snapshot: null, journal: [] });
  });

  it('a batch comes back in order whatever its length (rows go in several to a statement, the rest one at a time), then single appends after it', () => {
    const store = open(join(dir, 'batches.db'));
    const entries = Array.from({ length: 123 }, (_, i) => ({ ...health(i), ...(i % 2 === 0 ? { delivered: i } : {}) }));
    store.appendBatch(entries.slice(0, 100));
    store.appendBatch(entries.slice(100, 122));
    store.append(entries[122]!);
    expect(store.load()).toEqual({ snapshot: null, journal: entries });
  });

  it('entries come back in append order, equal to what was appended', () => {
    const store = open();
    const entries = [health(1), health(2), { at: 5, input: { type: 'command', command: { type: 'promote', job: 'default/web' } } } satisfies JournalEntry, health(3)];
    for (const entry of entries) store.append(entry);
    expect(store.load()).toEqual({ snapshot: null, journal: entries });
  });

  it('survives close and reopen: the same snapshot and journal', () => {
    const file = join(dir, 'rollout.db');
    const first = open(file);
    first.append(health(1));
    first.compact(snapshotOf(1));
    first.append(health(2));
    first.close();
    expect(open(file).load()).toEqual({ snapshot: snapshotOf(1), journal: [health(2)] });
  });

  it('compact replaces the snapshot and drops the journal it covers', () => {
    const store = open();
    store.append(health(1));
    store.compact(snapshotOf(1));
    expect(store.load()).toEqual({ snapshot: snapshotOf(1), journal: [] });
    store.append(health(2));
    store.compact(snapshotOf(2));
    store.append(health(3));
    expect(store.load()).toEqual({ snapshot: snapshotOf(2), journal: [health(3)] });
  });

  it('compact is atomic: when dropping the journal fails, the old snapshot and journal stay', () => {
    const file = join(dir, 'rollout.db');
    const store = open(file);
    store.compact(snapshotOf(1));
    store.append(health(1));
    store.close();
    // Make the second half of the compaction (clearing the journal) fail after the snapshot was written.
    const raw = new Database(file);
    raw.exec("CREATE TRIGGER refuse_clear BEFORE DELETE ON journal BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    raw.close();

    const reopened = open(file);
    expect(() => reopened.compact(snapshotOf(2))).toThrow(/injected failure/);
    expect(reopened.load()).toEqual({ snapshot: snapshotOf(1), journal: [health(1)] });
    reopened.append(health(2)); // still usable
    expect(reopened.load().journal).toEqual([health(1), health(2)]);
  });

  it('should always load the last snapshot and exactly the entries appended since, across reopens', () => {
    const file = join(dir, 'model.db');
    type Step = { kind: 'append'; i: number } | { kind: 'compact'; tag: number } | { kind: 'reopen' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 6, arbitrary: fc.nat(10_000).map((i) => ({ kind: 'append' as const, i })) },
      { weight: 2, arbitrary: fc.nat(1000).map((tag) => ({ kind: 'compact' as const, tag })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        // The property is about contents, not fsync: `normal` keeps 40 runs fast.
        let store = new SqliteStore(file, { synchronous: 'normal' });
        let model: { snapshot: EngineSnapshot | null; journal: JournalEntry[] } = { snapshot: null, journal: [] };
        try {
          for (const s of steps) {
            if (s.kind === 'append') {
              store.append(health(s.i));
              model.journal.push(health(s.i));
            } else if (s.kind === 'compact') {
              store.compact(snapshotOf(s.tag));
              model = { snapshot: snapshotOf(s.tag), journal: [] };
            } else {
              store.close();
              store = new SqliteStore(file, { synchronous: 'normal' });
            }
            expect(store.load()).toEqual(model);
          }
        } finally {
          store.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it.each(['full', 'normal'] as const)('synchronous=%s: measures appends per second (printed, not asserted)', (synchronous) => {
    const store = new SqliteStore(join(dir, `rate-${synchronous}.db`), { synchronous });
    opened.push(store);
    const count = 500;
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) store.append(health(i));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`SqliteStore (WAL, synchronous=${synchronous}): ${Math.round(count / seconds)} appends/s over ${count} appends`);
    expect(store.load().journal).toHaveLength(count);
  });
});

describe('SqliteStore { archive: true }: the whole history survives compaction (fleet-rollout replay)', () => {
  it('compaction moves the entries to the archive; history() gives every entry in order, recovery still reads snapshot and journal', () => {
    const file = join(dir, 'archived.db');
    const store = new SqliteStore(file, { archive: true });
    opened.push(store);
    for (let i = 1; i <= 3; i++) store.append(health(i));
    store.compact(snapshotOf(1));
    store.appendBatch([health(4), health(5)]);
    store.compact(snapshotOf(2));
    store.append(health(6));
    expect(store.load()).toEqual({ snapshot: snapshotOf(2), journal: [health(6)] });
    const reader = new SqliteStoreReader(file);
    expect(reader.history()).toEqual({ journal: [1, 2, 3, 4, 5, 6].map(health) });
    reader.close();
  });

  it('once a file archives, a store opened on it without the option archives too (no gap); a file compacted before archiving has no complete history', () => {
    const file = join(dir, 'sticky.db');
    const first = new SqliteStore(file, { archive: true });
    first.append(health(1));
    first.close();
    const second = open(file);
    second.compact(snapshotOf(1));
    second.append(health(2));
    second.close();
    const reader = new SqliteStoreReader(file);
    expect(reader.history()).toEqual({ journal: [health(1), health(2)] });
    reader.close();

    const late = join(dir, 'late.db');
    const plain = open(late);
    plain.append(health(1));
    plain.compact(snapshotOf(1));
    plain.close();
    new SqliteStore(late, { archive: true }).close();
    const lateReader = new SqliteStoreReader(late);
    expect(lateReader.history()).toBeNull();
    lateReader.close();
    expect(openError(() => new SqliteStore(join(dir, 'x.db'), { archive: 'yes' } as never)).reason).toContain('archive');
  });
});

describe('SqliteStore (ports.ts Store): refusing files that are not its own', () => {
  it('a file that is not SQLite: a clear error naming the file', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'these are my notes, not a database; please do not overwrite them\n'.repeat(20));
    const error = openError(() => open(file));
    expect(error.file).toBe(file);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not a SQLite database/);
  });

  it('another application\'s SQLite database: refused and left as it was', () => {
    const file = join(dir, 'other.db');
    const raw = new Database(file);
    raw.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('ada')");
    raw.close();
    const error = openError(() => open(file));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not a fleet-rollout store/);
    const check = new Database(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete'); // not switched to WAL
    expect(check.prepare('SELECT name FROM customers').pluck().all()).toEqual(['ada']);
    check.close();
  });

  it('a store written by a newer schema version: refused, naming the file and both versions', () => {
    const file = join(dir, 'rollout.db');
    open(file).close();
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SQLITE_SCHEMA_VERSION + 1));
    raw.close();
    const error = openError(() => open(file));
    expect(error.message).toContain(file);
    expect(error.message).toContain(`schema ${SQLITE_SCHEMA_VERSION + 1}`);
    expect(error.message).toMatch(/newer fleet-rollout/);
  });

  it('a store already open (another engine): refused instead of interleaving two journals', () => {
    const file = join(dir, 'rollout.db');
    open(file).append(health(1));
    const error = openError(() => open(file));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/in use by another process/);
  });

  it('a path whose directory does not exist: a clear error naming the file', () => {
    const file = join(dir, 'missing', 'rollout.db');
    expect(openError(() => open(file)).message).toContain(file);
  });
});

describe('SqliteStore: one writer, read-only observers (fleet-rollout watch)', () => {
  const readers: SqliteStoreReader[] = [];
  afterEach(() => {
    for (const reader of readers.splice(0)) reader.close();
  });
  const observe = (file: string): SqliteStoreReader => {
    const reader = new SqliteStoreReader(file);
    readers.push(reader);
    return reader;
  };

  it('an observer reads every committed append and compaction while the writer keeps writing', () => {
    const file = join(dir, 'rollout.db');
    const writer = open(file);
    const reader = observe(file);
    const appended: JournalEntry[] = [];
    let version = reader.version();
    for (let i = 0; i < 50; i += 1) {
      writer.append(health(i));
      appended.push(health(i));
      if (i === 20) {
        writer.compact(snapshotOf(i));
        appended.length = 0;
      }
      // `data_version` moves on every commit of the writer: the observer knows when to load again.
      expect(reader.version()).not.toBe(version);
      version = reader.version();
      expect(reader.load()).toEqual({ snapshot: i >= 20 ? snapshotOf(20) : null, journal: appended });
    }
    expect(reader.version()).toBe(version); // nothing committed, nothing moved
  });

  it('an observer never writes, and does not stop a second writer from being refused', () => {
    const file = join(dir, 'rollout.db');
    open(file).append(health(1));
    observe(file);
    expect(openError(() => open(file)).message).toMatch(/in use by another process/);
    const raw = new Database(file, { readonly: true });
    expect(() => raw.exec('DELETE FROM journal')).toThrow(/readonly/);
    raw.close();
  });

  it('the writer can open while observers are reading, and after it closes another writer can', () => {
    const file = join(dir, 'rollout.db');
    const first = open(file);
    first.append(health(1));
    const reader = observe(file);
    first.close();
    const second = open(file);
    second.append(health(2));
    expect(reader.load()).toEqual({ snapshot: null, journal: [health(1), health(2)] });
  });

  it('an observer of a missing file, or of a file that is not a store, gets a clear error naming the file', () => {
    const missing = join(dir, 'missing.db');
    expect(openError(() => observe(missing)).message).toMatch(new RegExp(`${missing}: no such store`));
    const foreign = join(dir, 'foreign.db');
    const raw = new Database(foreign);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    expect(openError(() => observe(foreign).load()).message).toMatch(/not a fleet-rollout store/);
  });
});
