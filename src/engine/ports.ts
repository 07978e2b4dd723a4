/**
 * The engine's three ports. The engine never reads the wall clock, never
 * runs anything and never touches a disk itself: it goes through these.
 * Real and virtual implementations sit next to each other in this folder
 * (clocks) and in `store/` (stores).
 */
import type { EngineInput, EngineOptions, EngineSnapshot } from './types.js';

/** Time, in milliseconds. Real: epoch ms. Virtual: ms since the simulation started. */
export interface Clock {
  now(): number;
  /** Calls `fire` once the clock reaches `at` (absolute ms). Returns a handle for `cancel`. */
  schedule(at: number, fire: () => void): TimerHandle;
  /**
   * Optional: calls `call(arg)` once the clock reaches `at`, like `schedule`
   * (same order among timers due at the same instant). One callback then
   * serves many timers, with no closure each. Returns a handle (a number >= 0) for `cancel`.
   */
  scheduleCall?(at: number, call: (arg: number) => void, arg: number): number;
  cancel(handle: TimerHandle): void;
}
export type TimerHandle = unknown;

/** What the engine asks the orchestrator to do on one node. */
export interface ExecutionRequest {
  /** Stable id, deterministic for (deployment, node, attempt): executors must treat a repeated start as idempotent. */
  executionId: string;
  deployment: string;
  /** `namespace/name`. */
  job: string;
  version: number;
  node: string;
  /** `update`: roll the new version out; `revert`: go back to `version` during a rollback. */
  purpose: 'update' | 'revert';
  /** The normalized JobSpec of `version` (its `config` is the executor's payload). */
  spec: import('../spec/types.js').JobSpec;
  /**
   * Replicas only (`openReplica`): the lease epoch of the replica that sent
   * this start (stops carry it too). It grows at every change of leader, so an agent that already
   * saw a higher epoch can ignore a call from a replica that lost its lease.
   */
  epoch?: number;
}

export interface Executor {
  start(request: ExecutionRequest): void;
  /** `epoch`: as on `ExecutionRequest` (replicas only). */
  stop(request: { executionId: string; node: string; job: string; version: number; epoch?: number }): void;
}

/**
 * Durable state: a snapshot plus the journal of inputs accepted since it.
 * `append` must be durable when it returns: the engine writes each input
 * before acting on it, so a crash loses nothing.
 */
export interface Store {
  /** `heartbeat`: the last one written by `heartbeat` (absent when the store keeps none). */
  load(): { snapshot: EngineSnapshot | null; journal: JournalEntry[]; heartbeat?: Heartbeat };
  append(entry: JournalEntry): void;
  /** Several entries durable together (one transaction, one fsync); optional: the engine appends one by one without it. */
  appendBatch?(entries: readonly JournalEntry[]): void;
  /**
   * Records that the engine was alive (§4 v1.1 downtime) and how far it had
   * delivered (§7a). Optional: without it the last journal entry says both.
   * Only the last one is kept.
   */
  heartbeat?(beat: Heartbeat): void;
  /** Replace the snapshot and drop the journal entries it covers. */
  compact(snapshot: EngineSnapshot): void;
  /**
   * Optional: compacts every entry appended so far without the engine's
   * snapshot, off the engine's thread: the store computes it from its own
   * snapshot and journal, as recovery would (SqliteStore). `replay`: the
   * engine options that change decisions. False when it cannot now (the
   * engine then calls `compact`). `settled` is called once the compaction is
   * done or superseded by a `compact` (null), or failed (the error; the
   * journal is kept whole); it may be called from within a later `append`.
   */
  compactInBackground?(replay: ReplayOptions, settled: (error: Error | null) => void): boolean;
  close?(): void;
}

export interface JournalEntry {
  /** Clock time (ms) at which the input was accepted. */
  at: number;
  input: EngineInput;
  /** The `seq` of the last start, stop or event delivered before this input (a store may drop it: recovery then delivers more again). */
  delivered?: number;
}

export interface Heartbeat {
  /** Clock time (ms) at which the engine was alive. */
  at: number;
  /** The `seq` of the last start, stop or event delivered by then. */
  delivered: number;
}

/** The engine options a replay of its journal must share with it: they change what an input decides. */
export type ReplayOptions = Pick<EngineOptions, 'historyLimit' | 'maxConcurrentUpdates'>;
