import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';
import { createEngine, Engine, MemoryStore, openEngine } from '../src/engine/index.js';
import type { Heartbeat, JournalEntry, Store } from '../src/engine/ports.js';
import type { EngineSnapshot } from '../src/engine/types.js';
import { jobSpec, JOB, MINUTE, nodes, record, RecordingExecutor, rig, SECOND, type Recorded } from './support/engineFixture.js';
import { begin, drive, scenarioArbitrary, type Scenario } from './support/scenarios.js';

interface Checkpoint {
  next: number;
  at: number;
  snapshot: string;
  events: number;
  starts: number;
  stops: number;
  store?: { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat: Heartbeat };
}

/** Runs a scenario from the start, checkpointing after every input and timer. */
function original(s: Scenario, store?: MemoryStore) {
  const clock = new VirtualClock();
  const executor = new RecordingExecutor();
  const engine = createEngine(store === undefined ? { executor, clock } : { executor, clock, store }, { maxConcurrentUpdates: s.cap, compactEvery: 5 });
  const events = record(engine);
  begin(engine, s);
  const checkpoints: Checkpoint[] = [];
  const checkpoint = (next: number) =>
    checkpoints.push({
      next,
      at: clock.now(),
      snapshot: JSON.stringify(engine.snapshot()),
      events: events.length,
      starts: executor.starts.length,
      stops: executor.stops.length,
      // A crash after this step's delivery and a heartbeat saying so: nothing is delivered again.
      ...(store === undefined ? {} : { store: { ...store.load(), heartbeat: { at: clock.now(), delivered: (engine.snapshot() as unknown as { outbox: { delivered: number } }).outbox.delivered } } }),
    });
  checkpoint(0);
  drive(engine, clock, s, 0, checkpoint);
  return { engine, events, executor, checkpoints };
}

function expectSameFuture(
  s: Scenario,
  run: ReturnType<typeof original>,
  c: Checkpoint,
  engine: Engine,
  clock: VirtualClock,
  executor: RecordingExecutor,
  events: Recorded[],
) {
  drive(engine, clock, s, c.next);
  expect(events).toEqual(run.events.slice(c.events));
  expect(executor.starts).toEqual(run.executor.starts.slice(c.starts));
  expect(executor.stops).toEqual(run.executor.stops.slice(c.stops));
  expect(engine.snapshot()).toEqual(run.engine.snapshot());
  expect(engine.ignoredReports).toEqual(run.engine.ignoredReports);
}

describe('crash safety: snapshot and restore', () => {
  it('restoring a snapshot taken after any input or timer continues exactly as the original (events, executor calls, final state)', () => {
    fc.assert(
      fc.property(scenarioArbitrary(), (s) => {
        const run = original(s);
        for (const c of run.checkpoints) {
          const clock = new VirtualClock(c.at);
          const executor = new RecordingExecutor();
          const engine = Engine.restore(JSON.parse(c.snapshot) as EngineSnapshot, { executor, clock }, { maxConcurrentUpdates: s.cap });
          const events = record(engine);
          expectSameFuture(s, run, c, engine, clock, executor, events);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reopening the store after a crash at any point (snapshot + journal replay) continues exactly as the original', () => {
    fc.assert(
      fc.property(scenarioArbitrary(30), (s) => {
        const run = original(s, new MemoryStore());
        for (const c of run.checkpoints) {
          const clock = new VirtualClock(c.at);
          const executor = new RecordingExecutor();
          const engine = openEngine({ executor, clock, store: MemoryStore.from(c.store!) }, { maxConcurrentUpdates: s.cap, compactEvery: 5 });
          // what was in flight at the crash is started again, with the same execution ids
          const inFlight = (JSON.parse(c.snapshot) as { deployments: { data: { nodes: [string, string, number, number][] } }[] }).deployments.flatMap((d) =>
            d.data.nodes.filter(([, state]) => state === 'updating' || state === 'reverting').map(([node]) => node),
          );
          expect(executor.starts.map((r) => r.node).sort()).toEqual(inFlight.sort());
          executor.starts.length = 0;
          const events = record(engine);
          expectSameFuture(s, run, c, engine, clock, executor, events);
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('crash safety: journal', () => {
  it('§7a: each input is durable before any of its executor calls or events goes out', () => {
    const executor = new RecordingExecutor();
    let created = 0;
    const seen: { input: string; starts: number; created: number }[] = [];
    const store: Store = {
      load: () => ({ snapshot: null, journal: [] }),
      append: (entry) => seen.push({ input: entry.input.type, starts: executor.starts.length, created }),
      compact: () => {},
    };
    const engine = createEngine({ executor, clock: new VirtualClock(), store });
    engine.on('deployment.created', () => created++);
    engine.upsertNode(nodes(1)[0]!);
    engine.submit(jobSpec());
    expect(seen).toEqual([
      { input: 'node.upsert', starts: 0, created: 0 },
      { input: 'submit', starts: 0, created: 0 },
    ]);
    expect(executor.starts).toHaveLength(1);
    expect(created).toBe(1);
  });

  it('timer firings are journaled with the time they fired', () => {
    const store = new MemoryStore();
    const clock = new VirtualClock();
    const engine = createEngine({ executor: new RecordingExecutor(), clock, store });
    engine.upsertNode(nodes(1)[0]!);
    engine.submit(jobSpec());
    clock.advanceBy(10 * MINUTE);
    const timers = store.load().journal.filter((e) => e.input.type === 'timer');
    expect(timers).toEqual([{ at: 5 * MINUTE, input: { type: 'timer', deployment: `${JOB}#1`, kind: 'deadline', node: 'n-01' }, delivered: expect.any(Number) }]);
  });

  it('the journal is compacted into a snapshot every N inputs', () => {
    const store = new MemoryStore();
    const engine = createEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(), store }, { compactEvery: 10 });
    for (let i = 0; i < 95; i++) engine.upsertNode({ id: `n${i}`, labels: {}, connected: true });
    expect(store.journalLength).toBe(5);
    expect(store.load().snapshot).not.toBeNull();
  });

  it('openEngine on an empty store is a new engine writing to it', () => {
    const store = new MemoryStore();
    const engine = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(), store });
    engine.upsertNode(nodes(1)[0]!);
    engine.submit(jobSpec());
    expect(store.journalLength).toBe(2);
    expect(engine.status(JOB)?.state).toBe('in_progress');
  });

  it('§7a openEngine replays silently, delivers again what it cannot know was delivered (the last input\'s), and starts in-flight executions again', () => {
    const store = new MemoryStore();
    const clock = new VirtualClock();
    const first = createEngine({ executor: new RecordingExecutor(), clock, store });
    for (const n of nodes(3)) first.upsertNode(n);
    first.submit(jobSpec({ deployment: { max_parallel: 2 } }));
    first.reportHealth({ node: 'n-01', job: JOB, version: 1, healthy: true });
    clock.advanceBy(30 * SECOND);
    first.dispose();
    const executor = new RecordingExecutor();
    const reopened = openEngine({ executor, clock, store });
    // The last input (n-01's streak timer) started n-03: delivered again first, then n-02 in flight; each once.
    expect(executor.starts.map((s) => s.executionId)).toEqual([`${JOB}#1/n-03/update-1`, `${JOB}#1/n-02/update-1`]);
    expect(reopened.status(JOB)?.counts).toMatchObject({ stable: 1, updating: 2 });
    clock.advanceBy(5 * MINUTE);
    expect(reopened.nodeState(`${JOB}#1`, 'n-02')).toBe('failed'); // its deadline was re-armed
  });
});

describe('snapshot', () => {
  it('is plain JSON of the complete state', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ deployment: { strategy: 'canary', canary_count: 1 } }));
    r.healthy('n-01');
    const snapshot = r.engine.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.format).toBe(1);
  });

  it('dispose cancels every timer', () => {
    const r = rig({ fleet: nodes(3) });
    r.engine.submit(jobSpec({ timeouts: { total_timeout: 600 } }));
    expect(r.clock.pending).toBeGreaterThan(0);
    r.engine.dispose();
    expect(r.clock.pending).toBe(0);
  });
});
