/**
 * `--store PATH_OR_URL` of `watch` and `status`: opens an engine's store
 * read-only, without the lease. A path (or a `file:` URL) is a SQLite store;
 * a `postgres://` or `postgresql://` URL is a PostgreSQL store, read through
 * `PostgresObserver`. Either answers the same questions, and a problem with
 * the store is bad input naming it (exit 2); the password of a URL never
 * appears in a message.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEngine, VirtualClock, type DeploymentStatus, type Engine, type JournalEntry, type Store } from '../engine/index.js';
import { PostgresStoreError } from '../engine/store/postgres/errors.js';
import { describeTarget, DEFAULT_SCHEMA } from '../engine/store/postgres/options.js';
import type { LeaseView, PostgresObserver } from '../engine/store/postgresObserver.js';
import { InputError, RunError } from './errors.js';
import type { EngineSnapshot } from '../engine/types.js';

/** What a store holds, as committed: the last snapshot and the journal since it. */
export interface StoredState {
  snapshot: EngineSnapshot | null;
  journal: JournalEntry[];
}

/** `read()` found nothing committed since the previous read. */
export const UNCHANGED: unique symbol = Symbol('unchanged');

export interface StoreSource {
  readonly kind: 'sqlite' | 'postgresql';
  /** The store as messages name it (a URL without its password). */
  readonly name: string;
  /** The committed state; null while the writer has not set the store up; UNCHANGED when nothing was committed since the last read. */
  read(): Promise<StoredState | null | typeof UNCHANGED>;
  /** Who leads a PostgreSQL store; null for SQLite (one writing process, no lease). */
  lease(): Promise<LeaseView | null>;
  close(): Promise<void>;
}

export interface StoreSourceOptions {
  /** PostgreSQL schema holding the store's tables (default `fleet_rollout`); refused for a SQLite store. */
  schema?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

export async function openStoreSource(store: string, cwd: string, options: StoreSourceOptions = {}): Promise<StoreSource> {
  if (POSTGRES_URL.test(store)) return openPostgres(store, options.schema ?? DEFAULT_SCHEMA);
  if (options.schema !== undefined) throw InputError.single(store, `--schema ${options.schema}: a schema applies to a PostgreSQL store only; this is the path of a SQLite store`, '--schema');
  return openSqlite(store, cwd);
}

async function openSqlite(store: string, cwd: string): Promise<StoreSource> {
  const file = store.startsWith('file:') ? fileURLToPath(store) : resolve(cwd, store);
  let sqlite: typeof import('../sqlite.js');
  try {
    sqlite = await import('../sqlite.js');
  } catch (error) {
    throw new RunError(`--store ${store}: ${(error as Error).message}`); // the driver is not installed: not the input's fault
  }
  const { SqliteStoreReader, StoreFileError } = sqlite;
  /** A store problem is bad input about the `--store` the user wrote (exit 2). */
  const sqliteTranslated = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof StoreFileError) throw InputError.single(store, error.reason);
      throw error;
    }
  };
  const reader = sqliteTranslated(() => new SqliteStoreReader(file));
  let seen: number | null = null;
  return {
    kind: 'sqlite',
    name: store,
    read: async () =>
      sqliteTranslated(() => {
        const version = reader.version(); // SQLite's data_version: cheap, moves at every commit of another connection
        if (version === seen) return UNCHANGED;
        const state = reader.load();
        seen = version;
        return state;
      }),
    lease: async () => null,
    close: async () => reader.close(),
  };
}

async function openPostgres(url: string, schema: string): Promise<StoreSource> {
  const name = describeTarget(url, schema);
  const { PostgresObserver } = await import('../engine/store/postgresObserver.js');
  let observer: PostgresObserver;
  try {
    observer = await PostgresObserver.open({ connectionString: url, schema });
  } catch (error) {
    if (error instanceof PostgresStoreError) throw storeProblem(error, name);
    throw error;
  }
  let seen: string | null = null;
  /** Once open, a failing read is the watch breaking (the server went away), not bad input. */
  const broken = (error: unknown): never => {
    throw new RunError(`${name}: cannot read the store: ${(error as Error).message}`);
  };
  return {
    kind: 'postgresql',
    name,
    read: async () => {
      const state = await observer.load().catch(broken);
      const version = fingerprint(state);
      if (version === seen) return UNCHANGED;
      seen = version;
      return state;
    },
    lease: () => observer.lease().catch(broken),
    close: () => observer.close(),
  };
}

/**
 * PostgreSQL has no cheap commit counter for a reader, so the state is read
 * each time and only its restore is skipped when nothing changed: every
 * commit appends to the journal or replaces the snapshot (which empties the
 * journal), so the journal's length and last entry tell two states apart.
 */
function fingerprint(state: StoredState): string {
  const last = state.journal.at(-1);
  return `${state.snapshot === null ? '-' : 's'}:${state.journal.length}:${last === undefined ? '' : `${last.at}:${JSON.stringify(last.input)}`}`;
}

/**
 * PostgresStoreError's message begins with its target, which the CLI names
 * itself. An option refused before connecting can only be the schema (the
 * URL is any non-empty text): it is reported as the `--schema` field.
 */
function storeProblem(error: PostgresStoreError, name: string): InputError {
  const reason = error.message.slice(error.target.length + 2);
  if (error.target === OPTIONS_TARGET) return InputError.single(name, reason.replace(/^schema: /, ''), '--schema');
  return InputError.single(name, reason);
}
const OPTIONS_TARGET = 'PostgresObserver options';

/**
 * The deployments in a committed state, computed without writing anything:
 * the snapshot and journal are restored into an engine of their own (a no-op
 * executor, a virtual clock that never moves, a store that keeps nothing),
 * which answers like the engine that wrote them. `inspect` runs before it is disposed.
 */
export function withRestoredEngine<T>(state: StoredState, now: number, inspect: (engine: Engine) => T): T {
  const keepsNothing: Store = { load: () => state, append: () => undefined, compact: () => undefined };
  const engine = openEngine({ executor: { start: () => undefined, stop: () => undefined }, clock: new VirtualClock(now), store: keepsNothing });
  try {
    return inspect(engine);
  } finally {
    engine.dispose();
  }
}

export function deploymentsIn(state: StoredState | null, now: number): DeploymentStatus[] {
  return state === null ? [] : withRestoredEngine(state, now, (engine) => engine.deployments());
}
