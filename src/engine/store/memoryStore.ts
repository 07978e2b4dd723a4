/**
 * A `Store` in memory, for tests and the simulator: it keeps JSON copies, so
 * what `load` returns is exactly what a durable store would give back.
 */
import type { JournalEntry, Store } from '../ports.js';
import type { EngineSnapshot } from '../types.js';

export class MemoryStore implements Store {
  private snapshot: string | null = null;
  private journal: string[] = [];
  private lastBeat: number | null = null;

  /** A store holding what `load()` of another returned: a crashed store's state, for a recovery test. */
  static from(state: { snapshot: EngineSnapshot | null; journal: JournalEntry[] }): MemoryStore {
    const store = new MemoryStore();
    store.snapshot = state.snapshot === null ? null : JSON.stringify(state.snapshot);
    store.journal = state.journal.map((entry) => JSON.stringify(entry));
    return store;
  }

  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat: number | null } {
    return {
      heartbeat: this.lastBeat,
      snapshot: this.snapshot === null ? null : (JSON.parse(this.snapshot) as EngineSnapshot),
      journal: this.journal.map((entry) => JSON.parse(entry) as JournalEntry),
    };
  }

  append(entry: JournalEntry): void {
    this.journal.push(JSON.stringify(entry));
  }

  heartbeat(at: number): void {
    this.lastBeat = at;
  }

  compact(snapshot: EngineSnapshot): void {
    this.snapshot = JSON.stringify(snapshot);
    this.journal = [];
  }

  /** Journal entries since the last compaction. */
  get journalLength(): number {
    return this.journal.length;
  }
}
