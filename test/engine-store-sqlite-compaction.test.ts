/**
 * Background compaction of the SQLite store (§7a: a crash at any moment loses
 * no input and changes no decision). The file format runs from the sources;
 * the background path needs the compiled worker, so those tests run the
 * engine compiled by support/compiledEngine.ts into a folder of their own: in
 * this process (a worker that fails) and in a child process SIGKILLed at each
 * stage of a compaction and at a random moment. Each killed store must
 * recover to exactly the state a store that was never compacted recovers to
 * from the same journal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, openEngine, VirtualClock, createEngine } from '../src/engine/index.js';
import type { EngineSnapshot, JournalEntry } from '../src/engine/index.js';
import { snapshotBytes } from '../src/engine/store/sqliteFile.js';
import { SQLITE_SCHEMA_VERSION, SqliteStore, SqliteStoreReader } from '../src/engine/store/sqliteStore.js';
import { compileEngine } from './support/compiledEngine.js';
import { workloadSetup, workloadStep } from './support/compactionWorkload.js';

type EngineModule = typeof import('../src/engine/index.js');
type StoreModule = typeof import('../src/engine/store/sqliteStore.js');

const CHILD = join(import.meta.dirname, 'fixtures', 'compact-until-killed.mjs');
const NODES = 6000; // a snapshot of about 0.6 MB: three parts
const COMPACT_EVERY = 3000;
/** Recovery's clock: after every entry the workload can write. */
const RECOVERED_AT = 100_000_000;

let dir: string;
let build: string;
let compiled: { engine: EngineModule; store: StoreModule };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-compaction-'));
  build = compileEngine(`fleet-rollout-compaction-${process.pid}`, ['src/engine/index.ts', 'src/engine/store/sqliteStore.ts', 'src/engine/store/sqliteCompactorWorker.ts', 'test/support/compactionWorkload.ts']);
  compiled = {
    engine: (await import(pathToFileURL(join(build, 'src/engine/index.js')).href)) as EngineModule,
    store: (await import(pathToFileURL(join(build, 'src/engine/store/sqliteStore.js')).href)) as StoreModule,
  };
}, 120_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

const noExecutor = { start() {}, stop() {} };
const entry = (n: number): JournalEntry => ({ at: n, input: { type: 'node.remove', node: `n-${n}` }, delivered: 0 });
const snapshotOf = (n: number) => ({ format: 1, nodes: [], jobs: [], deployments: [], timers: [], deploymentSeq: n, ignoredReports: {}, at: n }) as unknown as EngineSnapshot;

describe('SqliteStore schema 2: the snapshot says which journal rows it covers', () => {
  it('§7a: the journal\'s seq never goes back below what a snapshot covers (covered rows are trimmed, not renumbered)', () => {
    const file = join(dir, 'seq.db');
    let store = new SqliteStore(file);
    for (let n = 1; n <= 3; n++) store.append(entry(n));
    store.compact(snapshotOf(3));
    store.appendBatch([entry(4), entry(5)]);
    store.close();
    store = new SqliteStore(file);
    store.append(entry(6));
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT through_seq, parts FROM snapshot').get()).toEqual({ through_seq: 3, parts: 0 });
    expect(raw.prepare('SELECT seq FROM journal ORDER BY seq').pluck().all()).toEqual([4, 5, 6]);
    raw.close();
    expect(store.load()).toEqual({ snapshot: snapshotOf(3), journal: [entry(4), entry(5), entry(6)] });
    store.close();
  });

  it('§7a: a schema-1 file (snapshot in `body`, journal numbered from 1 after it) reads the same, and its writer brings it to the current schema', () => {
    const file = join(dir, 'schema1.db');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
      CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, input TEXT NOT NULL);
      INSERT INTO meta VALUES ('application', 'fleet-rollout'), ('schema_version', '1');`);
    old.prepare('INSERT INTO snapshot (id, body) VALUES (1, ?)').run(JSON.stringify(snapshotOf(7)));
    for (const n of [1, 2]) old.prepare('INSERT INTO journal (at, input) VALUES (?, ?)').run(n, JSON.stringify(entry(n).input));
    old.close();
    const expected = { snapshot: snapshotOf(7), journal: [1, 2].map((n) => ({ at: n, input: entry(n).input })) };
    const observer = new SqliteStoreReader(file);
    expect(observer.load()).toEqual(expected); // read-only: it cannot upgrade the file
    observer.close();
    const store = new SqliteStore(file);
    expect(store.load()).toEqual(expected);
    store.append(entry(3));
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SQLITE_SCHEMA_VERSION));
    expect(raw.prepare('SELECT seq FROM journal ORDER BY seq').pluck().all()).toEqual([1, 2, 3]);
    raw.close();
    store.close();
  });

  it('§7a: a run of entries with the same time and delivered count is one row (its inputs one array, `seq` the last one\'s) and reads back as the same entries, for the writer, an observer and the archive', () => {
    const file = join(dir, 'runs.db');
    const store = new SqliteStore(file, { archive: true });
    const at = (n: number, time: number, delivered?: number): JournalEntry => ({ at: time, input: { type: 'node.remove', node: `n-${n}` }, ...(delivered === undefined ? {} : { delivered }) });
    const first = [at(1, 5, 2), at(2, 5, 2), at(3, 5, 2), at(4, 5, 3), at(5, 6, 3)];
    const second = [at(6, 7), at(7, 7), at(8, 7, 0)];
    store.appendBatch(first);
    store.appendBatch(second);
    const raw = new Database(file, { readonly: true });
    expect(raw.prepare('SELECT seq, batch FROM journal ORDER BY seq').all()).toEqual([
      { seq: 3, batch: 3 },
      { seq: 4, batch: null },
      { seq: 5, batch: null },
      { seq: 7, batch: 2 },
      { seq: 8, batch: null },
    ]);
    raw.close();
    const journal = [...first, ...second];
    expect(store.load().journal).toEqual(journal);
    const observer = new SqliteStoreReader(file);
    expect(observer.load()!.journal).toEqual(journal);
    store.compact(snapshotOf(8));
    store.append(at(9, 8, 1));
    expect(observer.history()!.journal).toEqual([...journal, at(9, 8, 1)]);
    observer.close();
    store.close();
  });

  it('§7a: a run whose count and inputs disagree is refused as damaged, naming the file and the entries, for the writer and an observer', () => {
    const file = join(dir, 'damaged-run.db');
    const store = new SqliteStore(file);
    store.appendBatch([1, 2, 3].map((n) => ({ at: 5, input: { type: 'node.remove', node: `n-${n}` } })));
    store.close();
    const raw = new Database(file);
    raw.prepare('UPDATE journal SET batch = 4 WHERE seq = 3').run();
    raw.close();
    const damaged = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*journal entries 0-3: not 4 inputs; the file is damaged`);
    expect(() => new SqliteStore(file).load()).toThrow(damaged);
    expect(() => new SqliteStoreReader(file).load()).toThrow(damaged);
  });

  it('§7a: a snapshot in parts (deflated UTF-8, cut anywhere, even inside a character) reads back exactly, for the writer and an observer', () => {
    const file = join(dir, 'parts.db');
    const store = new SqliteStore(file);
    store.append(entry(1));
    store.append(entry(2));
    store.close();
    const snapshot = { ...snapshotOf(2), nodes: [{ id: 'n-😀', labels: { zone: 'zürich-東' }, connected: true }] } as unknown as EngineSnapshot;
    const bytes = snapshotBytes(JSON.stringify(snapshot));
    const cuts = [0, 1, Math.floor(bytes.length / 2), bytes.length];
    const raw = new Database(file);
    raw.transaction(() => {
      cuts.slice(1).forEach((to, idx) => raw.prepare('INSERT INTO snapshot_part (through_seq, idx, body) VALUES (1, ?, ?)').run(idx, Buffer.from(bytes.subarray(cuts[idx]!, to))));
      raw.prepare("INSERT INTO snapshot (id, body, through_seq, parts) VALUES (1, '', 1, 3)").run();
    })();
    raw.close();
    const observer = new SqliteStoreReader(file);
    expect(observer.load()).toEqual({ snapshot, journal: [entry(2)] });
    observer.close();
    const again = new SqliteStore(file); // opening trims the covered row
    expect(again.load()).toEqual({ snapshot, journal: [entry(2)] });
    again.close();
  });

  it('run from the sources (no compiled worker), the store does not compact in the background', () => {
    const store = new SqliteStore(join(dir, 'sources.db'));
    store.append(entry(1));
    expect(store.compactInBackground({}, () => {})).toBe(false);
    store.close();
  });
});

/** The state recovery gives from the first `rows` entries of a journal never compacted. */
function neverCompacted(journal: JournalEntry[], rows: number): EngineSnapshot {
  const engine = openEngine({ executor: noExecutor, clock: new VirtualClock(RECOVERED_AT), store: MemoryStore.from({ snapshot: null, journal: journal.slice(0, rows) }) }, { heartbeatMs: 0 });
  const snapshot = engine.snapshot();
  engine.dispose();
  return snapshot;
}

/** The workload's journal, never compacted, at least `rows` entries long. */
function referenceJournal(rows: number, nodes = NODES): JournalEntry[] {
  const store = new MemoryStore();
  const clock = new VirtualClock();
  const engine = createEngine({ executor: noExecutor, clock, store }, { heartbeatMs: 0, commit: 'each', compactEvery: Number.MAX_SAFE_INTEGER });
  workloadSetup(engine, nodes);
  for (let step = 0; store.journalLength < rows; step++) workloadStep(engine, clock, nodes, step);
  engine.dispose();
  return store.load().journal;
}

interface Killed {
  stage: string;
  file: string;
  lines: Record<string, unknown>[];
}

/** Runs the child on a new file until it kills itself at `stage`, or (`none`) until this test kills it `afterMs` after its first background switch. */
function runChild(stage: string, afterMs = 0): Promise<Killed> {
  const file = join(dir, `killed-${stage}-${afterMs}.db`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, build, file, String(NODES), String(COMPACT_EVERY), stage], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let buffered = '';
    let killing = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        if (stage === 'none' && !killing && (line.backgroundSwitches as number) >= 1) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), afterMs);
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ stage, file, lines });
      else reject(new Error(`the child exited with ${code} before it was killed:\n${stderr}\n${JSON.stringify(lines.slice(-3))}`));
    });
  });
}

/** Where the killed file's compaction stood, as a reader sees it. */
function standing(file: string): { through: number; rows: number; pending: number; old: number; covered: number; parted: boolean } {
  const raw = new Database(file, { readonly: true });
  try {
    const { through, parts } = raw.prepare<[], { through: number; parts: number }>('SELECT through_seq AS through, parts FROM snapshot WHERE id = 1').get() ?? { through: 0, parts: 0 };
    const count = (sql: string) => raw.prepare<[number], { n: number }>(sql).get(through)!.n;
    const last = raw.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM journal').get()!.seq ?? 0;
    return {
      through,
      parted: parts > 0,
      rows: Math.max(through, last),
      pending: count('SELECT count(*) AS n FROM snapshot_part WHERE through_seq > ?'),
      old: count('SELECT count(*) AS n FROM snapshot_part WHERE through_seq < ?'),
      covered: count('SELECT count(*) AS n FROM journal WHERE seq <= ?'),
    };
  } finally {
    raw.close();
  }
}

describe('background compaction (the compiled engine and its worker)', () => {
  it(
    '§7a: SIGKILLed at every stage of a background compaction and at a random moment, the store recovers exactly as a store never compacted',
    async () => {
      const random = Math.floor(Math.random() * 400);
      const kills = [await runChild('parts'), await runChild('trim'), await runChild('old-parts'), await runChild('none', random)];
      const stood = kills.map((kill) => ({ kill, at: standing(kill.file) }));
      console.log('killed at:', JSON.stringify(stood.map(({ kill, at }) => ({ stage: kill.stage, ...(kill.stage === 'none' ? { afterMs: random } : {}), ...at }))));
      // Each kill landed where it was meant to: a compaction under way, in the stage named.
      expect(stood[0]!.at.pending).toBeGreaterThan(0);
      expect(stood[1]!.at.parted && stood[1]!.at.covered > 0).toBe(true);
      expect(stood[2]!.at.parted && stood[2]!.at.old > 0).toBe(true);

      const journal = referenceJournal(Math.max(...stood.map(({ at }) => at.rows)));
      for (const { kill, at } of stood) {
        // The rows after the snapshot are the workload's own: the kill's journal is a prefix of the reference.
        const reader = new SqliteStoreReader(kill.file);
        const tail = reader.load()!.journal;
        reader.close();
        expect(tail, kill.stage).toEqual(journal.slice(at.through, at.rows));

        const store = new compiled.store.SqliteStore(kill.file);
        const engine = compiled.engine.openEngine({ executor: noExecutor, clock: new compiled.engine.VirtualClock(RECOVERED_AT), store }, { heartbeatMs: 0 });
        const recovered = engine.snapshot();
        engine.dispose();
        store.close();
        expect(recovered, `killed at ${kill.stage}`).toEqual(neverCompacted(journal, at.rows));
        expect((recovered as unknown as { deployments: unknown[] }).deployments.length).toBeGreaterThan(0);
      }
    },
    240_000,
  );

  it('§7a: a synchronous compaction supersedes one under way (its result is dropped, its parts go); closing mid-compaction leaves a file that opens clean', async () => {
    const file = join(dir, 'superseded.db');
    let store = new compiled.store.SqliteStore(file);
    const clock = new compiled.engine.VirtualClock();
    const engine = compiled.engine.createEngine({ executor: noExecutor, clock, store }, { heartbeatMs: 0, compactEvery: Number.MAX_SAFE_INTEGER });
    workloadSetup(engine, NODES);
    // A store's first compaction is synchronous (it learns the snapshot is large enough for the worker).
    store.compact(engine.snapshot());
    engine.upsertNode({ id: 'early', labels: {}, connected: true });
    const partsWritten = async () => {
      for (let turn = 0; standing(file).pending === 0; turn++) {
        if (turn > 20_000) throw new Error('no part was written');
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const running = new Promise<Error | null>((resolve) => expect(store.compactInBackground({}, resolve)).toBe(true));
    await partsWritten();
    engine.upsertNode({ id: 'late', labels: {}, connected: true });
    store.compact(engine.snapshot());
    expect(await running).toBeNull();
    // The row after what the worker holds stays (covered) for its next compaction to replay; the next open trims it too.
    expect(standing(file)).toMatchObject({ through: NODES + 3, parted: false, pending: 0, old: 0, covered: 1 });
    const live = engine.snapshot();
    engine.dispose();

    store.append({ at: 1, input: { type: 'node.remove', node: 'late' } });
    expect(store.compactInBackground({}, () => {})).toBe(true);
    await partsWritten();
    store.close();
    store = new compiled.store.SqliteStore(file);
    expect(standing(file)).toMatchObject({ through: NODES + 3, parted: false, pending: 0, old: 0, covered: 0 });
    expect(store.load()).toEqual({ snapshot: live, journal: [{ at: 1, input: { type: 'node.remove', node: 'late' } }] });
    store.close();
  });

  it('§7a: fed in one synchronous loop (the event loop never turns), the engine still compacts in the background, its journal stays bounded, and the worker\'s incremental replays recover exactly as a store never compacted', () => {
    const file = join(dir, 'loop.db');
    const store = new compiled.store.SqliteStore(file);
    const clock = new compiled.engine.VirtualClock();
    const engine = compiled.engine.createEngine({ executor: noExecutor, clock, store }, { heartbeatMs: 0, compactEvery: 500 });
    workloadSetup(engine, 3000); // a snapshot large enough for the worker (BACKGROUND_FROM_CHARS)
    const raw = new Database(file, { readonly: true });
    const snapshot = raw.prepare<[], { through: number; parts: number }>('SELECT through_seq AS through, parts FROM snapshot WHERE id = 1');
    const rows = raw.prepare<[number], { n: number }>('SELECT count(*) AS n FROM journal WHERE seq > ?');
    let longest = 0;
    const compactions: string[] = [];
    let last = 0;
    for (let step = 0; step < 4000; step++) {
      workloadStep(engine, clock, 3000, step);
      const { through, parts } = snapshot.get() ?? { through: 0, parts: 0 };
      longest = Math.max(longest, rows.get(through)!.n);
      if (through !== last) compactions.push(parts > 0 ? 'background' : 'synchronous');
      last = through;
    }
    const total = last + rows.get(last)!.n;
    raw.close();
    engine.dispose();
    store.close();
    // Every background compaction but the first replayed only the rows after the previous one, on the state the worker kept.
    const again = new compiled.store.SqliteStore(file);
    const reopened = compiled.engine.openEngine({ executor: noExecutor, clock: new compiled.engine.VirtualClock(RECOVERED_AT), store: again }, { heartbeatMs: 0 });
    const recovered = reopened.snapshot();
    reopened.dispose();
    again.close();
    expect(recovered).toEqual(neverCompacted(referenceJournal(total, 3000), total));
    const switches = compactions.filter((kind) => kind === 'background').length;
    console.log(`synchronous loop: compactions ${compactions.join(', ')}; at most ${longest} journal rows after the snapshot`);
    expect(switches).toBeGreaterThan(0);
    // Bounded: compactEvery before a compaction starts, sixteen times that before a synchronous one overtakes it, and one step's few inputs.
    expect(longest).toBeLessThanOrEqual(17 * 500 + 10);
  });

  it('§7a: a worker that fails (a damaged journal row) is reported on `error`, and the next write compacts synchronously; nothing is lost', async () => {
    const file = join(dir, 'damaged.db');
    const store = new compiled.store.SqliteStore(file);
    const clock = new compiled.engine.VirtualClock();
    const errors: { source: string; event?: string; message: string }[] = [];
    const engine = compiled.engine.createEngine({ executor: noExecutor, clock, store }, { heartbeatMs: 0, compactEvery: 50, onError: (e) => errors.push(e) });
    // Labels large enough that the snapshot goes to the worker (BACKGROUND_FROM_CHARS); the store's first compaction is synchronous.
    const nodes = Array.from({ length: 110 }, (_, i) => ({ id: `n-${i}`, labels: { note: 'x'.repeat(3000) }, connected: true }));
    for (const node of nodes.slice(0, 99)) engine.upsertNode(node); // compacted synchronously at the 50th
    // Damaged behind the writer's back, before the compaction that covers it reads it.
    const raw = new Database(file);
    raw.prepare("UPDATE journal SET input = '{' WHERE seq = 99").run();
    raw.close();
    engine.upsertNode(nodes[99]!); // the 100th input: a compaction in the background
    for (let turn = 0; errors.length === 0 && turn < 2000; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(errors).toMatchObject([{ source: 'store', event: 'compact', message: expect.stringContaining('journal entry 99 is not valid JSON') }]);
    engine.upsertNode(nodes[100]!); // the next write: compacted synchronously, from the engine's own state
    expect(standing(file)).toMatchObject({ through: 101, parted: false, covered: 0, pending: 0 });
    const live = engine.nodes();
    engine.dispose();
    store.close();
    const again = new compiled.store.SqliteStore(file);
    const reopened = compiled.engine.openEngine({ executor: noExecutor, clock, store: again }, { heartbeatMs: 0 });
    expect(reopened.nodes()).toEqual(live);
    expect(reopened.nodes()).toHaveLength(101);
    reopened.dispose();
    again.close();
  });
});
