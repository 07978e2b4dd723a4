/**
 * The policy test harness: the real engine on a virtual clock, a scripted
 * fleet answering its executor port, and the §8 trace of what happened.
 * What a test asserts here is what the engine does in production; only time
 * and the nodes are simulated.
 */
import { VirtualClock } from '../engine/clocks/virtualClock.js';
import { createEngine, Engine } from '../engine/index.js';
import type { ExecutionRequest } from '../engine/ports.js';
import type { DeploymentState, DeploymentStatus, EngineEvents, EngineOptions, SubmitResult } from '../engine/types.js';
import type { FleetNode } from '../selector/types.js';
import { parseFleet } from '../sim/fleet.js';
import { TRACE_TYPES, traceEvent, type TraceEvent } from '../sim/trace.js';
import { parseDocument } from '../spec/document.js';
import type { JobSpec, Problem } from '../spec/types.js';
import { validateJobSpec } from '../spec/validate.js';
import { DEFAULT_BEHAVIOR, resolveBehavior, type BehaviorRule, type NodeBehavior } from './behavior.js';
import { HealthScript } from './healthScript.js';
import { checkInvariants, isAtRest, type RolloutRecord, type Violation } from './invariants/index.js';
import { ScriptedFleet, type ExecutorCall } from './scriptedFleet.js';
import { TimerBook, type Lease } from './timerBook.js';
import { toMs, type Duration } from './time.js';
import { describeTrace, expectTrace, expectNoTrace, matching, type TracePattern } from './traceAssertions.js';

export interface NodeInput {
  id: string;
  labels?: Record<string, string>;
  /** Default true. */
  connected?: boolean;
}

export interface HarnessOptions {
  /** Nodes by id (no labels) or with labels. */
  nodes?: ReadonlyArray<string | NodeInput>;
  /** A scenario's `fleet` block (contract §9): `{ nodes, groups }`. */
  fleet?: unknown;
  /** The engine's global cap on concurrent node updates. */
  maxConcurrentUpdates?: number;
  /** The default node behavior (see `NodeBehavior`); unset fields keep `DEFAULT_BEHAVIOR`. */
  behavior?: Partial<NodeBehavior>;
  /** Seeds the draws of ranged behaviors (`startsAfter({ min, max })`). Default 1. */
  seed?: number;
}

/** `submit` input: a normalized JobSpec, a raw JobSpec object, or its JSON/YAML text. */
export type SpecInput = JobSpec | Record<string, unknown> | string;

export type UntilTarget = DeploymentState | readonly DeploymentState[] | ((harness: Harness) => boolean);

/** A JobSpec the harness refused, with every problem the validator found. */
export class InvalidJobSpecError extends Error {
  override readonly name = 'InvalidJobSpecError';
  constructor(readonly problems: Problem[]) {
    super(`invalid JobSpec:\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
  }
}

/** `advanceUntil` ran out of time (or of things that could happen) first. */
export class HarnessTimeoutError extends Error {
  override readonly name = 'HarnessTimeoutError';
}

const DEFAULT_LIMIT = '24h';

export function createHarness(options: HarnessOptions = {}): Harness {
  return new Harness(options);
}

export class Harness {
  readonly seed: number;
  readonly clock = new VirtualClock();
  /** Scripted node behaviors; see `HealthScript`. */
  readonly health: HealthScript;
  private readonly rules: BehaviorRule[] = [];
  private readonly defaults: NodeBehavior;
  private readonly book = new TimerBook(this.clock);
  private readonly fleet: ScriptedFleet;
  private readonly nodes = new Map<string, FleetNode>();
  private readonly specs: Record<string, Record<number, JobSpec>> = {};
  private readonly events: TraceEvent[] = [];
  /** The latest deployment of each job, and the version each deployment rolls out. */
  private readonly latestOf = new Map<string, string>();
  private readonly versionOf = new Map<string, number>();
  private readonly maxConcurrentUpdates: number | undefined;
  private lease: Lease;
  private current: Engine;
  private focusJob: string | null = null;

  constructor(options: HarnessOptions) {
    this.seed = options.seed ?? 1;
    this.maxConcurrentUpdates = options.maxConcurrentUpdates;
    this.defaults = { ...DEFAULT_BEHAVIOR, ...options.behavior };
    this.health = new HealthScript(this.rules);
    this.fleet = new ScriptedFleet({
      clock: this.book.lease(),
      seed: this.seed,
      sink: {
        execution: (report) => this.current.reportExecution(report),
        health: (report) => this.current.reportHealth(report),
      },
      behaviorOf: (request) => this.behaviorOf(request),
      isConnected: (node) => this.nodes.get(node)?.connected ?? false,
    });
    this.lease = this.book.lease();
    this.current = createEngine({ executor: this.fleet, clock: this.lease }, this.engineOptions());
    this.listen();
    if (options.fleet !== undefined) {
      const parsed = parseFleet(options.fleet, 'fleet');
      if (!parsed.ok) throw new Error(`invalid fleet:\n${parsed.errors.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
      this.addNodes(...parsed.nodes);
    }
    this.addNodes(...(options.nodes ?? []));
  }

  /** The engine running now (a new instance after `restart`). */
  get engine(): Engine {
    return this.current;
  }

  /** The §8 trace so far, in time order. */
  get trace(): readonly TraceEvent[] {
    return this.events;
  }

  /** Every start and stop the engine asked of the executor. */
  get executorCalls(): readonly ExecutorCall[] {
    return this.fleet.calls;
  }

  /** Seconds of virtual time since the harness was created (the trace's `t`). */
  now(): number {
    return this.clock.now() / 1000;
  }

  // -- the fleet ------------------------------------------------------------

  /** Adds (or updates) nodes; during a rollout this is a join (§7). */
  addNodes(...nodes: ReadonlyArray<string | NodeInput>): void {
    for (const input of nodes) {
      const node: FleetNode = typeof input === 'string' ? { id: input, labels: {}, connected: true } : { id: input.id, labels: { ...input.labels }, connected: input.connected ?? true };
      this.nodes.set(node.id, node);
      this.current.upsertNode(node);
    }
  }

  /** A node joining the fleet: the same as `addNodes`. */
  join(...nodes: ReadonlyArray<string | NodeInput>): void {
    this.addNodes(...nodes);
  }

  /** The fleet as the harness set it up: every node added or joined and not removed, with its connection. */
  fleetNodes(): FleetNode[] {
    return [...this.nodes.values()].map((node) => ({ ...node, labels: { ...node.labels } }));
  }

  removeNode(id: string): void {
    this.nodes.delete(id);
    this.current.removeNode(id);
  }

  disconnect(...ids: string[]): void {
    for (const id of ids) this.setConnected(id, false);
  }

  /** Reconnects nodes; each then sends the execution status it held while away. */
  connect(...ids: string[]): void {
    for (const id of ids) this.setConnected(id, true);
  }

  private setConnected(id: string, connected: boolean): void {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`unknown node ${JSON.stringify(id)}: add it first`);
    node.connected = connected;
    this.current.setConnected(id, connected);
    if (connected) this.fleet.reconnected(id);
  }

  // -- jobs and commands ----------------------------------------------------

  /**
   * Submits a JobSpec. A raw object or text is validated as the CLI would;
   * `name` (`app`) and `type` (`pipeline`) are filled in when missing, so a
   * test can state only its policy. Throws InvalidJobSpecError listing every problem.
   */
  submit(input: SpecInput): SubmitResult {
    const spec = this.normalize(input);
    const result = this.current.submit(spec);
    (this.specs[result.job] ??= {})[result.version] = spec;
    this.focusJob = result.job;
    return result;
  }

  pause(job?: string): void {
    this.current.pause(this.job(job));
  }

  resume(job?: string): void {
    this.current.resume(this.job(job));
  }

  /** Throws the engine's error outside `awaiting_promotion` (§7). */
  promote(job?: string): void {
    this.current.promote(this.job(job));
  }

  abort(job?: string): void {
    this.current.abort(this.job(job));
  }

  /** A new deployment of kind `rollback` toward `version` (default: the last completed one). */
  rollback(version?: number, job?: string): void {
    this.current.rollback(this.job(job), version);
  }

  private job(job: string | undefined): string {
    const key = job ?? this.focusJob;
    if (key === null) throw new Error('no job yet: submit a JobSpec first');
    return key;
  }

  private normalize(input: SpecInput): JobSpec {
    let value: unknown = input;
    if (typeof input === 'string') {
      const parsed = parseDocument(input, 'submitted JobSpec');
      if (!parsed.ok) throw new InvalidJobSpecError([parsed.problem]);
      value = parsed.value;
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      value = { name: 'app', type: 'pipeline', ...value };
    }
    const result = validateJobSpec(value);
    if (!result.valid) throw new InvalidJobSpecError(result.errors);
    return result.spec;
  }

  // -- time -----------------------------------------------------------------

  /** Lets `duration` of virtual time pass, firing every report and deadline due in it. */
  advance(duration: Duration): void {
    this.clock.advanceBy(toMs(duration));
  }

  /** Lets time pass up to `t` (since the harness started). */
  advanceTo(t: Duration): void {
    this.clock.advanceTo(toMs(t));
  }

  /**
   * Fires timers one at a time until the current deployment is in one of the
   * given states (or the predicate holds), and returns its status. Stops right
   * after the input that made it true (with everything that input caused),
   * even if more timers are due at that instant. Throws HarnessTimeoutError
   * after `limit` (default 24h).
   */
  advanceUntil(target: UntilTarget, options: { limit?: Duration } = {}): DeploymentStatus | null {
    const holds = this.condition(target);
    const until = this.clock.now() + toMs(options.limit ?? DEFAULT_LIMIT);
    while (!holds()) {
      if (!this.clock.step(until)) {
        this.clock.advanceTo(until);
        if (holds()) break;
        throw new HarnessTimeoutError(`advanceUntil(${describeTarget(target)}) still false at t=${this.now()}s: ${this.describe()}`);
      }
    }
    return this.focusJob === null || !this.latestOf.has(this.focusJob) ? null : this.deployment();
  }

  /**
   * Runs until every deployment is at rest (ended, or waiting for an operator
   * or for eligible nodes), at most `limit`. Returns false when the limit came first.
   */
  settle(options: { limit?: Duration } = {}): boolean {
    try {
      this.advanceUntil(() => this.current.deployments().every(isAtRest), options);
      return true;
    } catch (error) {
      if (error instanceof HarnessTimeoutError) return false;
      throw error;
    }
  }

  private condition(target: UntilTarget): () => boolean {
    if (typeof target === 'function') return () => target(this);
    const states: readonly string[] = typeof target === 'string' ? [target] : target;
    return () => this.focusJob !== null && this.latestOf.has(this.focusJob) && states.includes(this.deployment().state);
  }

  // -- inspection -----------------------------------------------------------

  /** Status of a deployment (by id), of a job's latest deployment, or of the last submitted job's. */
  deployment(idOrJob?: string): DeploymentStatus {
    const id = this.deploymentId(idOrJob);
    const status = this.current.status(id);
    if (status === undefined) throw new Error(`the engine does not know deployment ${id}`);
    return status;
  }

  state(idOrJob?: string): DeploymentState {
    return this.deployment(idOrJob).state;
  }

  /** Every deployment's status, in creation order. */
  deployments(): DeploymentStatus[] {
    return this.current.deployments();
  }

  nodeState(node: string, deployment?: string): ReturnType<Engine['nodeState']> {
    return this.current.nodeState(this.deploymentId(deployment), node);
  }

  /** Executions running on the scripted fleet now. */
  running(): ExecutionRequest[] {
    return this.fleet.running();
  }

  private deploymentId(idOrJob: string | undefined): string {
    if (idOrJob !== undefined && this.versionOf.has(idOrJob)) return idOrJob;
    const job = this.job(idOrJob);
    const id = this.latestOf.get(job);
    if (id === undefined) throw new Error(`no deployment of ${JSON.stringify(job)} yet`);
    return id;
  }

  /** One line about the current state, for error messages. */
  describe(): string {
    const parts = this.current.deployments().map((s) => {
      return `${s.id} ${s.state}${s.reason === null ? '' : ` (${s.reason})`} stable=${s.counts.stable} failed=${s.counts.failed} updating=${s.counts.updating}`;
    });
    return `${parts.join('; ') || 'no deployment'}; seed=${this.seed}\n${describeTrace(this.events.slice(-12))}`;
  }

  // -- the trace and the contract ---------------------------------------------

  /** Trace events matching every field of `pattern`. */
  traceOf(pattern: TracePattern): TraceEvent[] {
    return this.events.filter((event) => matching(event, pattern));
  }

  /** Asserts the trace holds events matching the patterns, in this order (others may come between); returns them. */
  expectTrace(...patterns: TracePattern[]): TraceEvent[] {
    return expectTrace(this.events, patterns);
  }

  /** Asserts no trace event matches `pattern`. */
  expectNoTrace(pattern: TracePattern): void {
    expectNoTrace(this.events, pattern);
  }

  /** The run as data for the invariants; `settled`: the run has been driven until nothing could move (see `settle`). */
  record(settled = false): RolloutRecord {
    const record: RolloutRecord = { trace: this.events, deployments: this.deployments(), specs: this.specs, executorCalls: this.fleet.calls, settled };
    if (this.maxConcurrentUpdates !== undefined) record.maxConcurrentUpdates = this.maxConcurrentUpdates;
    return record;
  }

  checkInvariants(settled = false): Violation[] {
    return checkInvariants(this.record(settled));
  }

  /** Throws when any contract invariant is broken by the run so far. */
  expectInvariants(settled = false): void {
    const violations = this.checkInvariants(settled);
    if (violations.length > 0) throw new Error(`contract invariants broken (seed=${this.seed}):\n${violations.map((v) => `  ${v.message}`).join('\n')}`);
  }

  // -- crash safety -----------------------------------------------------------

  /**
   * Simulates a crash and a restart: the engine's snapshot goes through JSON
   * (as a store would keep it), the engine's timers are dropped, and
   * `Engine.restore` builds a new engine on the same clock and fleet. Timers
   * due at the same instant keep their pre-crash order (see `TimerBook`).
   */
  restart(): void {
    const snapshot = JSON.parse(JSON.stringify(this.current.snapshot())) as ReturnType<Engine['snapshot']>;
    const dropped = this.book.revoke(this.lease);
    this.current.dispose(); // the crashed engine takes no more input
    const lease = this.book.lease(true);
    this.current = Engine.restore(snapshot, { executor: this.fleet, clock: lease }, this.engineOptions());
    this.book.restart(dropped, lease);
    this.lease = lease;
    this.listen();
  }

  /** Options are configuration, not state: a restarted engine is given them again, as a restarted process would be. */
  private engineOptions(): EngineOptions {
    return this.maxConcurrentUpdates === undefined ? {} : { maxConcurrentUpdates: this.maxConcurrentUpdates };
  }

  private listen(): void {
    for (const type of TRACE_TYPES) {
      const record = (payload: { at: number; deployment: string }): void => {
        if (type === 'deployment.created') this.created(payload as Parameters<EngineEvents['deployment.created']>[0]);
        this.events.push(traceEvent(type, payload));
      };
      this.current.on(type, record as EngineEvents[typeof type]);
    }
  }

  private created(event: Parameters<EngineEvents['deployment.created']>[0]): void {
    this.latestOf.set(event.job, event.deployment);
    this.versionOf.set(event.deployment, event.to_version);
  }

  /** A revert follows the rules of the version being rolled back, where `revertHangs()` was scripted. */
  private behaviorOf(request: ExecutionRequest): NodeBehavior {
    const node = this.nodes.get(request.node) ?? { id: request.node, labels: {}, connected: false };
    const version = request.purpose === 'revert' ? (this.versionOf.get(request.deployment) ?? request.version) : request.version;
    return resolveBehavior(this.defaults, this.rules, node, version);
  }
}

function describeTarget(target: UntilTarget): string {
  if (typeof target === 'function') return 'predicate';
  return typeof target === 'string' ? target : target.join(' | ');
}
