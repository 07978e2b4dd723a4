/**
 * The rollout engine (contract §1, §4-§7): `createEngine` for a fresh engine,
 * `openEngine` to resume from a store after a crash, `Engine.restore` from a
 * snapshot. Executors must treat `start` as idempotent by `executionId`: an
 * engine reopened after a crash starts every execution still in flight again.
 */
import { Engine, type EnginePorts } from './engine.js';
import type { Store } from './ports.js';
import type { EngineOptions } from './types.js';

export function createEngine(ports: EnginePorts, options?: EngineOptions): Engine {
  return new Engine(ports, options);
}

/** Restores from the store when it holds state (snapshot + journal replay), else a new engine writing to it. */
export function openEngine(ports: EnginePorts & { store: Store }, options?: EngineOptions): Engine {
  return Engine.recover(ports, options);
}

export { Engine, DEFAULT_COMPACT_EVERY, DEFAULT_HISTORY_LIMIT, type EnginePorts } from './engine.js';
export { sameSpec } from './sameSpec.js';
export { CommandError, InputError, type CommandErrorCode } from './errors.js';
export { DEFAULT_REVERT_DEADLINE_MS, isAtRest, isLive, isTerminal, beginsRollback, waitsForOperator } from '../../machines/index.js';
export { MemoryStore } from './store/memoryStore.js';
export { RealClock } from './clocks/realClock.js';
export { VirtualClock } from './clocks/virtualClock.js';
export type * from './ports.js';
export type * from './types.js';
