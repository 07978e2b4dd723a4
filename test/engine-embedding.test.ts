/**
 * Contract §7a, embedding guarantees: inputs are checked before they are
 * recorded, recovery never fails on something once accepted, and a listener
 * (or executor) that throws cannot hurt the engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, InputError, MemoryStore, openEngine, RealClock, VirtualClock } from '../src/engine/index.js';
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
