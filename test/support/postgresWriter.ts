/**
 * A replica that writes a PostgreSQL store for the read-only commands' tests
 * (watch, status): a real engine opened with `openReplica` on a real
 * `PostgresStore` with its leadership (§7a), in a throwaway cluster.
 */
import { openReplica, type Clock, type Engine, type EngineOptions, type Executor } from '../../src/engine/index.js';
import { PostgresStore } from '../../src/engine/store/postgresStore.js';

export interface PostgresWriter {
  engine: Engine;
  store: PostgresStore;
  /** Resolves once every input the engine accepted so far is committed. */
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
  // No heartbeat timer unless asked: the tests' virtual clocks never fire it, and a real one would keep writing.
  const engine = await openReplica({ executor: parts.executor, clock: parts.clock, store, leadership: store.leadership }, { heartbeatMs: 0, ...parts.options });
  const flushed = (): Promise<void> => engine.committed();
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
