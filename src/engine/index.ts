/**
 * The rollout engine (contract §1, §4-§7): `createEngine` for a fresh engine,
 * `openEngine` to resume from a store after a crash, `Engine.restore` from a
 * snapshot. Executors must treat `start` as idempotent by `executionId`: an
 * engine reopened after a crash starts every execution still in flight again.
 */
import { Engine, type EnginePorts, type ReplicaPorts } from './engine.js';
import type { Store } from './ports.js';
import type { EngineOptions } from './types.js';

export function createEngine(ports: EnginePorts, options?: EngineOptions): Engine {
  return new Engine(ports, options);
}

/** Restores from the store when it holds state (snapshot + journal replay), else a new engine writing to it. */
export function openEngine(ports: EnginePorts & { store: Store }, options?: EngineOptions): Engine {
  return Engine.recover(ports, options);
}

/**
 * §7a "One leader": an engine on an asynchronous store shared by replicas
 * (`PostgresStore`, with `leadership: store.leadership`). Resolves once this
 * replica holds the lease (a standby waits here until the leader's lease runs
 * out or is released; `signal` gives up), has loaded what earlier leaders
 * wrote, re-armed timers past the downtime (§4 v1.1) and re-delivered what was
 * in flight. It then acts only while the lease holds: inputs commit in groups
 * (`committed()`), each start carries the lease `epoch`, and on losing the
 * lease it stops, emits `leadership.lost` and refuses input (`not_leader`).
 */
export function openReplica(ports: ReplicaPorts, options?: EngineOptions & { signal?: AbortSignal }): Promise<Engine> {
  return Engine.recoverReplica(ports, options);
}

export { Engine, DEFAULT_COMPACT_EVERY, DEFAULT_HISTORY_LIMIT, type EnginePorts, type ReplicaPorts, type LeadershipStatus } from './engine.js';
export { sameSpec } from './sameSpec.js';
export { CommandError, InputError, type CommandErrorCode } from './errors.js';
export { DEFAULT_REVERT_DEADLINE_MS, isAtRest, isLive, isTerminal, beginsRollback, waitsForOperator } from '../../machines/index.js';
export { MemoryStore } from './store/memoryStore.js';
export { RealClock } from './clocks/realClock.js';
export { VirtualClock } from './clocks/virtualClock.js';
export type * from './ports.js';
export type * from './types.js';
