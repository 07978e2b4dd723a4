/**
 * fleet-rollout's library entry: the JobSpec model, node selection and the
 * rollout engine with its ports. The test harness is `fleet-rollout/testing`.
 */
export * from './spec/index.js';
export * from './selector/index.js';
export * from './engine/index.js';
export { SqliteStore, StoreFileError, type SqliteStoreOptions } from './engine/store/sqliteStore.js';
