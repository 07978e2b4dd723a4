/**
 * How inputs become durable before anything they decided goes out (§7a
 * write-ahead). The engine hands each input it acted on to `record`, with the
 * outbox position after that input's calls and events; once the store holds
 * the entry, those are released and delivered.
 *
 * - `each` (the default for a synchronous store): the entry is written before
 *   `record` returns, so an input is durable when the engine call returns.
 * - `group` (always for an asynchronous store): entries wait for the end of
 *   the current turn of the event loop, then everything that arrived together
 *   is written in one batch (one transaction, one fsync). While a batch is
 *   being committed the next one fills. `committed()` tells a caller when what
 *   it handed over is durable (e.g. before acknowledging an agent's report).
 *
 * Compaction rides on the writes: right after a batch was handed to the
 * store, the engine's state is exactly the journal's, so that is when a
 * snapshot may replace the entries. A store that compacts in the background
 * (SqliteStore: a worker replays its own journal) is asked to instead, and
 * the engine serializes nothing; one compaction runs at a time, one the
 * store fails is reported and done synchronously at the next write, and one
 * that falls far behind is overtaken by a synchronous one.
 */
import type { JournalEntry, ReplayOptions, Store } from './ports.js';
import type { AsyncStore } from './store/asyncStore.js';
import type { EngineSnapshot } from './types.js';

export type CommitMode = 'each' | 'group';

export interface JournalHooks {
  /** The inputs whose calls and events precede `mark` are durable. */
  durable(mark: number): void;
  /** The store refused or failed a write: nothing after the last durable input may go out. */
  failed(error: Error): void;
  snapshot(): EngineSnapshot;
  /** A background compaction failed: the journal is whole, the next write compacts synchronously. */
  compactionFailed(error: Error): void;
  /** Handed to a store that compacts in the background. */
  replay: ReplayOptions;
}

/**
 * A background compaction still under way after this many times `compactEvery`
 * further inputs is overtaken by a synchronous one: the journal stays bounded
 * however slow the worker is.
 */
const OVERTAKEN_AFTER = 16;

/** Most entries in one write: a larger turn is split, so one commit stays bounded. */
const MAX_BATCH = 5000;

export class Journal {
  private pending: JournalEntry[] = [];
  /** Outbox position after the pending entries' effects. */
  private pendingMark = -1;
  private scheduled = false;
  private writing = false;
  private failure: Error | null = null;
  private recorded = 0;
  private written = 0;
  private readonly waiters: { upTo: number; resolve(): void; reject(error: Error): void }[] = [];
  private sinceCompact = 0;
  private inBackground = false;
  /** The last background compaction failed: the next one is synchronous. */
  private synchronousNext = false;

  constructor(
    private readonly store: Store | AsyncStore,
    readonly mode: CommitMode,
    private readonly compactEvery: number,
    private readonly hooks: JournalHooks,
  ) {}

  /** Nothing held: every input recorded is durable and nothing is being written. */
  get idle(): boolean {
    return !this.writing && this.pendingMark < 0;
  }

  /** `each`: throws when the store refuses (the caller discards the input's effects); `group`: a failure reaches `hooks.failed`. */
  record(entries: readonly JournalEntry[], mark: number): void {
    if (this.mode === 'each') {
      if (entries.length > 0) this.writeNow(entries);
      this.afterWrite(entries.length);
      this.hooks.durable(mark);
      return;
    }
    for (const entry of entries) this.pending.push(entry);
    this.recorded += entries.length;
    this.pendingMark = mark;
    // Never written here: the write's effects must not go out while the engine is still handling the input.
    this.schedule();
  }

  /** Resolves once every input recorded before the call is durable and its effects were delivered; rejects if the store failed. */
  committed(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.idle) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.recorded, resolve, reject }));
  }

  /** A snapshot now (when the engine stops cleanly): in `group` mode after what is pending. */
  compactNow(): void | Promise<void> {
    this.sinceCompact = 0;
    return this.store.compact(this.hooks.snapshot());
  }

  private writeNow(entries: readonly JournalEntry[]): void | Promise<void> {
    const store = this.store;
    if (entries.length === 1) return store.append(entries[0]!);
    if (store.appendBatch !== undefined) return store.appendBatch(entries);
    const writes = entries.map((entry) => store.append(entry));
    if (writes[0] instanceof Promise) return Promise.all(writes).then(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.failure !== null || this.pendingMark < 0) return;
    const entries = this.pending.length <= MAX_BATCH ? this.pending : this.pending.splice(0, MAX_BATCH);
    const rest = entries === this.pending ? [] : this.pending;
    const mark = rest.length === 0 ? this.pendingMark : -1;
    this.pending = rest;
    if (rest.length === 0) this.pendingMark = -1;
    let write: void | Promise<void>;
    try {
      write = entries.length === 0 ? undefined : this.writeNow(entries);
      this.afterWrite(entries.length);
    } catch (error) {
      return this.fail(error as Error);
    }
    if (write instanceof Promise) {
      this.writing = true;
      write.then(
        () => {
          this.writing = false;
          this.done(entries.length, mark);
          if (this.pendingMark >= 0) this.flush();
        },
        (error: Error) => this.fail(error),
      );
    } else {
      this.done(entries.length, mark);
      if (this.pendingMark >= 0) this.schedule();
    }
  }

  /** Compacts when due, right after entries were handed to the store (the state is then exactly the journal's). */
  private afterWrite(count: number): void {
    this.sinceCompact += count;
    if (this.sinceCompact < this.compactEvery) return;
    if (this.inBackground ? this.sinceCompact < OVERTAKEN_AFTER * this.compactEvery : this.compactBehind()) return;
    const compaction = this.compactNow();
    if (compaction instanceof Promise) compaction.catch((error: Error) => this.fail(error));
  }

  /** Hands the compaction to the store when it can do it in the background; false: compact now. */
  private compactBehind(): boolean {
    const store = this.store;
    const background = !this.synchronousNext && 'compactInBackground' in store ? store.compactInBackground : undefined;
    this.synchronousNext = false;
    // Settled synchronously (maybe inside a later append): an engine fed in one synchronous loop runs no microtask.
    const started = background?.call(store, this.hooks.replay, (error) => {
      this.inBackground = false;
      if (error === null) return;
      this.synchronousNext = true;
      this.sinceCompact = Math.max(this.sinceCompact, this.compactEvery);
      // Reported outside the write that noticed it: a listener may call the engine.
      queueMicrotask(() => this.hooks.compactionFailed(error));
    });
    if (started !== true) return false;
    this.sinceCompact = 0;
    this.inBackground = true;
    return true;
  }

  private done(count: number, mark: number): void {
    this.written += count;
    // A batch split off a large turn releases nothing: the turn's effects follow its last part.
    if (mark >= 0) this.hooks.durable(mark);
    if (mark < 0) return;
    while (this.waiters.length > 0 && this.waiters[0]!.upTo <= this.written) this.waiters.shift()!.resolve();
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    this.writing = false;
    this.pending = [];
    this.pendingMark = -1;
    this.hooks.failed(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
