/**
 * `watch --store PATH_OR_URL`: which store to observe. A path (or a `file:`
 * URL) is a SQLite store; a `postgres://` URL will name a PostgreSQL store
 * once that store exists (refused for now, saying so). Every observer
 * answers the same three questions.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStoreReader, StoreFileError } from '../../engine/store/sqliteStore.js';
import { InputError, UsageError } from '../errors.js';
import type { StoredState } from './view.js';

export interface StoreObserver {
  /** Changes whenever the writer committed something: load again only then. */
  version(): number | string;
  /** The committed state, or null while the writer has not set the store up yet. */
  load(): StoredState | null;
  close(): void;
}

export function openObserver(store: string, cwd: string): StoreObserver {
  if (/^postgres(ql)?:\/\//i.test(store)) {
    throw new UsageError(`--store ${store}: PostgreSQL stores cannot be watched yet; pass the path of a SQLite store`);
  }
  const file = store.startsWith('file:') ? fileURLToPath(store) : resolve(cwd, store);
  return translated(store, () => {
    const reader = new SqliteStoreReader(file);
    return {
      version: () => translated(store, () => reader.version()),
      load: () => translated(store, () => reader.load()),
      close: () => reader.close(),
    };
  });
}

/** A store problem is bad input about the `--store` the user wrote (exit 2). */
function translated<T>(store: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof StoreFileError) throw InputError.single(store, error.reason);
    throw error;
  }
}
