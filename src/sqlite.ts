/**
 * `fleet-rollout/sqlite`: the SQLite store (one host, the embedded default).
 * Its own entry point because it needs the native module `better-sqlite3`,
 * an optional dependency: a test-only or simulation-only install compiles
 * nothing, and the root `fleet-rollout` entry never loads it.
 */
type SqliteModule = typeof import('./engine/store/sqliteStore.js');

let loaded: SqliteModule;
try {
  loaded = await import('./engine/store/sqliteStore.js');
} catch (error) {
  const code = (error as { code?: string }).code;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes('better-sqlite3')) {
    throw new Error('fleet-rollout/sqlite needs the optional dependency better-sqlite3, which is not installed (was it installed with --omit=optional?): run `npm install better-sqlite3@12`. MemoryStore (from fleet-rollout) needs nothing.', { cause: error });
  }
  throw error;
}

export const SqliteStore = loaded.SqliteStore;
export type SqliteStore = InstanceType<SqliteModule['SqliteStore']>;
export const SqliteStoreReader = loaded.SqliteStoreReader;
export type SqliteStoreReader = InstanceType<SqliteModule['SqliteStoreReader']>;
export const StoreFileError = loaded.StoreFileError;
export type StoreFileError = InstanceType<SqliteModule['StoreFileError']>;
export const SQLITE_SCHEMA_VERSION = loaded.SQLITE_SCHEMA_VERSION;
export type { SqliteStoreOptions } from './engine/store/sqliteStore.js';
