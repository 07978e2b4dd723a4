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
 * loads the last snapshot, replays the journal silently (quarantining what
 * it cannot apply), moves node timers past the downtime (§4 v1.1) and then
 * re-issues `executor.start` for every execution still in flight. Executors
 * must therefore treat a start as idempotent by `executionId`.
 */
import { EventEmitter } from 'eventemitter3';
import { rolloutPolicy } from '../../machines/index.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { RealClock } from './clocks/realClock.js';
import { jobKey, matcherFor, onCommand, onSubmit } from './deployments.js';
import { offerCapacity } from './effects.js';
import { newEngineCore, type EngineCore } from './engineCore.js';
import { CommandError, InputError } from './errors.js';
import { checkCommandInput, checkConnected, checkExecutionReport, checkHealthReport, checkNode, checkNodeId, checkSpec, isWellFormedExecution, isWellFormedHealth, isWellFormedNode } from './inputCheck.js';
import { EngineTimers, type FiredTimer, type TimerHolder } from './engineTimers.js';
import { inventoryOf, onConnected, onRemove, onUpsert, UNCHANGED } from './inventory.js';
import { Journal, type CommitMode } from './journal.js';
import { Outbox } from './outbox.js';
import { loadState, reissueInFlight, resumeAfterDowntime, snapshotOf } from './persistence.js';
import type { Clock, Executor, JournalEntry, Store } from './ports.js';
import type { AsyncStore, LeaseGrant, Leadership, StoreState } from './store/asyncStore.js';
import { onExecution, onHealth, onTimer } from './routing.js';
import { asEngineState } from './snapshot.js';
import { statusOf } from './status.js';
import type {
  DeploymentStatus,
  EngineError,
  EngineEvents,
  EngineInput,
  EngineOptions,
  EngineSnapshot,
  ExecutionReport,
  HealthReport,
  IgnoredReason,
  NodeInventory,
  OperatorCommand,
  SubmitOptions,
  SubmitResult,
} from './types.js';

export interface EnginePorts {
  executor: Executor;
  /** Default: the real clock. */
  clock?: Clock;
  /** Default: none (no journaling). */
  store?: Store;
}

/** `openReplica`: an asynchronous store (PostgreSQL) and, when replicas share it, their leadership. */
export interface ReplicaPorts {
  executor: Executor;
  clock?: Clock;
  store: AsyncStore;
  /** Omit only when this process is the store's one writer. */
  leadership?: Leadership;
}

/** §7a "One leader": what `engine.leadership` says of a replica. */
export interface LeadershipStatus {
  holder: string;
  epoch: number;
  /** Set once the lease is lost: the engine has stopped acting (see `leadership.lost`). */
  lost: { at: number; reason: string; message: string } | null;
}

/** `Engine.replaying`: a journal's replay, kept to go on with it. */
export interface JournalReplay {
  /** Replays entries appended after everything replayed so far. */
  replay(journal: JournalEntry[]): void;
  /** The state after everything replayed, as compaction writes it. */
  snapshot(): EngineSnapshot;
}

/** How often the store records that the engine is alive: recovery knows the downtime to within this (§4 v1.1). */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** Inputs between two compactions of the journal into a snapshot (bounds the journal). */
export const DEFAULT_COMPACT_EVERY = 10_000;

/** §7 v1.1: ended deployments kept per job unless `historyLimit` says otherwise. */
export const DEFAULT_HISTORY_LIMIT = 10;

function historyLimitOf(options: EngineOptions): number {
  const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`engine option historyLimit must be an integer >= 1 (ended deployments kept per job), got ${String(options.historyLimit)}`);
  }
  return limit;
}

type Listener = (...args: unknown[]) => void;
type EventName = keyof EngineEvents;

export class Engine {
  readonly ignoredReports: Record<IgnoredReason, number>;

  private readonly emitter = new EventEmitter();
  private readonly clock: Clock;
  private readonly store: Store | AsyncStore | null;
  /** Where inputs become durable before their effects go out; null without a store. */
  private readonly journal: Journal | null;
  /** The state the handlers (inventory, routing, deployments, effects, persistence) share. */
  private readonly core: EngineCore;

  /**
   * Without a journal nothing keeps an input once it is handled, and inputs
   * are never handled re-entrantly: the hot inputs reuse one object each.
   */
  private readonly unjournaled = {
    health: { type: 'report.health', report: null as unknown as HealthReport } satisfies EngineInput,
    execution: { type: 'report.execution', report: null as unknown as ExecutionReport } satisfies EngineInput,
    timer: { type: 'timer', deployment: '', kind: 'deadline', node: null, fired: null } as FiredTimerInput,
    upsert: { type: 'node.upsert', node: null as unknown as FleetNode } satisfies EngineInput,
  };

  /** Each listener as registered, by event, and the guard the emitter calls instead (§7a: a throwing listener is reported, not thrown). */
  private readonly guards = new Map<EventName, Map<Listener, Listener>>();
  /** Journal entries recovery could not apply: reported on `error` and skipped. */
  readonly quarantined: { index: number; entry: JournalEntry; error: string }[] = [];

  private processing = false;
  private disposed = false;
  /** The store refused an append, or the lease was lost: the state in memory is ahead of the store, so the engine takes no more input. */
  private broken: Error | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private leader: LeadershipStatus | null = null;
  /** Inside `resume`: the caller cannot have added a listener yet. */
  private recovering = false;

  /** Use `createEngine`, `openEngine`, `openReplica` or `Engine.restore`. */
  constructor(ports: EnginePorts | ReplicaPorts, options: EngineOptions = {}, asyncStore = false) {
    this.clock = ports.clock ?? new RealClock();
    this.store = ports.store ?? null;
    const timers = new EngineTimers(
      this.clock,
      (deployment, kind, node, fired) => {
        if (this.store !== null) return void this.accept({ type: 'timer', deployment, kind, node });
        const input = this.unjournaled.timer;
        input.deployment = deployment;
        input.kind = kind;
        input.node = node;
        input.fired = fired;
        this.accept(input);
      },
      (deployment, node) => this.core.rooms.get(deployment)?.view.nodes.get(node) as TimerHolder | undefined,
    );
    this.core = newEngineCore(new Outbox(ports.executor, this.emitter, (error) => this.reportError(error)), timers, options.maxConcurrentUpdates ?? 0, historyLimitOf(options));
    this.ignoredReports = this.core.ignoredReports;
    this.journal = this.store === null ? null : new Journal(this.store, commitModeOf(options, asyncStore), options.compactEvery ?? DEFAULT_COMPACT_EVERY, {
      durable: (mark) => {
        this.core.outbox.release(mark);
        if (!this.processing) this.core.outbox.deliver();
      },
      // A replica whose write was fenced lost its lease: that is `leadership.lost`, not a broken store.
      failed: (error) => (this.leader !== null && error.name === 'FencedError' ? this.loseLeadership(error) : this.fail(error, true)),
      snapshot: () => this.snapshot(),
      compactionFailed: (error) => this.reportError({ source: 'store', event: 'compact', error }),
      replay: { historyLimit: historyLimitOf(options), maxConcurrentUpdates: options.maxConcurrentUpdates ?? 0 },
    });
    if (options.onError !== undefined) this.on('error', options.onError);
    this.startHeartbeat(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  }

  /**
   * A real interval, not the clock port: it measures the life of this process.
   * Unref'd, so an idle engine does not keep the process up; a store that
   * fails (e.g. closed) stops it, and the error is reported.
   */
  private startHeartbeat(everyMs: number): void {
    const store = this.store;
    if (store === null || !('heartbeat' in store) || store.heartbeat === undefined || everyMs <= 0) return;
    this.heartbeat = setInterval(() => {
      try {
        if (!this.processing && this.journal!.idle) store.heartbeat!({ at: this.clock.now(), delivered: this.core.outbox.delivered });
      } catch (error) {
        this.stopHeartbeat();
        this.reportError({ source: 'store', event: 'heartbeat', error });
      }
    }, everyMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
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
    return Engine.resume(ports.store.load(), ports, options);
  }

  /**
   * Used by `openReplica`: waits for the lease (a standby waits here), loads
   * what earlier leaders wrote and resumes as `recover` does. Executor calls
   * then go out only while the lease holds, each start stamped with its epoch.
   */
  static async recoverReplica(ports: ReplicaPorts, options?: EngineOptions & { signal?: AbortSignal }): Promise<Engine> {
    const grant = ports.leadership === undefined ? null : await ports.leadership.waitForLease(options?.signal);
    const acquiredAt = (ports.clock ?? new RealClock()).now();
    const loaded: StoreState & { heartbeat?: { at: number; delivered: number } } = await ports.store.load();
    // §4 v1.1: a leader whose lease ran out was alive at its last renewal, as the database timed it.
    const lastRenewal = grant?.takeover?.sinceRenewalMs;
    const known = lastRenewal === undefined ? loaded : { ...loaded, heartbeat: { at: acquiredAt - lastRenewal, delivered: 0 } };
    return Engine.resume(known, ports, options, true, grant === null ? undefined : { leadership: ports.leadership!, grant });
  }

  private static resume(
    { snapshot, journal, heartbeat }: StoreState & { heartbeat?: { at: number; delivered: number } },
    ports: EnginePorts | ReplicaPorts,
    options?: EngineOptions,
    asyncStore = false,
    lease?: { leadership: Leadership; grant: LeaseGrant },
  ): Engine {
    const engine = new Engine(ports, options, asyncStore);
    engine.recovering = true;
    if (lease !== undefined) engine.lead(lease.leadership, lease.grant);
    const stoppedAt = engine.replayStored({ snapshot, journal }, heartbeat);
    engine.core.now = engine.clock.now();
    const moved = Number.isFinite(stoppedAt) && resumeAfterDowntime(engine.core, stoppedAt, engine.core.now);
    engine.core.timers.scheduleAll();
    reissueInFlight(engine.core);
    if (journal.length > 0 || moved || engine.core.outbox.pending) engine.compact();
    // Events wait for the listeners the caller adds once this returns: the next input, or the next microtask, delivers them.
    // `openReplica`'s caller resumes from its `await` in a later microtask, so for it the next turn of the event loop does.
    engine.core.outbox.deliverCalls();
    if (engine.core.outbox.pending) (asyncStore ? setImmediate : queueMicrotask)(() => engine.deliverPending());
    engine.recovering = false;
    return engine;
  }

  /**
   * An engine that replays a store's snapshot and journal as recovery does,
   * and nothing of a live process: no clock read, no executor call, no
   * downtime step, no re-issued start. It is kept to replay the entries
   * appended later (each call, those after everything replayed so far), and
   * its `snapshot()` is what compacting the journal through there gives: the
   * SQLite store's compactor holds one off the engine's thread
   * (store/sqliteCompactorWorker.ts). `options`: those of the engine that
   * wrote the journal (retention and the update cap change decisions).
   */
  static replaying(stored: StoreState, options: EngineOptions = {}): JournalReplay {
    const replaying: Clock = {
      now: () => {
        throw new Error('a replay reads no clock');
      },
      schedule: () => null,
      cancel: () => undefined,
    };
    const engine = new Engine({ executor: { start() {}, stop() {} }, clock: replaying }, { ...options, heartbeatMs: 0, onError: () => {} });
    // When the engine was last known alive, as recovery would count it: the snapshot's `at`.
    let alive = engine.replayStored(stored);
    return {
      replay: (journal) => {
        alive = Math.max(alive, engine.replayJournal(journal, 0));
      },
      snapshot: () => snapshotOf(engine.core, alive),
    };
  }

  /** Loads the snapshot and replays the journal silently; returns when the engine was last known alive. */
  private replayStored({ snapshot, journal }: StoreState, heartbeat?: { at: number; delivered: number }): number {
    const state = snapshot === null ? null : asEngineState(snapshot);
    if (state !== null) loadState(this.core, state);
    const lastEntry = this.replayJournal(journal, heartbeat?.delivered ?? 0);
    // The engine was last known alive at its latest heartbeat, journal entry or snapshot.
    return Math.max(heartbeat?.at ?? -Infinity, lastEntry, state?.at ?? -Infinity);
  }

  /**
   * Replays entries that follow the state held (§7a: what is known delivered,
   * from the state, the entries and `knownDelivered`, stays delivered; replay
   * keeps the rest for delivery). Returns the last entry's time.
   */
  private replayJournal(journal: JournalEntry[], knownDelivered: number): number {
    let delivered = Math.max(this.core.outbox.delivered, knownDelivered);
    for (const entry of journal) delivered = Math.max(delivered, entry.delivered ?? 0);
    this.replay(journal, delivered);
    this.core.outbox.dropDelivered(delivered);
    return journal.at(-1)?.at ?? -Infinity;
  }

  private deliverPending(): void {
    if (!this.disposed && !this.processing) this.core.outbox.deliver();
  }

  /** §7a "One leader": act only while the lease holds; on losing it, stop and say so. */
  private lead(leadership: Leadership, grant: LeaseGrant): void {
    this.leader = { holder: grant.holder, epoch: grant.epoch, lost: null };
    const lose = (error: Error) => this.loseLeadership(error);
    this.core.outbox.actAs({ isLeader: () => leadership.isLeader(), epoch: grant.epoch, onLost: () => lose(new Error(`the lease of epoch ${grant.epoch} ran out`)) });
    leadership.onLost(lose);
    // Lost while the store was loading (a long load, a paused process): `onLost` came before anybody listened.
    if (!leadership.isLeader()) lose(new Error(`the lease of epoch ${grant.epoch} ran out while the replica was restoring`));
  }

  private loseLeadership(error: Error): void {
    const leader = this.leader;
    if (leader === null || leader.lost !== null) return;
    const reason = (error as { reason?: string }).reason ?? 'expired';
    leader.lost = { at: this.clock.now(), reason, message: error.message };
    this.fail(error, false);
    // Straight to the listeners: nothing may go through the outbox any more. Lost during the restore, on the
    // next turn: `openReplica`'s caller adds its listeners when it resolves.
    const event = { at: leader.lost.at, epoch: leader.epoch, holder: leader.holder, reason, message: error.message };
    if (this.recovering) setImmediate(() => this.emitter.emit('leadership.lost', event));
    else this.emitter.emit('leadership.lost', event);
  }

  /** The store failed or the lease was lost: nothing held back goes out, no more input is taken. `report`: nobody's call throws it. */
  private fail(error: Error, report: boolean): void {
    if (this.broken !== null) return;
    this.broken = error;
    this.stopHeartbeat();
    this.core.timers.cancelAll();
    this.core.outbox.discardHeld();
    if (report) this.reportError({ source: 'store', event: 'append', error });
  }

  /** Replicas: who leads, in which epoch, and whether the lease was lost; null for an engine without leadership. */
  get leadership(): LeadershipStatus | null {
    return this.leader === null ? null : { ...this.leader };
  }

  /**
   * Resolves once every input accepted before the call is durable and its
   * calls and events went out; rejects when the store failed. With
   * `commit: 'each'` (a synchronous store's default) that is already so when
   * an engine call returns; with group commit, await it before acknowledging
   * an input to its sender.
   */
  committed(): Promise<void> {
    return this.journal?.committed() ?? Promise.resolve();
  }

  // ---- events -------------------------------------------------------------

  /** §7a: a listener that throws is reported on `error` (with the event's name) and the engine carries on. */
  on<K extends keyof EngineEvents>(event: K, fn: EngineEvents[K]): this {
    this.emitter.on(event, this.guard(event, fn as Listener));
    return this;
  }

  once<K extends keyof EngineEvents>(event: K, fn: EngineEvents[K]): this {
    this.emitter.once(event, this.guard(event, fn as Listener));
    return this;
  }

  off<K extends keyof EngineEvents>(event: K, fn?: EngineEvents[K]): this {
    const guards = this.guards.get(event);
    if (fn === undefined) {
      guards?.clear();
      this.emitter.off(event);
    } else {
      const guard = guards?.get(fn as Listener);
      if (guard !== undefined) this.emitter.off(event, guard);
    }
    return this;
  }

  private guard(event: EventName, fn: Listener): Listener {
    let guards = this.guards.get(event);
    if (guards === undefined) this.guards.set(event, (guards = new Map()));
    let guard = guards.get(fn);
    if (guard === undefined) {
      guard = (...args: unknown[]) => {
        try {
          fn(...args);
        } catch (error) {
          if (event === 'error') console.error('fleet-rollout: an error listener threw:', error);
          else this.reportError({ source: 'listener', event, error });
        }
      };
      guards.set(fn, guard);
    }
    return guard;
  }

  /** The `error` channel; with nobody listening the error goes to stderr, never up the caller's stack. */
  private reportError(e: Omit<EngineError, 'at' | 'message'>): void {
    const error: EngineError = { at: this.core.now, message: e.error instanceof Error ? e.error.message : String(e.error), ...e };
    if (this.emitter.listenerCount('error') > 0) this.emitter.emit('error', error);
    else console.error(`fleet-rollout: ${error.source}${error.event === undefined ? '' : ` (${error.event})`}: ${error.message}`);
  }

  // ---- inputs -------------------------------------------------------------

  // Each input is checked first (inputCheck.ts, §7a): a malformed one throws an `InputError` and is not recorded.

  /**
   * §1: a new version when the normalized spec differs from the current one;
   * `unchanged` otherwise (and not journaled), also (v1.1) when it equals the
   * latest submitted version and that one failed, was rolled back or canceled
   * (`rejected` says so), unless `{ retry: true }`.
   */
  submit(spec: JobSpec, options: SubmitOptions = {}): SubmitResult {
    const checked = checkSpec(spec);
    // A spec the engine cannot compute with (bad duration or selector) throws here, before it is journaled.
    rolloutPolicy(checked);
    matcherFor(this.core, jobKey(checked), checked);
    return this.accept(options.retry === true ? { type: 'submit', spec: checked, retry: true } : { type: 'submit', spec: checked }) as SubmitResult;
  }

  // Without a journal a well-formed node is read in place too: the inventory copies its fields (its labels are frozen).
  upsertNode(node: FleetNode): void {
    if (this.store !== null) return void this.accept({ type: 'node.upsert', node: checkNode(node) });
    this.unjournaled.upsert.node = isWellFormedNode(node) ? node : checkNode(node);
    this.accept(this.unjournaled.upsert);
  }

  removeNode(id: string): void {
    this.accept({ type: 'node.remove', node: checkNodeId(id, 'removeNode') });
  }

  setConnected(id: string, connected: boolean): void {
    this.accept({ type: 'node.connected', ...checkConnected(id, connected) });
  }

  // Without a journal a well-formed report is read in place: nothing keeps it once handled.
  reportExecution(report: ExecutionReport): void {
    if (this.store !== null) return void this.accept({ type: 'report.execution', report: checkExecutionReport(report) });
    this.unjournaled.execution.report = isWellFormedExecution(report) ? report : checkExecutionReport(report);
    this.accept(this.unjournaled.execution);
  }

  reportHealth(report: HealthReport): void {
    if (this.store !== null) return void this.accept({ type: 'report.health', report: checkHealthReport(report) });
    this.unjournaled.health.report = isWellFormedHealth(report) ? report : checkHealthReport(report);
    this.accept(this.unjournaled.health);
  }

  /**
   * Batches: every input is checked first (one bad input refuses the whole
   * batch, nothing recorded), then all are handled and journaled together
   * (one store write, one fsync), and only then their calls and events go out.
   */
  upsertNodes(nodes: readonly FleetNode[]): void {
    this.acceptAll(checkedAll(nodes, 'upsertNodes', (node) => ({ type: 'node.upsert', node: checkNode(node, 'upsertNodes') })));
  }

  reportHealthBatch(reports: readonly HealthReport[]): void {
    this.acceptAll(checkedAll(reports, 'reportHealthBatch', (report) => ({ type: 'report.health', report: checkHealthReport(report) })));
  }

  reportExecutionBatch(reports: readonly ExecutionReport[]): void {
    this.acceptAll(checkedAll(reports, 'reportExecutionBatch', (report) => ({ type: 'report.execution', report: checkExecutionReport(report) })));
  }

  // Commands: a refused one (CommandError) changes nothing and is not journaled.

  pause(job: string): void {
    this.accept({ type: 'command', command: checkCommandInput('pause', job) });
  }

  resume(job: string): void {
    this.accept({ type: 'command', command: checkCommandInput('resume', job) });
  }

  promote(job: string): void {
    this.accept({ type: 'command', command: checkCommandInput('promote', job) });
  }

  abort(job: string): void {
    this.accept({ type: 'command', command: checkCommandInput('abort', job) });
  }

  /** §7: a new deployment of kind `rollback` toward `version` (v1.1 default: the most recent completed version other than the one the job runs now). */
  rollback(job: string, version?: number): SubmitResult {
    return this.accept({ type: 'command', command: checkCommandInput('rollback', job, version) }) as SubmitResult;
  }

  // ---- inspection ---------------------------------------------------------

  /** A deployment by id, or a job's latest deployment by `namespace/name`. */
  status(deploymentIdOrJob: string): DeploymentStatus | undefined {
    const job = this.core.jobs.get(deploymentIdOrJob);
    const room = this.core.rooms.get(job?.latest ?? deploymentIdOrJob);
    return room === undefined ? undefined : statusOf(room.view);
  }

  /** The fleet inventory and, per node and job, the version the engine last asked it to run: what an orchestrator reconciles against. */
  nodes(): NodeInventory[] {
    return inventoryOf(this.core);
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
    return snapshotOf(this.core, this.clock.now());
  }

  /**
   * A clean stop: waits for what is being committed, writes a snapshot (so a
   * successor counts downtime from now, §4 v1.1), then disposes. The caller
   * closes the store (for PostgreSQL that also releases the lease).
   */
  async close(): Promise<void> {
    if (this.disposed) return;
    if (this.journal !== null && this.broken === null) {
      await this.journal.committed();
      await this.journal.compactNow();
    }
    this.dispose();
  }

  /** Cancels every timer and stops every room; the engine accepts no more input. */
  dispose(): void {
    this.disposed = true;
    this.stopHeartbeat();
    this.core.timers.cancelAll();
    for (const room of this.core.rooms.values()) room.stop();
  }

  // ---- input handling -----------------------------------------------------

  /**
   * The one way in: acts on the input, journals it (when there is a store and
   * it changed something), then delivers executor calls and events. Write-ahead
   * holds for what leaves the engine: nothing is delivered before its input is
   * durable. An input that changes nothing (unchanged submit or node, refused
   * command) is not journaled: replay would do nothing with it either.
   */
  private accept(input: EngineInput): unknown {
    this.enter(input.type);
    const mark = this.core.outbox.mark;
    let entries: JournalEntry[] = NOTHING;
    try {
      this.core.now = this.clock.now();
      const result = this.dispatch(input, true);
      if (result === UNCHANGED) return undefined;
      offerCapacity(this.core);
      if (this.journal !== null && !(input.type === 'submit' && (result as SubmitResult).unchanged)) {
        entries = [{ at: this.core.now, input, delivered: this.core.outbox.delivered }];
      }
      return result;
    } finally {
      this.leave(entries, mark);
    }
  }

  private acceptAll(inputs: EngineInput[]): void {
    this.enter('batch');
    const entries: JournalEntry[] = [];
    const mark = this.core.outbox.mark;
    try {
      this.core.now = this.clock.now();
      const delivered = this.core.outbox.delivered;
      for (const input of inputs) {
        if (this.dispatch(input, true) === UNCHANGED) continue;
        offerCapacity(this.core);
        if (this.journal !== null) entries.push({ at: this.core.now, input, delivered });
      }
    } finally {
      // Journaled also when an input threw half-way: those before it are in memory already.
      this.leave(entries, mark);
    }
  }

  private enter(type: EngineInput['type'] | 'batch'): void {
    if (this.disposed) throw new CommandError('disposed', 'the engine was disposed; open a new one');
    if (this.leader?.lost != null) throw new CommandError('not_leader', `this replica lost its lease (epoch ${this.leader.epoch}, ${this.leader.lost.reason}) and takes no more input: open a new replica (openReplica) to stand by`);
    if (this.broken !== null) throw new Error(`the store failed (${this.broken.message}); the engine takes no more input: open it again from the store`);
    if (this.processing) throw new Error(`engine re-entered while handling an input (${type})`);
    this.processing = true;
  }

  /** Hands what the input changed to the journal (its effects go out once durable), then delivers what may go. */
  private leave(entries: JournalEntry[], mark: number): void {
    try {
      if (this.journal === null) this.core.outbox.release();
      else this.journal.record(entries, this.core.outbox.mark);
    } catch (error) {
      // `each`: the store refused. The state in memory already holds the input: deliver none of its effects and take no more input.
      this.core.outbox.discardFrom(mark);
      this.processing = false;
      this.fail(error as Error, false);
      throw error;
    }
    this.processing = false;
    this.core.outbox.deliver();
  }

  /**
   * Journal entries handled again at their own time, with nothing going out;
   * refused commands (journaled by older builds) are refused again. An entry
   * that cannot be applied (malformed, or it throws) is quarantined: reported
   * on `error`, kept in `quarantined`, and skipped, so recovery never fails
   * because of something once accepted (§7a).
   */
  private replay(journal: JournalEntry[], delivered: number): void {
    this.core.outbox.replaying = delivered;
    this.core.timers.scheduling = false;
    try {
      journal.forEach((entry, index) => {
        this.core.now = entry.at;
        try {
          this.dispatch(recheck(entry.input));
        } catch (error) {
          if (error instanceof CommandError) return;
          this.quarantined.push({ index, entry, error: (error as Error).message });
          this.reportError({ source: 'journal', error, entry: index });
        }
        offerCapacity(this.core);
      });
    } finally {
      this.core.outbox.replaying = undefined;
    }
  }

  /** `live`: a new input, not a replayed one; an inventory input that would change nothing returns UNCHANGED. */
  private dispatch(input: EngineInput, live = false): unknown {
    // The hot inputs first.
    switch (input.type) {
      case 'report.health':
        return onHealth(this.core, input.report);
      case 'report.execution':
        return onExecution(this.core, input.report);
      case 'timer':
        return onTimer(this.core, input.deployment, input.kind, input.node, (input as Partial<FiredTimerInput>).fired ?? null);
      case 'submit':
        return onSubmit(this.core, input.spec, input.retry === true);
      case 'node.upsert':
        return onUpsert(this.core, input.node, live);
      case 'node.remove':
        return onRemove(this.core, input.node);
      case 'node.connected':
        return onConnected(this.core, input.node, input.connected);
      case 'command':
        return onCommand(this.core, input.command);
    }
  }

  /** After recovery: the state replayed from the store becomes its snapshot. */
  private compact(): void {
    const compaction = this.journal?.compactNow();
    if (compaction instanceof Promise) compaction.catch((error: Error) => this.fail(error, true));
  }
}

const NOTHING: JournalEntry[] = [];

/** A timer input that is never journaled carries the timer the clock fired: routed without a lookup. */
type FiredTimerInput = Extract<EngineInput, { type: 'timer' }> & { fired: FiredTimer | null };

/** §7a: an asynchronous store always commits in groups; a synchronous one writes each input before the call returns unless told otherwise. */
function commitModeOf(options: EngineOptions, asynchronous: boolean): CommitMode {
  const mode = options.commit ?? (asynchronous ? 'group' : 'each');
  if (mode !== 'each' && mode !== 'group') throw new RangeError(`engine option commit must be 'each' or 'group', got ${String(options.commit)}`);
  if (asynchronous && mode === 'each') throw new RangeError(`engine option commit: an asynchronous store commits in groups; 'each' needs a synchronous store (SqliteStore, MemoryStore)`);
  return mode;
}

/** Checks every item (naming its index) before any is handled. */
function checkedAll<T>(items: readonly T[], input: string, check: (item: T) => EngineInput): EngineInput[] {
  if (!Array.isArray(items)) throw new InputError(input, '', 'must be an array');
  return items.map((item, i) => {
    try {
      return check(item);
    } catch (error) {
      if (error instanceof InputError) throw new InputError(input, `[${i}]${error.field === '' ? '' : `.${error.field}`}`, error.reason);
      throw error;
    }
  });
}

/** A journaled input checked as it was at the boundary: entries written before the checks existed may be malformed. */
function recheck(input: EngineInput): EngineInput {
  switch (input.type) {
    case 'report.health':
      return { type: input.type, report: checkHealthReport(input.report) };
    case 'report.execution':
      return { type: input.type, report: checkExecutionReport(input.report) };
    case 'node.upsert':
      return { type: input.type, node: checkNode(input.node) };
    case 'submit':
      return { type: input.type, spec: checkSpec(input.spec) };
    default:
      return input;
  }
}
