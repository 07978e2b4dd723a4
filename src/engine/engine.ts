/**
 * The engine shell: it owns the clock, the store and the event emitter, and
 * runs one deployment machine per deployment. Each input is journaled (when a
 * store is given) before it is acted on; raw health reports go through the
 * health tracker, and only node state changes and commands reach a machine.
 * The machines' effects are applied here: timers armed on the clock port,
 * executions started and stopped through the executor port, events emitted
 * (after the input's state change is complete, see `Outbox`).
 *
 * Crash safety: `snapshot()` is the complete state as JSON; `openEngine`
 * loads the last snapshot, replays the journal silently and then re-issues
 * `executor.start` for every execution still in flight. Executors must
 * therefore treat a start as idempotent by `executionId`.
 */
import { EventEmitter } from 'eventemitter3';
import { createActor, type Actor, type StateValue } from 'xstate';
import { deploymentMachine, type DeploymentEvent } from '../../machines/deployment.js';
import type { DeploymentData, Effect, NodeRecord } from '../../machines/deploymentContext.js';
import { phaseOf, resolveInPlace, type ResolvePhase } from '../../machines/resolveInPlace.js';
import { setNodeState } from '../../machines/steps.js';
import { compileSelector, type NodePredicate } from '../selector/match.js';
import { rolloutOrder } from '../selector/order.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { RealClock } from './clocks/realClock.js';
import { checkCommand, LIVE_STATES } from './commandRules.js';
import { newDeploymentData } from './deploymentData.js';
import { CommandError } from './errors.js';
import { startRequest, stopRequest } from './executions.js';
import { trackStreak } from './health/streaks.js';
import { Outbox } from './outbox.js';
import { rolloutPolicy } from './policy.js';
import type { Clock, Executor, JournalEntry, Store } from './ports.js';
import { executionOutcome, expectedVersion, firstReportOf, healthOutcome, type IgnoredReason } from './reports.js';
import { canarySize } from './rules/canarySize.js';
import { isPassing } from './rules/passingReport.js';
import { sameSpec } from './sameSpec.js';
import { asEngineState, deserializeDeployment, serializeDeployment, SNAPSHOT_FORMAT, type EngineState, type JobRecord } from './snapshot.js';
import { statusOf } from './status.js';
import { TimerBook } from './timerBook.js';
import type {
  DeploymentKind,
  DeploymentStatus,
  EngineEvents,
  EngineInput,
  EngineOptions,
  EngineSnapshot,
  ExecutionReport,
  HealthReport,
  NodeFailureReason,
  OperatorCommand,
  SubmitResult,
  TimerKind,
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

interface Runtime {
  data: DeploymentData;
  actor: Actor<typeof deploymentMachine>;
  /** How the machine's current state handles a node resolving (kept after each machine step). */
  phase: ResolvePhase;
}

type Listener = (...args: unknown[]) => void;

/** Where a report goes: the job's latest deployment and the node's record in it. */
interface Routed {
  rt: Runtime;
  record: NodeRecord;
}

export class Engine {
  readonly ignoredReports: Record<IgnoredReason, number> = {
    stale_version: 0,
    unknown_node: 0,
    unknown_job: 0,
    duplicate: 0,
    not_updating: 0,
  };

  private readonly emitter = new EventEmitter();
  private readonly outbox: Outbox;
  private readonly clock: Clock;
  private readonly store: Store | null;
  private readonly cap: number;
  private readonly compactEvery: number;
  private readonly timers: TimerBook;

  private readonly nodes = new Map<string, FleetNode>();
  private readonly jobs = new Map<string, JobRecord>();
  private readonly runtimes = new Map<string, Runtime>();
  private readonly matchers = new Map<string, NodePredicate>();
  private deploymentSeq = 0;
  private readonly routed: Routed = { rt: null as unknown as Runtime, record: null as unknown as NodeRecord };

  /** Clock time of the input being handled (the journal's time during replay). */
  private now = 0;
  private processing = false;
  private disposed = false;
  /** A machine got an event during this input: slots of the engine-wide cap may have to be offered. */
  private machineTouched = false;
  private sinceCompact = 0;

  /** Use `createEngine`, `openEngine` or `Engine.restore`. */
  constructor(ports: EnginePorts, options: EngineOptions = {}) {
    this.outbox = new Outbox(ports.executor, this.emitter);
    this.clock = ports.clock ?? new RealClock();
    this.store = ports.store ?? null;
    this.cap = options.maxConcurrentUpdates ?? 0;
    this.compactEvery = options.compactEvery ?? DEFAULT_COMPACT_EVERY;
    this.timers = new TimerBook(this.clock, ({ deployment, kind, node }) => {
      if (this.store !== null) return void this.accept({ type: 'timer', deployment, kind, node });
      this.enter('timer');
      try {
        this.now = this.clock.now();
        this.onTimer(deployment, kind, node);
        this.offerCapacity();
      } finally {
        this.leave();
      }
    });
  }

  /** Rebuilds an engine from `snapshot()` and re-arms its timers on the given clock. Starts nothing. */
  static restore(snapshot: EngineSnapshot, ports: EnginePorts, options?: EngineOptions): Engine {
    const engine = new Engine(ports, options);
    engine.load(asEngineState(snapshot));
    engine.timers.scheduleAll();
    return engine;
  }

  /** Used by `openEngine`: loads the store's snapshot, replays its journal silently, re-arms timers and re-issues starts. */
  static recover(ports: EnginePorts & { store: Store }, options?: EngineOptions): Engine {
    const { snapshot, journal } = ports.store.load();
    const engine = new Engine(ports, options);
    if (snapshot !== null) engine.load(asEngineState(snapshot));
    engine.replay(journal);
    engine.timers.scheduleAll();
    engine.reissueInFlight(ports.executor);
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
    this.matcherFor(jobKey(spec), spec);
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
    this.enter('report.execution');
    try {
      this.now = this.clock.now();
      this.onExecution(report);
      this.offerCapacity();
    } finally {
      this.leave();
    }
  }

  /** As `accept`, without building the journal's input object when there is no journal (the hot path). */
  reportHealth(report: HealthReport): void {
    if (this.store !== null) return void this.accept({ type: 'report.health', report });
    this.enter('report.health');
    try {
      this.now = this.clock.now();
      this.onHealth(report);
      this.offerCapacity();
    } finally {
      this.leave();
    }
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
    const job = this.jobs.get(deploymentIdOrJob);
    const rt = this.runtimes.get(job?.latest ?? deploymentIdOrJob);
    return rt === undefined ? undefined : statusOf(rt.data);
  }

  deployments(): DeploymentStatus[] {
    return [...this.runtimes.values()].map((rt) => statusOf(rt.data));
  }

  /** A node's state within a deployment, e.g. `updating`, `stable`, `reverted`; undefined when not targeted. */
  nodeState(deploymentId: string, node: string): string | undefined {
    return this.runtimes.get(deploymentId)?.data.nodes.get(node)?.state;
  }

  /** The complete state as plain JSON: `Engine.restore(JSON.parse(JSON.stringify(s)))` continues exactly. */
  snapshot(): EngineSnapshot {
    const state: EngineState = {
      format: SNAPSHOT_FORMAT,
      nodes: [...this.nodes.values()].map((n) => ({ id: n.id, labels: { ...n.labels }, connected: n.connected })),
      jobs: [...this.jobs.values()].map((j) => ({ ...j, versions: [...j.versions] })),
      deployments: [...this.runtimes.values()].map((rt) => serializeDeployment(rt.actor.getSnapshot().value, rt.data)),
      timers: this.timers.toJSON(),
      deploymentSeq: this.deploymentSeq,
      ignoredReports: { ...this.ignoredReports },
    };
    return state as unknown as EngineSnapshot;
  }

  /** Cancels every timer and stops every machine; the engine accepts no more input. */
  dispose(): void {
    this.disposed = true;
    this.timers.cancelAll();
    for (const rt of this.runtimes.values()) rt.actor.stop();
  }

  // ---- input handling -----------------------------------------------------

  /** Journals the input, acts on it, then delivers executor calls and events. */
  private accept(input: EngineInput): unknown {
    this.enter(input.type);
    try {
      this.now = this.clock.now();
      this.store?.append({ at: this.now, input });
      const result = this.dispatch(input);
      this.offerCapacity();
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
    this.outbox.deliver();
  }

  /** Journal entries handled again at their own time, with nothing going out; refused commands are refused again. */
  private replay(journal: JournalEntry[]): void {
    this.outbox.muted = true;
    this.timers.scheduling = false;
    try {
      for (const entry of journal) {
        this.now = entry.at;
        try {
          this.dispatch(entry.input);
        } catch (error) {
          if (!(error instanceof CommandError)) throw error;
        }
        this.offerCapacity();
      }
    } finally {
      this.outbox.muted = false;
    }
  }

  private dispatch(input: EngineInput): unknown {
    switch (input.type) {
      case 'submit':
        return this.onSubmit(input.spec);
      case 'node.upsert':
        return this.onUpsert(input.node);
      case 'node.remove':
        return this.onRemove(input.node);
      case 'node.connected':
        return this.onConnected(input.node, input.connected);
      case 'report.execution':
        return this.onExecution(input.report);
      case 'report.health':
        return this.onHealth(input.report);
      case 'command':
        return this.onCommand(input.command);
      case 'timer':
        return this.onTimer(input.deployment, input.kind, input.node);
    }
  }

  private compact(): void {
    this.sinceCompact = 0;
    this.store?.compact(this.snapshot());
  }

  // ---- jobs and deployments -----------------------------------------------

  private onSubmit(spec: JobSpec): SubmitResult {
    const key = jobKey(spec);
    const job = this.jobs.get(key);
    if (job !== undefined && sameSpec(job.versions[job.current - 1]!, spec)) {
      return { job: key, version: job.current, unchanged: true, deployment: null };
    }
    const frozen = deepFreeze(structuredClone(spec));
    if (job === undefined) {
      const created: JobRecord = { key, versions: [frozen], current: 1, lastCompleted: null, deployments: 0, latest: '' };
      this.jobs.set(key, created);
      return { job: key, version: 1, unchanged: false, deployment: this.createDeployment(created, 1, 'create') };
    }
    job.versions.push(frozen);
    const version = job.versions.length;
    return { job: key, version, unchanged: false, deployment: this.createDeployment(job, version, 'update') };
  }

  private onRollback(job: JobRecord, version: number | undefined): SubmitResult {
    const target = version ?? job.lastCompleted;
    if (target === null) {
      throw new CommandError('no_completed_version', `job ${job.key} has no completed version to roll back to; name a version: rollback ${job.key} VERSION`);
    }
    if (!Number.isInteger(target) || target < 1 || target > job.versions.length) {
      throw new CommandError('unknown_version', `job ${job.key} has no version ${target}; versions are 1..${job.versions.length}`);
    }
    const latest = this.latestOf(job).data;
    if (target === job.current && (latest.state === 'completed' || latest.state === 'rolled_back')) {
      return { job: job.key, version: target, unchanged: true, deployment: null };
    }
    return { job: job.key, version: target, unchanged: false, deployment: this.createDeployment(job, target, 'rollback') };
  }

  /**
   * A new deployment of `version`: the job's active deployment is superseded
   * first, then the targets are taken from the fleet as it stands (§7).
   */
  private createDeployment(job: JobRecord, version: number, kind: DeploymentKind): string {
    const spec = job.versions[version - 1]!;
    const id = `${job.key}#${++job.deployments}`;
    const fromVersion = kind === 'create' ? null : job.current;
    const previous = this.runtimes.get(job.latest);
    if (previous !== undefined) this.send(previous, { type: 'supersede', by: id, now: this.now, slots: 0 });

    const match = this.matcherFor(job.key, spec);
    const eligible: FleetNode[] = [];
    this.nodes.forEach((node) => {
      if (match(node)) eligible.push(node);
    });
    const targets = rolloutOrder(eligible).map((node) => node.id);
    const data = newDeploymentData({
      id,
      job: job.key,
      version,
      spec,
      kind,
      fromVersion,
      lastCompleted: job.lastCompleted,
      seq: this.deploymentSeq++,
      createdAt: this.now,
      targets,
      io: this.io(match),
    });
    job.latest = id;
    job.current = version;

    const rt = this.spawn(data);
    this.outbox.emit('deployment.created', {
      at: this.now,
      deployment: id,
      job: job.key,
      kind,
      from_version: fromVersion,
      to_version: version,
      strategy: data.policy.strategy,
      targeted: targets.length,
      canaries: data.policy.strategy === 'canary' ? canarySize(targets.length, data.policy.canaryCount, data.policy.canaryPercent) : 0,
    });
    this.send(rt, { type: 'start', now: this.now, slots: this.slots() });
    return id;
  }

  private spawn(data: DeploymentData, machine?: StateValue): Runtime {
    const actor =
      machine === undefined
        ? createActor(deploymentMachine, { input: data })
        : createActor(deploymentMachine, { snapshot: deploymentMachine.resolveState({ value: machine, context: data }), input: data });
    actor.start();
    // XState's initial `assign` copies the input object: the context is the data from here on.
    const snapshot = actor.getSnapshot();
    const rt: Runtime = { data: snapshot.context, actor, phase: phaseOf(snapshot.value) };
    this.runtimes.set(data.id, rt);
    return rt;
  }

  private io(match: NodePredicate): DeploymentData['io'] {
    return {
      out: [],
      eligible: (id) => {
        const node = this.nodes.get(id);
        return node !== undefined && match(node);
      },
    };
  }

  private matcherFor(job: string, spec: JobSpec): NodePredicate {
    const key = `${job}@${JSON.stringify(spec.selector)}`;
    let match = this.matchers.get(key);
    if (match === undefined) {
      match = compileSelector(spec.selector);
      this.matchers.set(key, match);
    }
    return match;
  }

  private latestOf(job: JobRecord): Runtime {
    return this.runtimes.get(job.latest)!;
  }

  // ---- the fleet ----------------------------------------------------------

  private onUpsert(node: FleetNode): void {
    this.nodes.set(node.id, node);
    this.offerJoin(node.id);
  }

  private onRemove(id: string): void {
    if (!this.nodes.delete(id)) return;
    for (const job of this.jobs.values()) {
      const rt = this.latestOf(job);
      if (rt.data.nodes.get(id)?.state === 'updating') this.send(rt, { type: 'node.left', node: id, now: this.now, slots: this.slots() });
    }
  }

  /**
   * A disconnected node keeps its deadline (§4). Decided: disconnection also
   * ends its passing streak, since nothing vouches for it while it is cut off
   * (so a version that cuts nodes off fails like any other). A reconnected
   * node may join a rollout.
   */
  private onConnected(id: string, connected: boolean): void {
    const node = this.nodes.get(id);
    if (node === undefined || node.connected === connected) return;
    node.connected = connected;
    if (connected) return this.offerJoin(id);
    for (const job of this.jobs.values()) this.timers.disarm(job.latest, 'streak', id);
  }

  /**
   * §7: a node that becomes eligible joins the end of a rollout in progress
   * (pipeline jobs, or any deployment still waiting for its first target), or
   * is updated directly once a pipeline job's rollout completed.
   */
  private offerJoin(id: string): void {
    if (this.jobs.size === 0) return; // loading the fleet: no iterator per node
    for (const job of this.jobs.values()) {
      const rt = this.latestOf(job);
      const d = rt.data;
      const state = d.state ?? 'pending';
      const open = LIVE_STATES.has(state) ? d.policy.takesJoiningNodes || d.targeted === 0 : state === 'completed' && d.policy.takesJoiningNodes;
      if (!open) continue;
      const record = d.nodes.get(id);
      if (record !== undefined && record.state !== 'untouched' && record.state !== 'removed') continue;
      if (!d.io.eligible(id)) continue;
      this.send(rt, { type: 'node.joined', node: id, now: this.now, slots: this.slots() });
    }
  }

  // ---- reports (the hot path: a few Map lookups, no scan) -----------------

  /** The deployment and node record a report is about, or why it changes nothing. */
  private route(report: HealthReport | ExecutionReport): Routed | IgnoredReason {
    const job = this.jobs.get(report.job);
    if (job === undefined) return 'unknown_job';
    if (!this.nodes.has(report.node)) return 'unknown_node';
    const rt = this.latestOf(job);
    const record = rt.data.nodes.get(report.node);
    if (report.version !== expectedVersion(rt.data.version, rt.data.rollbackTarget, record)) return 'stale_version';
    if (record === undefined) return 'not_updating';
    // One object reused (inputs are never handled re-entrantly): a report allocates nothing to be routed.
    this.routed.rt = rt;
    this.routed.record = record;
    return this.routed;
  }

  private onHealth(report: HealthReport): void {
    const routed = this.route(report);
    if (typeof routed === 'string') return this.ignore(report, routed);
    const { rt, record } = routed;
    const d = rt.data;
    const passing = isPassing(report, d.policy.maxErrorRate);
    switch (healthOutcome(record.state, d.policy.judge, passing)) {
      case 'track': {
        const streaking = this.timers.dueAt(d.id, 'streak', report.node) !== null;
        const verdict = trackStreak(streaking, passing, d.policy.minHealthyMs);
        if (verdict === 'arm') this.timers.arm(d.id, 'streak', report.node, this.now + d.policy.minHealthyMs);
        else if (verdict === 'broken') this.timers.disarm(d.id, 'streak', report.node);
        else if (verdict === 'stable') this.resolve(rt, report.node, record, null);
        return;
      }
      case 'degrade':
        return this.degrade(rt, report.node, record);
      case 'recover':
        setNodeState(d, record, 'stable');
        return this.outbox.emit('decision', { at: this.now, deployment: d.id, action: 'recovered', node: report.node, reason: 'a degraded node reports passing again' });
      case 'traffic':
        return;
      case 'not_updating':
        return this.ignore(report, 'not_updating');
    }
  }

  private onExecution(report: ExecutionReport): void {
    const routed = this.route(report);
    if (typeof routed === 'string') return this.ignore(report, routed);
    const { rt, record } = routed;
    const outcome = executionOutcome(record.state, rt.data.policy.judge, report.status);
    if (outcome === 'not_updating') return this.ignore(report, outcome);
    if (!firstReportOf(record, report.status)) return this.ignore(report, 'duplicate');
    const stamp = { node: report.node, now: this.now, slots: this.slots() };
    switch (outcome) {
      case 'stable':
        return this.resolve(rt, report.node, record, null);
      case 'failed':
        return this.resolve(rt, report.node, record, 'execution_failed');
      case 'reverted':
        return this.send(rt, { type: 'node.reverted', ...stamp });
      case 'revert_failed':
        return this.send(rt, { type: 'node.revert_failed', ...stamp });
      case 'degrade':
        return this.degrade(rt, report.node, record);
      case 'none':
        return;
    }
  }

  /** §4: a stable node's later trouble never fails the deployment; it is reported as degraded. */
  private degrade(rt: Runtime, node: string, record: NodeRecord): void {
    setNodeState(rt.data, record, 'degraded');
    this.outbox.emit('node.degraded', { at: this.now, deployment: rt.data.id, node, version: rt.data.version });
  }

  private ignore(report: { node: string; job: string }, reason: IgnoredReason): void {
    this.ignoredReports[reason]++;
    this.outbox.emit('report.ignored', { at: this.now, node: report.node, job: report.job, reason });
  }

  // ---- timers -------------------------------------------------------------

  private onTimer(deployment: string, kind: TimerKind, timerNode: string | null): void {
    if (!this.timers.take(deployment, kind, timerNode)) return;
    const rt = this.runtimes.get(deployment)!;
    if (kind === 'queue') return this.send(rt, { type: 'timeout', reason: 'queue_timeout', now: this.now, slots: this.slots() });
    if (kind === 'total') return this.send(rt, { type: 'timeout', reason: 'total_timeout', now: this.now, slots: this.slots() });
    const node = timerNode!;
    const record = rt.data.nodes.get(node);
    if (kind === 'revert') {
      if (record?.state === 'reverting') this.send(rt, { type: 'node.revert_failed', node, now: this.now, slots: this.slots() });
    } else if (record?.state === 'updating') {
      this.resolve(rt, node, record, kind === 'streak' ? null : kind === 'deadline' ? 'deadline_exceeded' : 'execution_timeout');
    }
  }

  // ---- commands -----------------------------------------------------------

  private onCommand(command: OperatorCommand): SubmitResult | undefined {
    const job = this.jobs.get(command.job);
    if (job === undefined) throw new CommandError('unknown_job', `no job ${command.job}; jobs are named namespace/name`);
    if (command.type === 'rollback') return this.onRollback(job, command.version);
    const rt = this.latestOf(job);
    checkCommand(command.type, rt.data.id, rt.data.state ?? 'pending');
    this.send(rt, { type: command.type, now: this.now, slots: this.slots() });
    return undefined;
  }

  // ---- machines and their effects -----------------------------------------

  /** With an engine-wide cap, events start nothing themselves: slots are offered in priority order after each input. */
  private slots(): number {
    return this.cap > 0 ? 0 : Infinity;
  }

  private send(rt: Runtime, event: DeploymentEvent): void {
    if (rt.actor.getSnapshot().status !== 'active') return;
    this.machineTouched = true;
    rt.data.io.explain = this.outbox.heard('decision');
    rt.actor.send(event);
    rt.phase = phaseOf(rt.actor.getSnapshot().value);
    this.applyEffects(rt.data);
  }

  /** An updating node is stable (`reason` null) or failed: settled in place when the phase cannot change, else by the machine. */
  private resolve(rt: Runtime, node: string, record: NodeRecord, reason: NodeFailureReason | null): void {
    rt.data.io.explain = this.outbox.heard('decision');
    if (!resolveInPlace(rt.phase, rt.data, node, record, reason, this.now, this.slots())) {
      const stamp = { node, now: this.now, slots: this.slots() };
      return this.send(rt, reason === null ? { type: 'node.stable', ...stamp } : { type: 'node.failed', reason, ...stamp });
    }
    this.machineTouched = true;
    this.applyEffects(rt.data);
  }

  private applyEffects(d: DeploymentData): void {
    const out = d.io.out;
    for (let i = 0; i < out.length; i++) this.apply(d, out[i]!);
    // Emptied by `pop`: `length = 0` drops the backing store, and the next event would allocate it again.
    while (out.length > 0) out.pop();
  }

  /**
   * §7: deployments held back by the engine-wide cap get free slots by
   * priority (higher first), then age (older first).
   */
  private offerCapacity(): void {
    if (this.cap <= 0 || !this.machineTouched) return;
    const wanting: Runtime[] = [];
    for (const job of this.jobs.values()) {
      const rt = this.latestOf(job);
      if (rt.data.wantsSlots) wanting.push(rt);
    }
    wanting.sort((a, b) => b.data.priority - a.data.priority || a.data.seq - b.data.seq);
    for (const rt of wanting) {
      const free = this.cap - this.inFlight();
      if (free <= 0) break;
      this.send(rt, { type: 'capacity', now: this.now, slots: free });
    }
    this.machineTouched = false;
  }

  private inFlight(): number {
    let total = 0;
    for (const job of this.jobs.values()) total += this.latestOf(job).data.counts.updating;
    return total;
  }

  private apply(d: DeploymentData, effect: Effect): void {
    const at = this.now;
    const deployment = d.id;
    switch (effect.type) {
      case 'state': {
        const job = this.jobs.get(d.job)!;
        if (effect.state === 'completed') job.lastCompleted = d.version;
        if (effect.state === 'rolling_back') job.current = d.rollbackTarget!;
        const reason = effect.reason === null ? {} : { reason: effect.reason };
        return this.outbox.emit('deployment.state', { at, deployment, state: effect.state, ...reason });
      }
      case 'start':
        this.outbox.start(startRequest(d, effect.node, 'update', effect.attempt, this.specOf(d, d.version)));
        return this.outbox.emit('node.started', { at, deployment, node: effect.node, version: d.version, canary: effect.canary });
      case 'stable':
        return this.outbox.emit('node.stable', { at, deployment, node: effect.node, version: d.version });
      case 'failed':
        return this.outbox.emit('node.failed', { at, deployment, node: effect.node, version: d.version, reason: effect.reason });
      case 'promoted':
        return this.outbox.emit('deployment.promoted', { at, deployment, auto: effect.auto });
      case 'revert':
        this.outbox.start(startRequest(d, effect.node, 'revert', effect.attempt, this.specOf(d, d.rollbackTarget!)));
        return this.outbox.emit('node.reverting', { at, deployment, node: effect.node, version: d.rollbackTarget! });
      case 'reverted':
      case 'revert_failed':
        return this.outbox.emit(`node.${effect.type}`, { at, deployment, node: effect.node, version: d.rollbackTarget! });
      case 'stop':
        return this.outbox.stop(stopRequest(d, effect.node, effect.purpose, effect.attempt));
      case 'arm':
        return this.timers.arm(deployment, effect.timer, effect.node, effect.at);
      case 'disarm':
        return this.timers.disarm(deployment, effect.timer, effect.node);
      case 'clearNodeTimers':
        return this.timers.clearNode(deployment, effect.node);
      case 'decision': {
        if (!this.outbox.heard('decision')) return;
        const node = effect.node === undefined ? {} : { node: effect.node };
        return this.outbox.emit('decision', { at, deployment, action: effect.action, reason: effect.reason, ...node });
      }
    }
  }

  private specOf(d: DeploymentData, version: number): JobSpec {
    return this.jobs.get(d.job)!.versions[version - 1]!;
  }

  /** After a crash: every execution still in flight is started again (same id; executors treat it as idempotent). */
  private reissueInFlight(executor: Executor): void {
    for (const { data: d } of this.runtimes.values()) {
      for (const [node, record] of d.nodes) {
        if (record.state === 'updating') executor.start(startRequest(d, node, 'update', record.attempt, this.specOf(d, d.version)));
        else if (record.state === 'reverting') executor.start(startRequest(d, node, 'revert', record.attempt, this.specOf(d, d.rollbackTarget!)));
      }
    }
  }

  private load(state: EngineState): void {
    for (const node of state.nodes) this.nodes.set(node.id, { id: node.id, labels: { ...node.labels }, connected: node.connected });
    for (const job of state.jobs) this.jobs.set(job.key, { ...job, versions: job.versions.map((v) => deepFreeze(structuredClone(v))) });
    for (const s of state.deployments) {
      const spec = this.jobs.get(s.data.job)!.versions[s.data.version - 1]!;
      this.spawn(deserializeDeployment(s, this.io(this.matcherFor(s.data.job, spec))), s.machine);
    }
    this.timers.load(state.timers);
    this.deploymentSeq = state.deploymentSeq;
    Object.assign(this.ignoredReports, state.ignoredReports);
  }
}

function jobKey(spec: JobSpec): string {
  return `${spec.namespace}/${spec.name}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
