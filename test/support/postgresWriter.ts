/**
 * A replica that writes a PostgreSQL store for the read-only commands' tests
 * (watch, status): a real `PostgresStore` holding the lease, under a real
 * engine. The engine's `Store` port is synchronous and the PostgreSQL store is
 * not adopted by the engine yet (docs/replicas.md, "For the engine"), so each
 * write is handed to the store at once, in order, and `flushed()` waits until
 * all are committed. Good enough for a writer whose crashes are not tested.
 */
import { openEngine, type Clock, type Engine, type EngineOptions, type Executor, type JournalEntry, type Store } from '../../src/engine/index.js';
import { PostgresStore } from '../../src/engine/store/postgresStore.js';
import type { EngineSnapshot } from '../../src/engine/types.js';

export interface PostgresWriter {
  engine: Engine;
  store: PostgresStore;
  /** Resolves once everything the engine wrote so far is committed. */
  flushed(): Promise<void>;
  /** Flushes, disposes of the engine, and closes the store (releasing the lease). */
  close(): Promise<void>;
}

export async function openPostgresWriter(
  url: string,
  schema: string,
  parts: { executor: Executor; clock: Clock; options?: EngineOptions; holder?: string },
): Promise<PostgresWriter> {
  const store = await PostgresStore.open({ connectionString: url, schema, holder: parts.holder ?? `test-writer-${schema}` });
  const grant = await store.leadership.acquire();
  if (grant === null) throw new Error(`${schema}: another replica holds the lease`);
  const state = await store.load();
  const pending: Promise<void>[] = [];
  let failure: Error | null = null;
  const track = (write: Promise<void>): void => {
    pending.push(write.catch((error: Error) => void (failure ??= error)));
  };
  const forwarding: Store = {
    load: () => state,
    append: (entry: JournalEntry) => track(store.append(entry)),
    appendBatch: (entries: readonly JournalEntry[]) => track(store.appendBatch(entries)),
    compact: (snapshot: EngineSnapshot) => track(store.compact(snapshot)),
  };
  const engine = openEngine({ executor: parts.executor, clock: parts.clock, store: forwarding }, parts.options);
  const flushed = async (): Promise<void> => {
    await Promise.all(pending.splice(0));
    if (failure !== null) throw failure;
  };
  return {
    engine,
    store,
    flushed,
    close: async () => {
      await flushed();
      engine.dispose();
      await store.close();
    },
  };
}
