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
import { checkCommandInput, checkConnected, checkExecutionReport, checkHealthReport, checkNode, checkNodeId, checkSpec } from './inputCheck.js';
import { EngineTimers } from './engineTimers.js';
import { changesNothing, inventoryOf, onConnected, onRemove, onUpsert } from './inventory.js';
import { Outbox } from './outbox.js';
import { loadState, reissueInFlight, resumeAfterDowntime, snapshotOf } from './persistence.js';
import type { Clock, Executor, JournalEntry, Store } from './ports.js';
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

  /** Each listener as registered, by event, and the guard the emitter calls instead (§7a: a throwing listener is reported, not thrown). */
  private readonly guards = new Map<EventName, Map<Listener, Listener>>();
  /** Journal entries recovery could not apply: reported on `error` and skipped. */
  readonly quarantined: { index: number; entry: JournalEntry; error: string }[] = [];

  private processing = false;
  private disposed = false;
  /** The store refused an append: the state in memory is ahead of the store, so the engine takes no more input. */
  private broken: Error | null = null;
  private sinceCompact = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;

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
    this.core = newEngineCore(new Outbox(ports.executor, this.emitter, (error) => this.reportError(error)), timers, options.maxConcurrentUpdates ?? 0, historyLimitOf(options));
    this.ignoredReports = this.core.ignoredReports;
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
    if (store?.heartbeat === undefined || everyMs <= 0) return;
    this.heartbeat = setInterval(() => {
      try {
        if (!this.processing) store.heartbeat!({ at: this.clock.now(), delivered: this.core.outbox.delivered });
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
    const { snapshot, journal, heartbeat } = ports.store.load();
    const engine = new Engine(ports, options);
    const state = snapshot === null ? null : asEngineState(snapshot);
    if (state !== null) loadState(engine.core, state);
    // §7a: what is known delivered, from the snapshot, the journal and the heartbeat; replay keeps the rest for delivery.
    let delivered = Math.max(state?.outbox?.delivered ?? 0, heartbeat?.delivered ?? 0);
    for (const entry of journal) delivered = Math.max(delivered, entry.delivered ?? 0);
    engine.replay(journal, delivered);
    engine.core.outbox.dropDelivered(delivered);
    // The engine was last known alive at its latest heartbeat, journal entry or snapshot.
    const stoppedAt = Math.max(heartbeat?.at ?? -Infinity, journal.at(-1)?.at ?? -Infinity, state?.at ?? -Infinity);
    engine.core.now = engine.clock.now();
    const moved = Number.isFinite(stoppedAt) && resumeAfterDowntime(engine.core, stoppedAt, engine.core.now);
    engine.core.timers.scheduleAll();
    reissueInFlight(engine.core);
    if (journal.length > 0 || moved || engine.core.outbox.pending) engine.compact();
    // Events wait for the listeners the caller adds once this returns: the next input, or the next microtask, delivers them.
    engine.core.outbox.deliverCalls();
    if (engine.core.outbox.pending) queueMicrotask(() => engine.deliverPending());
    return engine;
  }

  private deliverPending(): void {
    if (!this.disposed && !this.processing) this.core.outbox.deliver();
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

  upsertNode(node: FleetNode): void {
    this.accept({ type: 'node.upsert', node: checkNode(node) });
  }

  removeNode(id: string): void {
    this.accept({ type: 'node.remove', node: checkNodeId(id, 'removeNode') });
  }

  setConnected(id: string, connected: boolean): void {
    this.accept({ type: 'node.connected', ...checkConnected(id, connected) });
  }

  reportExecution(report: ExecutionReport): void {
    const checked = checkExecutionReport(report);
    if (this.store !== null) return void this.accept({ type: 'report.execution', report: checked });
    this.unjournaled.execution.report = checked;
    this.accept(this.unjournaled.execution);
  }

  reportHealth(report: HealthReport): void {
    const checked = checkHealthReport(report);
    if (this.store !== null) return void this.accept({ type: 'report.health', report: checked });
    this.unjournaled.health.report = checked;
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
    try {
      this.core.now = this.clock.now();
      if (changesNothing(this.core, input)) return undefined;
      const mark = this.core.outbox.mark;
      const result = this.dispatch(input);
      offerCapacity(this.core);
      if (this.store !== null && !(input.type === 'submit' && (result as SubmitResult).unchanged)) {
        this.append({ at: this.core.now, input, delivered: this.core.outbox.delivered }, mark);
      }
      return result;
    } finally {
      this.leave();
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
        if (changesNothing(this.core, input)) continue;
        this.dispatch(input);
        offerCapacity(this.core);
        entries.push({ at: this.core.now, input, delivered });
      }
    } finally {
      // Journaled also when an input threw half-way: those before it are in memory already.
      if (this.store !== null && entries.length > 0) this.append(entries, mark);
      this.leave(entries.length);
    }
  }

  private append(entry: JournalEntry | JournalEntry[], mark: number): void {
    try {
      if (!Array.isArray(entry)) this.store!.append(entry);
      else if (this.store!.appendBatch !== undefined) this.store!.appendBatch(entry);
      else for (const one of entry) this.store!.append(one);
    } catch (error) {
      // The state in memory already holds the input: deliver none of its effects and take no more input.
      this.broken = error as Error;
      this.core.outbox.discardFrom(mark);
      throw error;
    }
  }

  private enter(type: EngineInput['type'] | 'batch'): void {
    if (this.disposed) throw new CommandError('disposed', 'the engine was disposed; open a new one');
    if (this.broken !== null) throw new Error(`the store failed (${this.broken.message}); the engine takes no more input: open it again from the store`);
    if (this.processing) throw new Error(`engine re-entered while handling an input (${type})`);
    this.processing = true;
  }

  private leave(inputs = 1): void {
    this.processing = false;
    if (this.store !== null && (this.sinceCompact += inputs) >= this.compactEvery) this.compact();
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
        return onSubmit(this.core, input.spec, input.retry === true);
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
