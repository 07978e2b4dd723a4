/**
 * Contract §7a, embedding guarantees: inputs are checked before they are
 * recorded, recovery never fails on something once accepted, and a listener
 * (or executor) that throws cannot hurt the engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, Engine, InputError, MemoryStore, openEngine, RealClock, VirtualClock } from '../src/engine/index.js';
import type { EngineError, JournalEntry } from '../src/engine/index.js';
import { SqliteStore, StoreFileError } from '../src/engine/store/sqliteStore.js';
import { JOB, jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';

function fresh() {
  const store = new MemoryStore();
  const executor = new RecordingExecutor();
  const clock = new VirtualClock();
  const engine = createEngine({ executor, clock, store });
  for (const node of nodes(3)) engine.upsertNode(node);
  engine.submit(jobSpec());
  return { store, executor, clock, engine, journaled: () => store.load().journal.length };
}

function refusal(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('§7a: inputs are checked before they are recorded', () => {
  const cases: [string, (e: ReturnType<typeof fresh>['engine']) => unknown, string, string][] = [
    ['reportHealth(null)', (e) => e.reportHealth(null as never), 'reportHealth', ''],
    ['healthy: "false"', (e) => e.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: 'false' } as never), 'reportHealth', 'healthy'],
    ['error_rate: NaN', (e) => e.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true, error_rate: Number.NaN }), 'reportHealth', 'error_rate'],
    ['a health report without a node', (e) => e.reportHealth({ job: JOB, version: 1, healthy: true } as never), 'reportHealth', 'node'],
    ['status: "STARTED"', (e) => e.reportExecution({ node: 'n-01', job: JOB, version: 1, status: 'STARTED' } as never), 'reportExecution', 'status'],
    ['version: "1"', (e) => e.reportExecution({ node: 'n-01', job: JOB, version: '1', status: 'started' } as never), 'reportExecution', 'version'],
    ['upsertNode({id: 42, ...})', (e) => e.upsertNode({ id: 42, labels: null, connected: 'yes' } as never), 'upsertNode', 'id'],
    ['labels: null', (e) => e.upsertNode({ id: 'n-09', labels: null, connected: true } as never), 'upsertNode', 'labels'],
    ['connected: "yes"', (e) => e.upsertNode({ id: 'n-09', labels: {}, connected: 'yes' } as never), 'upsertNode', 'connected'],
    ['a label value that is a number', (e) => e.upsertNode({ id: 'n-09', labels: { zone: 3 }, connected: true } as never), 'upsertNode', 'zone'],
    ['removeNode(7)', (e) => e.removeNode(7 as never), 'removeNode', 'node'],
    ['setConnected("n-01", 1)', (e) => e.setConnected('n-01', 1 as never), 'setConnected', 'connected'],
    ['pause(undefined)', (e) => e.pause(undefined as never), 'pause', 'job'],
    ['rollback(job, 1.5)', (e) => e.rollback(JOB, 1.5), 'rollback', 'version'],
    ['submit of a spec with a bad strategy', (e) => e.submit(jobSpec({ deployment: { strategy: 'blue-green' as never } })), 'submit', 'deployment.strategy'],
    ['submit(null)', (e) => e.submit(null as never), 'submit', ''],
  ];
  it.each(cases)('§7a: %s is refused with an InputError naming the input and field; nothing is journaled', (_, run, input, field) => {
    const { engine, journaled, executor } = fresh();
    const before = journaled();
    const error = refusal(() => run(engine));
    expect(error.input).toBe(input);
    expect(error.field).toContain(field);
    expect(error.message).toContain(input);
    expect(journaled()).toBe(before);
    expect(executor.starts).toHaveLength(1);
  });

  it('§7a: unknown fields of a report are dropped, not journaled; the caller may reuse its object', () => {
    const { engine, store } = fresh();
    const report = { node: 'n-01', job: JOB, version: 1, healthy: true, sent_by: 'agent-7' };
    engine.reportHealth(report);
    report.healthy = false;
    const last = store.load().journal.at(-1)!.input;
    expect(last).toEqual({ type: 'report.health', report: { node: 'n-01', job: JOB, version: 1, healthy: true } });
  });

  it('§7a: a refused command, an unchanged submit and an unchanged node are not journaled', () => {
    const { engine, journaled } = fresh();
    const before = journaled();
    expect(() => engine.promote(JOB)).toThrow(/awaiting_promotion/);
    expect(() => engine.pause('nobody/here')).toThrow(/no job/);
    expect(engine.submit(jobSpec()).unchanged).toBe(true);
    engine.upsertNode(nodes(3)[1]!);
    engine.removeNode('n-99');
    engine.setConnected('n-01', true);
    expect(journaled()).toBe(before);
    engine.upsertNode({ ...nodes(3)[1]!, labels: { zone: 'b' } });
    expect(journaled()).toBe(before + 1);
  });

  it('§7a: recovery quarantines a journal entry that cannot be applied (reports it, skips it) instead of failing to open', () => {
    const { store } = fresh();
    const poisoned: JournalEntry[] = [
      { at: 5, input: { type: 'report.health', report: null as never } },
      { at: 6, input: { type: 'node.upsert', node: { id: 42, labels: null, connected: 'yes' } as never } },
      { at: 7, input: { type: 'report.health', report: { node: 'n-01', job: JOB, version: 1, healthy: true } } },
    ];
    for (const entry of poisoned) store.append(entry);
    const errors: EngineError[] = [];
    const reopened = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(), store }, { onError: (e) => errors.push(e) });
    expect(errors.map((e) => [e.source, e.entry])).toEqual([
      ['journal', 4],
      ['journal', 5],
    ]);
    expect(reopened.quarantined.map((q) => q.entry.at)).toEqual([5, 6]);
    expect(errors[0]!.message).toMatch(/reportHealth/);
    // The good entry after them was applied: n-01's passing streak runs.
    expect(reopened.nodeState(reopened.status(JOB)!.id, 'n-01')).toBe('updating');
    expect(reopened.deployments()).toHaveLength(1);
  });
});

describe('§7a: a listener cannot hurt the engine', () => {
  it('§7a: a throwing listener does not undo the input, hold back executor calls or throw to the caller; the error is reported', () => {
    const { engine, executor, clock } = fresh();
    const errors: EngineError[] = [];
    const heard: string[] = [];
    engine.on('error', (e) => errors.push(e));
    engine.on('node.stable', () => {
      throw new Error('listener bug');
    });
    engine.on('node.stable', (e) => heard.push(e.node));
    engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true });
    expect(() => clock.advanceBy(30_000)).not.toThrow();
    expect(engine.nodeState(engine.status(JOB)!.id, 'n-01')).toBe('stable');
    // The next node's start went out in the same delivery, after the throwing listener.
    expect(executor.startedNodes()).toEqual(['n-01', 'n-02']);
    expect(heard).toEqual(['n-01']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'listener', event: 'node.stable', message: 'listener bug' });
  });

  it('§7a: a throwing listener on submit: submit returns its result and the input stays', () => {
    const { engine, executor } = fresh();
    engine.on('error', () => {});
    engine.on('deployment.created', () => {
      throw new Error('boom');
    });
    const result = engine.submit(jobSpec({ meta: { v: '2' } }));
    expect(result.version).toBe(2);
    expect(engine.status(JOB)!.to_version).toBe(2);
    expect(executor.starts.at(-1)!.version).toBe(2);
  });

  it('§7a: a throwing executor is reported and the events behind it still go out', () => {
    const store = new MemoryStore();
    const errors: EngineError[] = [];
    const engine = createEngine(
      {
        executor: {
          start: () => {
            throw new Error('executor down');
          },
          stop: () => {},
        },
        clock: new VirtualClock(),
        store,
      },
      { onError: (e) => errors.push(e) },
    );
    const started: string[] = [];
    engine.on('node.started', (e) => started.push(e.node));
    for (const node of nodes(2)) engine.upsertNode(node);
    expect(() => engine.submit(jobSpec())).not.toThrow();
    expect(errors.map((e) => [e.source, e.event])).toEqual([['executor', 'start']]);
    expect(started).toEqual(['n-01']);
  });

  it('§7a: under RealClock a listener throwing on a timer does not end the process', async () => {
    const errors: EngineError[] = [];
    const executor = new RecordingExecutor();
    const engine = createEngine({ executor, clock: new RealClock() }, { onError: (e) => errors.push(e) });
    engine.on('node.stable', () => {
      throw new Error('late listener bug');
    });
    engine.upsertNode(nodes(1)[0]!);
    engine.submit(jobSpec({ deployment: { health_check: { deadline: '5m', min_healthy_time: '20ms', max_error_rate: 0.1 } } }));
    engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true });
    const deadline = Date.now() + 5000;
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    engine.dispose();
    expect(errors[0]).toMatchObject({ source: 'listener', event: 'node.stable' });
    expect(engine.status(JOB)!.state).toBe('completed');
  });
});

describe('§7a: store options are checked', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-options-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ synchronous: 'FULL' }, 'synchronous'],
    [{ sync: 'full' }, 'sync'],
    [{ synchronous: 'full', journalMode: 'wal' }, 'journalMode'],
  ])('§7a: new SqliteStore(file, %j) is a StoreFileError naming %s', (options, field) => {
    const file = join(dir, 'r.db');
    expect(() => new SqliteStore(file, options as never)).toThrow(StoreFileError);
    expect(() => new SqliteStore(file, options as never)).toThrow(field);
  });

  it('§7a: the documented options open', () => {
    new SqliteStore(join(dir, 'a.db'), { synchronous: 'normal' }).close();
    new SqliteStore(join(dir, 'b.db'), {}).close();
  });
});

describe('§7a: nothing decided is lost in a crash', () => {
  /** Runs to an abort and "crashes" right after it (no heartbeat since): what did the abort deliver? */
  function abortThenCrash() {
    const store = new MemoryStore();
    const executor = new RecordingExecutor();
    const clock = new VirtualClock();
    const engine = createEngine({ executor, clock, store }, { heartbeatMs: 0 });
    const events: { type: string; seq: number }[] = [];
    for (const type of ['deployment.state', 'node.started', 'node.stable'] as const) engine.on(type, (e: { seq: number }) => events.push({ type, seq: e.seq }));
    for (const node of nodes(3)) engine.upsertNode(node);
    engine.submit(jobSpec({ deployment: { max_parallel: 2 } }));
    clock.advanceBy(1000);
    const before = { events: events.length, stops: executor.stops.length, starts: executor.starts.length };
    engine.abort(JOB);
    const decided = { events: events.slice(before.events), stops: executor.stops.slice(before.stops), starts: executor.starts.slice(before.starts) };
    engine.dispose();
    return { store, decided };
  }

  it('§7a: the stops and events of the last input before a crash are delivered again after it, with the same ids and seq', async () => {
    const { store, decided } = abortThenCrash();
    expect(decided.stops.length).toBeGreaterThan(0);
    expect(decided.events.length).toBeGreaterThan(0);
    const executor = new RecordingExecutor();
    const engine = openEngine({ executor, clock: new VirtualClock(1000), store }, { heartbeatMs: 0 });
    const events: { type: string; seq: number }[] = [];
    for (const type of ['deployment.state', 'node.started', 'node.stable'] as const) engine.on(type, (e: { seq: number }) => events.push({ type, seq: e.seq }));
    // Executor calls go at once; events once the caller could add its listeners.
    expect(executor.stops).toEqual(decided.stops);
    expect(events).toEqual([]);
    await Promise.resolve();
    expect(events).toEqual(decided.events);
  });

  it('§7a: after a heartbeat that saw the delivery nothing is delivered twice; seq keeps growing after the restart', async () => {
    const { store, decided } = abortThenCrash();
    const seqs = decided.events.map((e) => e.seq);
    store.heartbeat({ at: 1000, delivered: Math.max(0, ...seqs, ...[0]) + 100 });
    const executor = new RecordingExecutor();
    const clock = new VirtualClock(1000);
    const engine = openEngine({ executor, clock, store }, { heartbeatMs: 0 });
    const events: { type: string; seq: number }[] = [];
    engine.on('deployment.created', (e) => events.push({ type: 'deployment.created', seq: e.seq }));
    await Promise.resolve();
    expect(executor.stops).toEqual([]);
    engine.submit(jobSpec({ meta: { v: '2' } }));
    expect(events).toHaveLength(1);
    expect(events[0]!.seq).toBeGreaterThan(Math.max(...seqs));
  });

  it('§7a: a snapshot taken before delivery keeps what it had not delivered', () => {
    const store = new MemoryStore();
    const executor = new RecordingExecutor();
    // compactEvery 1: the snapshot is written inside every input, before its delivery.
    const engine = createEngine({ executor, clock: new VirtualClock(), store }, { heartbeatMs: 0, compactEvery: 1 });
    for (const node of nodes(2)) engine.upsertNode(node);
    engine.submit(jobSpec());
    engine.abort(JOB);
    const stops = [...executor.stops];
    expect(stops.length).toBeGreaterThan(0);
    expect(store.journalLength).toBe(0);
    const again = new RecordingExecutor();
    openEngine({ executor: again, clock: new VirtualClock(), store }, { heartbeatMs: 0 });
    expect(again.stops).toEqual(stops);
  });
});

describe('§7a: batches and the inventory for reconciling', () => {
  it('§7a: reportHealthBatch and upsertNodes check every item first: one bad item refuses the batch, nothing recorded', () => {
    const { engine, journaled } = fresh();
    const before = journaled();
    const error = refusal(() =>
      engine.reportHealthBatch([
        { node: 'n-01', job: JOB, version: 1, healthy: true },
        { node: 'n-02', job: JOB, version: 1, healthy: 'false' as never },
      ]),
    );
    expect([error.input, error.field]).toEqual(['reportHealthBatch', '[1].healthy']);
    expect(refusal(() => engine.upsertNodes([{ id: 42 } as never])).field).toBe('[0].id');
    expect(journaled()).toBe(before);
  });

  it('§7a: a batch is one store write (one fsync) and its effects go out only after it', () => {
    let writes = 0;
    let startsAtWrite = -1;
    const executor = new RecordingExecutor();
    const store = new MemoryStore();
    const counting = {
      load: () => store.load(),
      append: (e: JournalEntry) => store.append(e),
      appendBatch: (entries: readonly JournalEntry[]) => {
        writes++;
        startsAtWrite = executor.starts.length;
        for (const e of entries) store.append(e);
      },
      compact: (s: never) => store.compact(s),
    };
    const engine = createEngine({ executor, clock: new VirtualClock(), store: counting }, { heartbeatMs: 0 });
    engine.upsertNodes(nodes(50));
    engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    const starts = executor.starts.length;
    engine.reportExecutionBatch(nodes(50).map((n) => ({ node: n.id, job: JOB, version: 1, status: 'started' as const })));
    expect(writes).toBe(2);
    expect(startsAtWrite).toBe(starts);
    expect(engine.status(JOB)!.state).toBe('completed');
    expect(store.journalLength).toBe(50 + 1 + 50);
  });

  it('§7a: engine.nodes() and the snapshot list the fleet in order of arrival: a node that left and came back is last', () => {
    const engine = createEngine({ executor: new RecordingExecutor(), clock: new VirtualClock() });
    for (const id of ['n-03', 'n-01', 'n-02', 'x']) engine.upsertNode({ id, labels: {}, connected: true });
    expect(engine.nodes().map((n) => n.id)).toEqual(['n-03', 'n-01', 'n-02', 'x']);
    engine.removeNode('n-01');
    expect(engine.nodes().map((n) => n.id)).toEqual(['n-03', 'n-02', 'x']);
    engine.upsertNode({ id: 'n-01', labels: { back: 'yes' }, connected: true });
    engine.upsertNode({ id: 'n-04', labels: {}, connected: true });
    const order = ['n-03', 'n-02', 'x', 'n-01', 'n-04'];
    expect(engine.nodes().map((n) => n.id)).toEqual(order);
    const restored = Engine.restore(JSON.parse(JSON.stringify(engine.snapshot())), { executor: new RecordingExecutor(), clock: new VirtualClock() });
    expect(restored.nodes().map((n) => n.id)).toEqual(order);
    expect(restored.nodes().find((n) => n.id === 'n-01')!.labels).toEqual({ back: 'yes' });
  });

  it('§7a: engine.nodes() lists the inventory with the version each node should run per job', () => {
    const { engine, clock } = fresh();
    engine.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true });
    clock.advanceBy(30_000);
    const byId = new Map(engine.nodes().map((n) => [n.id, n]));
    expect(byId.get('n-01')).toEqual({ id: 'n-01', labels: {}, connected: true, versions: { [JOB]: 1 } }); // stable on v1
    expect(byId.get('n-02')!.versions).toEqual({ [JOB]: 1 }); // updating to v1
    expect(byId.get('n-03')!.versions).toEqual({}); // not started yet
    engine.submit(jobSpec({ meta: { v: '2' } }));
    const after = new Map(engine.nodes().map((n) => [n.id, n]));
    expect(after.get('n-01')!.versions).toEqual({ [JOB]: 2 }); // started on v2
    // v1's update of n-02 was stopped by the supersede and v2 has not started it: no version the engine stands behind.
    expect(engine.nodeState(`${JOB}#1`, 'n-02')).toBe('stopped');
    expect(after.get('n-02')!.versions).toEqual({});
  });
});
