/**
 * The engine shell: it owns the clock, the store and the event emitter, and
 * keeps one deployment room (machines/room.ts) per deployment, the only
 * writer of that deployment's state. Each input is journaled (when a store is
 * given) before it is acted on, then handed to its handler with the shared
 * state (`EngineCore`): the fleet inventory (`inventory.ts`), reports and
 * fired timers (`routing.ts`), jobs and commands (`deployments.ts`). Each
 * routes its input to rooms as events; the effects a room returns
 * (`effects.ts`) arm timers on the clock port, start and stop executions
 * through the executor port and emit events, all delivered after the input's
 * state change is complete (see `Outbox`).
 *
 * Crash safety: `snapshot()` is the complete state as JSON; `openEngine`
 * loads the last snapshot, replays the journal silently and then re-issues
 * `executor.start` for every execution still in flight. Executors must
 * therefore treat a start as idempotent by `executionId`.
 */
import { EventEmitter } from 'eventemitter3';
import { rolloutPolicy } from '../../machines/index.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { RealClock } from './clocks/realClock.js';
import { jobKey, matcherFor, onCommand, onSubmit } from './deployments.js';
import { offerCapacity } from './effects.js';
import { newEngineCore, type EngineCore } from './engineCore.js';
import { CommandError } from './errors.js';
import { EngineTimers } from './engineTimers.js';
import { onConnected, onRemove, onUpsert } from './inventory.js';
import { Outbox } from './outbox.js';
import { loadState, reissueInFlight, snapshotOf } from './persistence.js';
import type { Clock, Executor, JournalEntry, Store } from './ports.js';
import { onExecution, onHealth, onTimer } from './routing.js';
import { asEngineState } from './snapshot.js';
import { statusOf } from './status.js';
import type {
  DeploymentStatus,
  EngineEvents,
  EngineInput,
  EngineOptions,
  EngineSnapshot,
  ExecutionReport,
  HealthReport,
  IgnoredReason,
  OperatorCommand,
  SubmitResult,
} from './types.js';

export interface EnginePorts {
  executor: Executor;
  /** Default: the real clock. */
  clock?: Clock;
  /** Default: none (no journaling). */
  store?: Store;
}

/** Inputs between two compactions of the journal into a snapshot (bounds the journal). */
export const DEFAULT_COMPACT_EVERY = 10_000;

type Listener = (...args: unknown[]) => void;

export class Engine {
  readonly ignoredReports: Record<IgnoredReason, number>;

  private readonly emitter = new EventEmitter();
  private readonly clock: Clock;
  private readonly store: Store | null;
  private readonly compactEvery: number;
  /** The state the handlers (inventory, routing, deployments, effects, persistence) share. */
  private readonly core: EngineCore;

  /**
   * Without a journal nothing keeps an input once it is handled, and inputs
   * are never handled re-entrantly: the hot inputs reuse one object each.
   */
  private readonly unjournaled = {
    health: { type: 'report.health', report: null as unknown as HealthReport } satisfies EngineInput,
    execution: { type: 'report.execution', report: null as unknown as ExecutionReport } satisfies EngineInput,
    timer: { type: 'timer', deployment: '', kind: 'deadline', node: null } as Extract<EngineInput, { type: 'timer' }>,
  };

  private processing = false;
  private disposed = false;
  private sinceCompact = 0;

  /** Use `createEngine`, `openEngine` or `Engine.restore`. */
  constructor(ports: EnginePorts, options: EngineOptions = {}) {
    this.clock = ports.clock ?? new RealClock();
    this.store = ports.store ?? null;
    this.compactEvery = options.compactEvery ?? DEFAULT_COMPACT_EVERY;
    const timers = new EngineTimers(this.clock, ({ deployment, kind, node }) => {
      if (this.store !== null) return void this.accept({ type: 'timer', deployment, kind, node });
      const input = this.unjournaled.timer;
      input.deployment = deployment;
      input.kind = kind;
      input.node = node;
      this.accept(input);
    });
    this.core = newEngineCore(new Outbox(ports.executor, this.emitter), timers, options.maxConcurrentUpdates ?? 0);
    this.ignoredReports = this.core.ignoredReports;
  }

  /** Rebuilds an engine from `snapshot()` and re-arms its timers on the given clock. Starts nothing. */
  static restore(snapshot: EngineSnapshot, ports: EnginePorts, options?: EngineOptions): Engine {
    const engine = new Engine(ports, options);
    loadState(engine.core, asEngineState(snapshot));
    engine.core.timers.scheduleAll();
    return engine;
  }

  /** Used by `openEngine`: loads the store's snapshot, replays its journal silently, re-arms timers and re-issues starts. */
  static recover(ports: EnginePorts & { store: Store }, options?: EngineOptions): Engine {
    const { snapshot, journal } = ports.store.load();
    const engine = new Engine(ports, options);
    if (snapshot !== null) loadState(engine.core, asEngineState(snapshot));
    engine.replay(journal);
    engine.core.timers.scheduleAll();
    reissueInFlight(engine.core, ports.executor);
    if (journal.length > 0) engine.compact();
    return engine;
  }

  // ---- events -------------------------------------------------------------

  on<K extends keyof EngineEvents>(event: K, fn: EngineEvents[K]): this {
    this.emitter.on(event, fn as Listener);
    return this;
  }

  once<K extends keyof EngineEvents>(event: K, fn: EngineEvents[K]): this {
    this.emitter.once(event, fn as Listener);
    return this;
  }

  off<K extends keyof EngineEvents>(event: K, fn?: EngineEvents[K]): this {
    this.emitter.off(event, fn as Listener | undefined);
    return this;
  }

  // ---- inputs -------------------------------------------------------------

  /** §1: a new version when the normalized spec differs from the current one; `unchanged` otherwise. */
  submit(spec: JobSpec): SubmitResult {
    // A spec the engine cannot compute with (bad duration or selector) throws here, before it is journaled.
    rolloutPolicy(spec);
    matcherFor(this.core, jobKey(spec), spec);
    return this.accept({ type: 'submit', spec }) as SubmitResult;
  }

  upsertNode(node: FleetNode): void {
    // Frozen labels (the fleet generator shares one object among many nodes) cannot change under the engine: no copy.
    const labels = Object.isFrozen(node.labels) ? node.labels : { ...node.labels };
    this.accept({ type: 'node.upsert', node: { id: node.id, labels, connected: node.connected } });
  }

  removeNode(id: string): void {
    this.accept({ type: 'node.remove', node: id });
  }

  setConnected(id: string, connected: boolean): void {
    this.accept({ type: 'node.connected', node: id, connected });
  }

  reportExecution(report: ExecutionReport): void {
    if (this.store !== null) return void this.accept({ type: 'report.execution', report });
    this.unjournaled.execution.report = report;
    this.accept(this.unjournaled.execution);
  }

  reportHealth(report: HealthReport): void {
    if (this.store !== null) return void this.accept({ type: 'report.health', report });
    this.unjournaled.health.report = report;
    this.accept(this.unjournaled.health);
  }

  pause(job: string): void {
    this.accept({ type: 'command', command: { type: 'pause', job } });
  }

  resume(job: string): void {
    this.accept({ type: 'command', command: { type: 'resume', job } });
  }

  promote(job: string): void {
    this.accept({ type: 'command', command: { type: 'promote', job } });
  }

  abort(job: string): void {
    this.accept({ type: 'command', command: { type: 'abort', job } });
  }

  /** §7: a new deployment of kind `rollback` toward `version` (default: the last completed one). */
  rollback(job: string, version?: number): SubmitResult {
    const command: OperatorCommand = version === undefined ? { type: 'rollback', job } : { type: 'rollback', job, version };
    return this.accept({ type: 'command', command }) as SubmitResult;
  }

  // ---- inspection ---------------------------------------------------------

  /** A deployment by id, or a job's latest deployment by `namespace/name`. */
  status(deploymentIdOrJob: string): DeploymentStatus | undefined {
    const job = this.core.jobs.get(deploymentIdOrJob);
    const room = this.core.rooms.get(job?.latest ?? deploymentIdOrJob);
    return room === undefined ? undefined : statusOf(room.view);
  }

  deployments(): DeploymentStatus[] {
    return [...this.core.rooms.values()].map((room) => statusOf(room.view));
  }

  /** A node's state within a deployment, e.g. `updating`, `stable`, `reverted`; undefined when not targeted. */
  nodeState(deploymentId: string, node: string): string | undefined {
    return this.core.rooms.get(deploymentId)?.view.nodes.get(node)?.state;
  }

  /** The complete state as plain JSON: `Engine.restore(JSON.parse(JSON.stringify(s)))` continues exactly. */
  snapshot(): EngineSnapshot {
    return snapshotOf(this.core);
  }

  /** Cancels every timer and stops every room; the engine accepts no more input. */
  dispose(): void {
    this.disposed = true;
    this.core.timers.cancelAll();
    for (const room of this.core.rooms.values()) room.stop();
  }

  // ---- input handling -----------------------------------------------------

  /** The one way in: journals the input (when there is a store), acts on it, then delivers executor calls and events. */
  private accept(input: EngineInput): unknown {
    this.enter(input.type);
    try {
      this.core.now = this.clock.now();
      this.store?.append({ at: this.core.now, input });
      const result = this.dispatch(input);
      offerCapacity(this.core);
      return result;
    } finally {
      this.leave();
    }
  }

  private enter(type: EngineInput['type']): void {
    if (this.disposed) throw new CommandError('disposed', 'the engine was disposed; open a new one');
    if (this.processing) throw new Error(`engine re-entered while handling an input (${type})`);
    this.processing = true;
  }

  private leave(): void {
    this.processing = false;
    if (this.store !== null && ++this.sinceCompact >= this.compactEvery) this.compact();
    this.core.outbox.deliver();
  }

  /** Journal entries handled again at their own time, with nothing going out; refused commands are refused again. */
  private replay(journal: JournalEntry[]): void {
    this.core.outbox.muted = true;
    this.core.timers.scheduling = false;
    try {
      for (const entry of journal) {
        this.core.now = entry.at;
        try {
          this.dispatch(entry.input);
        } catch (error) {
          if (!(error instanceof CommandError)) throw error;
        }
        offerCapacity(this.core);
      }
    } finally {
      this.core.outbox.muted = false;
    }
  }

  private dispatch(input: EngineInput): unknown {
    // The hot inputs first.
    switch (input.type) {
      case 'report.health':
        return onHealth(this.core, input.report);
      case 'report.execution':
        return onExecution(this.core, input.report);
      case 'timer':
        return onTimer(this.core, input.deployment, input.kind, input.node);
      case 'submit':
        return onSubmit(this.core, input.spec);
      case 'node.upsert':
        return onUpsert(this.core, input.node);
      case 'node.remove':
        return onRemove(this.core, input.node);
      case 'node.connected':
        return onConnected(this.core, input.node, input.connected);
      case 'command':
        return onCommand(this.core, input.command);
    }
  }


  private compact(): void {
    this.sinceCompact = 0;
    this.store?.compact(this.snapshot());
  }
}
