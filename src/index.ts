/**
 * fleet-rollout's library entry: the JobSpec model, node selection and the
 * rollout engine with its ports. The test harness is `fleet-rollout/testing`;
 * the SQLite store is `fleet-rollout/sqlite` (it needs the optional native
 * module better-sqlite3, so this entry never loads it).
 */
export * from './spec/index.js';
export * from './selector/index.js';
export * from './engine/index.js';
export { PostgresStore, FencedError, PostgresStoreError, type PostgresStoreOptions, type AsyncStore, type Leadership, type LeaseGrant, type StoreState } from './engine/store/postgresStore.js';
export { PostgresObserver, type LeaseView, type PostgresObserverOptions } from './engine/store/postgresObserver.js';
