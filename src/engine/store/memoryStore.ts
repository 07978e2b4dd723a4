/**
 * A `Store` in memory, for tests and the simulator: it keeps JSON copies, so
 * what `load` returns is exactly what a durable store would give back.
 */
import type { Heartbeat, JournalEntry, Store } from '../ports.js';
import type { EngineSnapshot } from '../types.js';

export class MemoryStore implements Store {
  private snapshot: string | null = null;
  private journal: string[] = [];
  private lastBeat: Heartbeat | null = null;

  /** A store holding what `load()` of another returned: a crashed store's state, for a recovery test. */
  static from(state: { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat | null }): MemoryStore {
    const store = new MemoryStore();
    store.lastBeat = state.heartbeat ?? null;
    store.snapshot = state.snapshot === null ? null : JSON.stringify(state.snapshot);
    store.journal = state.journal.map((entry) => JSON.stringify(entry));
    return store;
  }

  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat } {
    return {
      ...(this.lastBeat === null ? {} : { heartbeat: { ...this.lastBeat } }),
      snapshot: this.snapshot === null ? null : (JSON.parse(this.snapshot) as EngineSnapshot),
      journal: this.journal.map((entry) => JSON.parse(entry) as JournalEntry),
    };
  }

  append(entry: JournalEntry): void {
    this.journal.push(JSON.stringify(entry));
  }

  heartbeat(beat: Heartbeat): void {
    this.lastBeat = { ...beat };
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
