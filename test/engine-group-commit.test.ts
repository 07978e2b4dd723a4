/**
 * §7a group commit: inputs that arrive together share one store write, and
 * write-ahead still holds: nothing an input decided goes out before the input
 * is durable. Group commit changes when effects go out, never what is decided.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';
import { createEngine, MemoryStore, openEngine, type Engine } from '../src/engine/index.js';
import type { JournalEntry } from '../src/engine/ports.js';
import type { AsyncStore, StoreState } from '../src/engine/store/asyncStore.js';
import type { EngineSnapshot } from '../src/engine/types.js';
import { EVENT_TYPES, JOB, jobSpec, nodes, RecordingExecutor } from './support/engineFixture.js';
import { apply, begin, scenarioArbitrary, type Scenario } from './support/scenarios.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Everything that left the engine, in order: executor calls and events with their `seq` (decisions, outside the sequence, left out). */
function delivered(engine: Engine): string[] {
  const out: string[] = [];
  const executor = (engine as unknown as { core: { outbox: { executor: RecordingExecutor } } }).core.outbox.executor;
  const start = executor.start.bind(executor);
  const stop = executor.stop.bind(executor);
  executor.start = (r) => (out.push(`start ${JSON.stringify(r)}`), start(r));
  executor.stop = (r) => (out.push(`stop ${JSON.stringify(r)}`), stop(r));
  for (const type of EVENT_TYPES) if (type !== 'decision') engine.on(type, ((e: object) => out.push(`${type} ${JSON.stringify(e)}`)) as never);
  return out;
}

/**
 * An asynchronous store over a MemoryStore: a write becomes durable (lands in
 * `durable`) a few ms after it is handed over, in order; `crash()` loses
 * whatever had not landed yet.
 */
class SlowStore implements AsyncStore {
  readonly durable = new MemoryStore();
  private tail = Promise.resolve();
  private crashed = false;
  writes = 0;
  constructor(private readonly delayMs: () => number) {}
  load(): Promise<StoreState> {
    return Promise.resolve(this.durable.load());
  }
  append(entry: JournalEntry): Promise<void> {
    return this.appendBatch([entry]);
  }
  appendBatch(entries: readonly JournalEntry[]): Promise<void> {
    this.writes++;
    const copy = JSON.parse(JSON.stringify(entries)) as JournalEntry[];
    return this.later(() => copy.forEach((e) => this.durable.append(e)));
  }
  compact(snapshot: EngineSnapshot): Promise<void> {
    const copy = JSON.parse(JSON.stringify(snapshot)) as EngineSnapshot;
    return this.later(() => this.durable.compact(copy));
  }
  close(): Promise<void> {
    return this.tail;
  }
  crash(): void {
    this.crashed = true;
  }
  private later(land: () => void): Promise<void> {
    this.tail = this.tail.then(
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            if (!this.crashed) land();
            resolve();
          }, this.delayMs()),
        ),
    );
    return this.tail;
  }
}

/** Runs a scenario's steps in virtual time; `pause(i)` may let the event loop turn (commits land) before step i. */
async function drive(engine: Engine, clock: VirtualClock, s: Scenario, pause: (i: number) => Promise<void>, steps = s.steps.length): Promise<void> {
  for (let i = 0; i <= steps; i++) {
    const t = i < s.steps.length ? s.steps[i]!.at : s.horizon;
    while (clock.step(t)) await pause(i);
    clock.advanceTo(t);
    if (i < steps) {
      await pause(i);
      apply(engine, s, s.steps[i]!.action);
    }
  }
}

describe('§7a group commit', () => {
  it('§7a: reports arriving in one turn share one write, and their effects go out only after it', async () => {
    const store = new MemoryStore();
    let writes = 0;
    const executor = new RecordingExecutor();
    const counting = { ...store, load: () => store.load(), compact: (s: EngineSnapshot) => store.compact(s), append: (e: JournalEntry) => store.append(e), appendBatch: (entries: readonly JournalEntry[]) => { writes++; entries.forEach((e) => store.append(e)); } };
    const engine = createEngine({ executor, clock: new VirtualClock(), store: counting }, { heartbeatMs: 0, commit: 'group' });
    engine.upsertNodes(nodes(200));
    engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    expect(executor.starts).toHaveLength(0); // not durable yet: nothing went out
    await engine.committed();
    expect(writes).toBe(1);
    expect(executor.starts).toHaveLength(200);
    let heard = 0;
    engine.on('deployment.state', () => heard++);
    for (const n of nodes(200)) engine.reportExecution({ node: n.id, job: JOB, version: 1, status: 'started' });
    expect(store.journalLength).toBe(201);
    expect(engine.status(JOB)!.state).toBe('completed'); // decided at once ...
    expect(heard).toBe(0);
    await engine.committed(); // ... heard once durable
    expect(writes).toBe(2);
    expect(store.journalLength).toBe(401);
    expect(heard).toBe(1);
    engine.dispose();
  });

  it('§7a: a turn of more than 5,000 inputs is split into bounded writes, and its effects follow the last one', async () => {
    const store = new MemoryStore();
    const sizes: number[] = [];
    const executor = new RecordingExecutor();
    const counting = { load: () => store.load(), compact: (s: EngineSnapshot) => store.compact(s), append: (e: JournalEntry) => store.append(e), appendBatch: (entries: readonly JournalEntry[]) => { sizes.push(entries.length); entries.forEach((e) => store.append(e)); } };
    const engine = createEngine({ executor, clock: new VirtualClock(), store: counting }, { heartbeatMs: 0, commit: 'group', compactEvery: 1e9 });
    for (const node of nodes(12_000)) engine.upsertNode(node);
    engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    await engine.committed();
    expect(sizes).toEqual([5000, 5000, 2001]);
    expect(executor.starts).toHaveLength(12_000);
    engine.dispose();
  });

  it('§7a: a store that fails a group write delivers none of its effects, says so on `error`, and takes no more input', async () => {
    const store = new MemoryStore();
    const executor = new RecordingExecutor();
    let fail = false;
    const write = (entries: readonly JournalEntry[]) => {
      if (fail) throw new Error('disk full');
      entries.forEach((e) => store.append(e));
    };
    const failing = { load: () => store.load(), compact: (s: EngineSnapshot) => store.compact(s), append: (e: JournalEntry) => write([e]), appendBatch: write };
    const errors: string[] = [];
    const engine = createEngine({ executor, clock: new VirtualClock(), store: failing }, { heartbeatMs: 0, commit: 'group', onError: (e) => errors.push(`${e.source}: ${e.message}`) });
    engine.upsertNodes(nodes(3));
    await engine.committed();
    fail = true;
    engine.submit(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } }));
    await expect(engine.committed()).rejects.toThrow('disk full');
    expect(executor.starts).toHaveLength(0);
    expect(errors).toEqual(['store: disk full']);
    expect(() => engine.pause(JOB)).toThrow(/store failed/);
    // Reopened, the store holds the nodes and not the submission nobody heard of.
    const reopened = openEngine({ executor: new RecordingExecutor(), clock: new VirtualClock(), store }, { heartbeatMs: 0 });
    expect(reopened.nodes()).toHaveLength(3);
    expect(reopened.status(JOB)).toBeUndefined();
  });

  it('§7a property: group commit over an asynchronous store delivers exactly what committing each input does, in the same order', async () => {
    let interleaved = 0;
    let batched = 0;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(30), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), fc.integer({ min: 0, max: 3 }), async (s, yields, delay) => {
        const referenceClock = new VirtualClock();
        const reference = createEngine({ executor: new RecordingExecutor(), clock: referenceClock, store: new MemoryStore() }, { heartbeatMs: 0, maxConcurrentUpdates: s.cap });
        const expected = delivered(reference);
        begin(reference, s);
        await drive(reference, referenceClock, s, async () => {});

        const clock = new VirtualClock();
        const store = new SlowStore(() => delay);
        const engine = await openGroupEngine(store, clock, s.cap);
        const got = delivered(engine);
        begin(engine, s);
        let k = 0;
        await drive(engine, clock, s, async () => {
          if (yields[k++ % yields.length]) {
            interleaved++;
            await turn();
          }
        });
        await engine.committed();
        await store.close();
        if (store.writes < s.steps.length) batched++;
        expect(got).toEqual(expected);
        expect(strip(engine.snapshot())).toEqual(strip(reference.snapshot()));
        for (const d of reference.deployments()) outcomes.set(d.state, (outcomes.get(d.state) ?? 0) + 1);
        engine.dispose();
        reference.dispose();
      }),
      { numRuns: 60 },
    );
    // The runs reach the interesting case: commits landing between inputs, and inputs sharing a write.
    expect(interleaved).toBeGreaterThan(100);
    expect(batched).toBeGreaterThan(30);
    // ... and rollouts of every kind: completed, failed, rolled back (the counts are printed for the reviewer).
    console.log('group commit property, deployments by final state:', Object.fromEntries(outcomes));
    expect(outcomes.get('completed') ?? 0).toBeGreaterThan(0);
    expect((outcomes.get('failed') ?? 0) + (outcomes.get('rolled_back') ?? 0) + (outcomes.get('rolling_back') ?? 0)).toBeGreaterThan(5);
  }, 120_000);

  it('§7a property: after a crash at any moment, everything that went out is what the durable journal decides', async () => {
    const outcomes = { lostInputs: 0, delivered: 0, states: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(30), fc.nat(), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), async (s, crashAt, yields) => {
        const clock = new VirtualClock();
        const store = new SlowStore(() => 1);
        const engine = await openGroupEngine(store, clock, s.cap);
        const before = delivered(engine);
        begin(engine, s);
        let k = 0;
        await drive(engine, clock, s, async () => void (yields[k++ % yields.length] && (await turn())), crashAt % (s.steps.length + 1));
        store.crash();
        const accepted = (engine as unknown as { journal: { recorded: number } }).journal.recorded;
        engine.dispose();
        const journal = store.durable.load();
        // The reference: the durable journal alone, every effect it decides delivered again (nothing assumed delivered).
        const replayed = MemoryStore.from({ snapshot: journal.snapshot === null ? null : { ...journal.snapshot, outbox: { ...(journal.snapshot as unknown as { outbox: object }).outbox, delivered: 0 } } as EngineSnapshot, journal: journal.journal.map((e) => ({ ...e, delivered: 0 })) });
        const decided: string[] = [];
        const reopened = openEngine({ executor: { start: (r) => decided.push(`start ${JSON.stringify(r)}`), stop: (r) => decided.push(`stop ${JSON.stringify(r)}`) }, clock: new VirtualClock(), store: replayed }, { heartbeatMs: 0, maxConcurrentUpdates: s.cap });
        for (const type of EVENT_TYPES) if (type !== 'decision') reopened.on(type, ((e: object) => decided.push(`${type} ${JSON.stringify(e)}`)) as never);
        await Promise.resolve();
        const known = new Set(decided);
        for (const item of before) expect(known.has(item), `went out but the store cannot account for it: ${item}`).toBe(true);
        outcomes.delivered += before.length;
        for (const d of reopened.deployments()) outcomes.states.set(d.state, (outcomes.states.get(d.state) ?? 0) + 1);
        if (journal.journal.length < accepted) outcomes.lostInputs++;
        reopened.dispose();
      }),
      // 60 runs reached a failed or rolled-back deployment 6-13 times, once only once (a red CI): 180 keep the check from being luck.
      { numRuns: 180 },
    );
    expect(outcomes.delivered).toBeGreaterThan(200);
    expect(outcomes.lostInputs).toBeGreaterThan(5); // crashes that lost inputs still in flight
    console.log('crash property, deployments by state at the crash (as the durable journal has them):', Object.fromEntries(outcomes.states));
    expect((outcomes.states.get('failed') ?? 0) + (outcomes.states.get('rolled_back') ?? 0) + (outcomes.states.get('rolling_back') ?? 0)).toBeGreaterThan(2);
  }, 120_000);
});

async function openGroupEngine(store: SlowStore, clock: VirtualClock, cap: number): Promise<Engine> {
  const { openReplica } = await import('../src/engine/index.js');
  return openReplica({ executor: new RecordingExecutor(), clock, store }, { heartbeatMs: 0, maxConcurrentUpdates: cap });
}

/** The decided state: the snapshot without its clock time and delivery bookkeeping. */
function strip(snapshot: EngineSnapshot): unknown {
  const { at: _at, outbox, ...rest } = snapshot as unknown as { at: number; outbox: { seq: number } };
  return { ...rest, seq: outbox.seq };
}
