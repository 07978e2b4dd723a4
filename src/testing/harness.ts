/**
 * The policy test harness: the real engine on a virtual clock, its executor
 * played by the simulator's agents (src/sim/agents.ts) with scripted
 * behaviors, and the trace of what happened. The harness is a face over the
 * simulator: it has no fleet of its own, so the two cannot disagree. What a
 * test asserts here is what the engine does in production; only time and the
 * nodes are simulated. Time is in seconds (or Go durations) everywhere.
 */
import { EventEmitter } from 'eventemitter3';
import { CommandError } from '../engine/errors.js';
import { VirtualClock } from '../engine/clocks/virtualClock.js';
import { createEngine, Engine } from '../engine/index.js';
import type { ExecutionRequest, Executor } from '../engine/ports.js';
import type { DeploymentState, DeploymentStatus, EngineOptions, SubmitResult } from '../engine/types.js';
import type { FleetNode } from '../selector/types.js';
import { SimulatedAgents } from '../sim/agents.js';
import { parseFleet } from '../sim/fleet.js';
import { OwnedClock, type Lease } from '../sim/ownedClock.js';
import { streamTrace, type TraceEvent, type TraceType } from '../sim/trace.js';
import { parseDocument } from '../spec/document.js';
import { closestName } from '../spec/suggest.js';
import type { JobSpec, Problem } from '../spec/types.js';
import { validateJobSpec } from '../spec/validate.js';
import { BehaviorBook, checkBehaviorFields, compileBehavior, DEFAULT_BEHAVIOR, type NodeBehavior } from './behavior.js';
import { HealthScript } from './healthScript.js';
import { checkInvariants, isAtRest, type RolloutRecord, type Violation } from './invariants/index.js';
import { waitingFor } from './waiting.js';
import { toMs, toSeconds, type Duration } from './time.js';
import { describeTrace, expectNoTrace, expectTrace, filterTrace, type TraceEventOf, type TracePattern } from './traceAssertions.js';

export interface NodeInput {
  id: string;
  labels?: Record<string, string>;
  /** Default true. */
  connected?: boolean;
}

export interface HarnessOptions {
  /** Nodes by id (no labels) or with labels; ids must be distinct. */
  nodes?: ReadonlyArray<string | NodeInput>;
  /** A scenario's `fleet` block (contract §9): `{ nodes, groups }`. */
  fleet?: unknown;
  /** The engine's global cap on concurrent node updates. */
  maxConcurrentUpdates?: number;
  /** The default node behavior (see `NodeBehavior`); unset fields keep `DEFAULT_BEHAVIOR`. */
  behavior?: Partial<NodeBehavior>;
  /** Seeds the draws of ranged behaviors (`startsAfter({ min, max })`). Default 1. */
  seed?: number;
  /** Also record the engine's decisions in the trace (type `decision`). Default false. */
  decisions?: boolean;
}

/** One executor call, as the harness saw it; `t` in seconds. */
export interface ExecutorCall {
  t: number;
  action: 'start' | 'stop';
  executionId: string;
  node: string;
  job: string;
  version: number;
  /** Start calls only. */
  deployment?: string;
  purpose?: 'update' | 'revert';
}

/** `submit` input: a normalized JobSpec, a raw JobSpec object, or its JSON/YAML text. */
export type SpecInput = JobSpec | Record<string, unknown> | string;

export type UntilTarget = DeploymentState | readonly DeploymentState[] | ((harness: Harness) => boolean);

/** An operator command the harness can schedule with `at`. */
export type ScheduledCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

/** A JobSpec the harness refused, with every problem the validator found. */
export class InvalidJobSpecError extends Error {
  override readonly name = 'InvalidJobSpecError';
  constructor(readonly problems: Problem[]) {
    super(`invalid JobSpec:\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`);
  }
}

/** `advanceUntil` ran out of time first. */
export class HarnessTimeoutError extends Error {
  override readonly name: string = 'HarnessTimeoutError';
}

/** `advanceUntil` stopped early: nothing can happen any more without the test (`waiting` says what each deployment waits for). */
export class HarnessStuckError extends HarnessTimeoutError {
  override readonly name = 'HarnessStuckError';
  constructor(
    message: string,
    readonly waiting: string[],
  ) {
    super(message);
  }
}

const DEFAULT_LIMIT = '24h';
const COMMANDS: readonly ScheduledCommand[] = ['pause', 'resume', 'promote', 'abort', 'rollback'];

export function createHarness(options: HarnessOptions = {}): Harness {
  return new Harness(options);
}

type Replayable = (h: Harness) => void;

export class Harness {
  readonly seed: number;
  /** Scripted node behaviors; see `HealthScript`. */
  readonly health: HealthScript;
  /** Operator commands scheduled with `at` that the engine refused, with its message (`t` in seconds). */
  readonly refused: Array<{ t: number; command: ScheduledCommand; message: string }> = [];
  private readonly options: HarnessOptions;
  private readonly clock = new VirtualClock();
  private readonly owned = new OwnedClock(this.clock);
  /** The agents' and the harness's own timers: they survive an engine crash. */
  private readonly worldClock = this.owned.lease();
  private readonly book: BehaviorBook;
  private readonly agents: SimulatedAgents;
  private readonly executor: Executor;
  private readonly calls: ExecutorCall[] = [];
  private readonly nodes = new Map<string, FleetNode>();
  private readonly specs: Record<string, Record<number, JobSpec>> = {};
  private readonly events: TraceEvent[] = [];
  private readonly listeners = new EventEmitter();
  /** The latest deployment of each job, the version each deployment rolls out, each deployment's state: from the trace. */
  private readonly latestOf = new Map<string, string>();
  private readonly versionOf = new Map<string, number>();
  private readonly stateOf = new Map<string, DeploymentState>();
  /** Every input since creation, to replay in `fork`. */
  private readonly log: Replayable[] = [];
  private depth = 0;
  private lease: Lease;
  private current: Engine;
  private focusJob: string | null = null;

  constructor(options: HarnessOptions) {
    this.options = options;
    this.seed = options.seed ?? 1;
    if (options.behavior !== undefined) checkBehaviorFields(options.behavior, 'createHarness behavior');
    const defaults: NodeBehavior = { ...DEFAULT_BEHAVIOR, ...options.behavior };
    const compiledDefault = compileBehavior(defaults);
    this.book = new BehaviorBook(defaults, (rule) => {
      // Copied when a fork replays it, with the fields the chain has set by then.
      if (this.depth === 0) this.log.push((h) => h.book.add({ ...rule, patch: { ...rule.patch }, hooks: [...rule.hooks] }));
    });
    this.health = new HealthScript(this.book, (id, where) => this.knownNode(id, where));
    this.agents = new SimulatedAgents(this.worldClock, this.seed, () => compiledDefault, (request, node) => this.book.behaviorOf(request, node, this.scriptedVersion(request)));
    // Reports go to the engine running now: a restart replaces it.
    this.agents.attach({ reportExecution: (report) => this.current.reportExecution(report), reportHealth: (report) => this.current.reportHealth(report) });
    this.executor = {
      start: (request) => {
        this.recordCall('start', request);
        this.agents.start(request);
      },
      stop: (request) => {
        this.recordCall('stop', request);
        this.agents.stop(request);
      },
    };
    this.lease = this.owned.lease();
    this.current = createEngine({ executor: this.executor, clock: this.lease }, this.engineOptions());
    this.listen();
    const fleet: FleetNode[] = [];
    if (options.fleet !== undefined) {
      const parsed = parseFleet(options.fleet, 'fleet');
      if (!parsed.ok) throw new TypeError(`createHarness: invalid fleet:\n${parsed.errors.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
      fleet.push(...parsed.nodes);
    }
    this.addFleet([...fleet, ...(options.nodes ?? []).map(asNode)], 'createHarness');
  }

  /** The engine running now (a new instance after `restart`; listen with `h.on`, which survives it). */
  get engine(): Engine {
    return this.current;
  }

  /** The trace so far, in time order (contract §8 plus the types of docs/cli.md). */
  get trace(): readonly TraceEvent[] {
    return this.events;
  }

  /** Every start and stop the engine asked of the executor. */
  get executorCalls(): readonly ExecutorCall[] {
    return this.calls;
  }

  /** Seconds of virtual time since the harness was created (the trace's `t`). */
  now(): number {
    return toSeconds(this.clock.now());
  }

  /** Calls `listener` with every trace event of `type` (or every event, `'*'`) from now on, across `restart()`. Returns an unsubscribe function. */
  on<T extends TraceType>(type: T | '*', listener: (event: T extends TraceType ? TraceEventOf<T> : TraceEvent) => void): () => void {
    this.listeners.on(type, listener as (event: TraceEvent) => void);
    return () => this.listeners.off(type, listener as (event: TraceEvent) => void);
  }

  // -- the fleet ------------------------------------------------------------

  /** Adds nodes; during a rollout this is a join (§7). An id already in the fleet is an error (use `updateNode`). */
  addNodes(...nodes: ReadonlyArray<string | NodeInput>): void {
    this.input((h) => h.addNodes(...nodes), () => this.addFleet(nodes.map(asNode), 'addNodes'));
  }

  /** A node joining the fleet: the same as `addNodes`. */
  join(...nodes: ReadonlyArray<string | NodeInput>): void {
    this.addNodes(...nodes);
  }

  /** Changes a known node's labels (and connection, when given). */
  updateNode(input: NodeInput): void {
    this.input(
      (h) => h.updateNode(input),
      () => {
        this.knownNode(input.id, 'updateNode');
        const node: FleetNode = { id: input.id, labels: { ...input.labels }, connected: input.connected ?? this.nodes.get(input.id)!.connected };
        this.nodes.set(node.id, node);
        this.agents.addNode(node);
        this.current.upsertNode(node);
      },
    );
  }

  /** The fleet now: every node added or joined and not removed, with its connection. */
  fleetNodes(): FleetNode[] {
    return [...this.nodes.values()].map((node) => ({ ...node, labels: { ...node.labels } }));
  }

  removeNode(id: string): void {
    this.input(
      (h) => h.removeNode(id),
      () => {
        this.knownNode(id, 'removeNode');
        this.nodes.delete(id);
        this.current.removeNode(id);
      },
    );
  }

  disconnect(...ids: string[]): void {
    this.input((h) => h.disconnect(...ids), () => ids.forEach((id) => this.setConnected(id, false, 'disconnect')));
  }

  /** Reconnects nodes; each then sends the execution status it held while away. */
  connect(...ids: string[]): void {
    this.input((h) => h.connect(...ids), () => ids.forEach((id) => this.setConnected(id, true, 'connect')));
  }

  private addFleet(nodes: FleetNode[], where: string): void {
    const seen = new Set<string>();
    for (const node of nodes) {
      if (this.nodes.has(node.id) || seen.has(node.id)) throw new Error(`${where}: duplicate node id ${JSON.stringify(node.id)}: it is already in the fleet (use updateNode to change its labels)`);
      seen.add(node.id);
    }
    for (const node of nodes) {
      this.nodes.set(node.id, node);
      this.agents.addNode(node); // first: the engine may start the node at once
      this.current.upsertNode(node);
    }
  }

  private setConnected(id: string, connected: boolean, where: string): void {
    this.knownNode(id, where);
    this.nodes.get(id)!.connected = connected;
    this.current.setConnected(id, connected);
    this.agents.setConnected(id, connected);
  }

  /** Throws for an id that is not in the fleet, with the closest one. */
  private knownNode(id: string, where: string): void {
    if (this.nodes.has(id)) return;
    const close = this.nodes.size <= 100_000 ? closestName(id, [...this.nodes.keys()]) : undefined;
    throw new Error(`${where}: unknown node ${JSON.stringify(id)}${close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`}; the fleet has ${this.nodes.size} nodes`);
  }

  // -- jobs and commands ----------------------------------------------------

  /**
   * Submits a JobSpec. A raw object or text is validated as the CLI would;
   * `name` (`app`) and `type` (`pipeline`) are filled in when missing, so a
   * test can state only its policy. Throws InvalidJobSpecError listing every problem.
   */
  submit(input: SpecInput): SubmitResult {
    const spec = this.normalize(input);
    let result: SubmitResult | undefined;
    this.input(
      (h) => h.submit(spec),
      () => {
        // Known before the engine starts anything, so that rules for it apply to the executions `submit` itself starts.
        this.focusJob = `${spec.namespace}/${spec.name}`;
        result = this.current.submit(spec);
        (this.specs[result.job] ??= {})[result.version] = spec;
      },
    );
    return result!;
  }

  pause(job?: string): void {
    this.command('pause', job);
  }

  resume(job?: string): void {
    this.command('resume', job);
  }

  /** Throws the engine's error outside `awaiting_promotion` (§7). */
  promote(job?: string): void {
    this.command('promote', job);
  }

  abort(job?: string): void {
    this.command('abort', job);
  }

  /** A new deployment of kind `rollback` toward `version` (default: the last completed one). */
  rollback(version?: number, job?: string): void {
    this.input((h) => h.rollback(version, job), () => void this.current.rollback(this.job(job, 'rollback'), version));
  }

  /**
   * Does `action` at virtual time `at` (seconds or a Go duration since the
   * harness started; not in the past): an operator command on the current job
   * (a refusal is recorded in `refused`, not thrown) or a function of the harness.
   */
  at(at: Duration, action: ScheduledCommand | ((harness: Harness) => void)): void {
    const due = toMs(at, 'at(time)');
    if (due < this.clock.now()) throw new RangeError(`at(time): ${JSON.stringify(at)} is in the past (now is ${this.now()}s)`);
    if (typeof action === 'string' && !COMMANDS.includes(action)) {
      const close = closestName(action, COMMANDS);
      throw new TypeError(`at(time, command): unknown command ${JSON.stringify(action)}${close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`}; expected one of ${COMMANDS.join(', ')}`);
    }
    this.input(
      (h) => h.at(at, action),
      () => {
        this.worldClock.schedule(due, () => {
          if (typeof action === 'function') return action(this);
          try {
            if (action === 'rollback') this.current.rollback(this.job(undefined, 'at'));
            else this.current[action](this.job(undefined, 'at'));
          } catch (error) {
            if (!(error instanceof CommandError)) throw error;
            this.refused.push({ t: this.now(), command: action, message: error.message });
          }
        });
      },
    );
  }

  private command(command: 'pause' | 'resume' | 'promote' | 'abort', job: string | undefined): void {
    this.input((h) => h.command(command, job), () => this.current[command](this.job(job, command)));
  }

  private job(job: string | undefined, where: string): string {
    const key = job ?? this.focusJob;
    if (key === null) throw new Error(`${where}: no job yet: submit a JobSpec first`);
    if (job !== undefined && this.specs[job] === undefined) {
      const close = closestName(job, Object.keys(this.specs));
      throw new Error(`${where}: unknown job ${JSON.stringify(job)}${close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`}; jobs are namespace/name`);
    }
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

  /** Lets `duration` of virtual time pass (seconds or a Go duration), firing every report and deadline due in it. */
  advance(duration: Duration): void {
    this.advanceTo(toSeconds(this.clock.now() + toMs(duration, 'advance(duration)')));
  }

  /** Lets time pass up to `t` since the harness started (seconds or a Go duration: `advanceTo('1h')`). */
  advanceTo(t: Duration): void {
    const to = toMs(t, 'advanceTo(t)');
    if (to < this.clock.now()) throw new RangeError(`advanceTo(t): ${JSON.stringify(t)} is in the past (now is ${this.now()}s)`);
    this.steps(to, () => false, false, true);
  }

  /**
   * Fires timers one at a time until the current deployment is in one of the
   * given states (or the predicate holds), and returns its status. Stops right
   * after the input that made it true (with everything that input caused),
   * even if more timers are due at that instant. Throws HarnessStuckError at
   * once when nothing can happen any more (saying what each deployment waits
   * for, e.g. `promote`), HarnessTimeoutError after `limit` (default 24h).
   */
  advanceUntil(target: UntilTarget, options: { limit?: Duration } = {}): DeploymentStatus | null {
    const holds = this.condition(target);
    const until = this.clock.now() + toMs(options.limit ?? DEFAULT_LIMIT, 'advanceUntil limit');
    const outcome = this.steps(until, holds);
    if (outcome === 'stuck') {
      const waiting = this.waiting();
      throw new HarnessStuckError(`advanceUntil(${describeTarget(target)}) can never hold: nothing can happen at t=${this.now()}s without the test. ${waiting.join('; ') || 'no deployment'}; seed=${this.seed}\n${describeTrace(this.events.slice(-12))}`, waiting);
    }
    if (outcome === 'limit') throw new HarnessTimeoutError(`advanceUntil(${describeTarget(target)}) still false at t=${this.now()}s: ${this.describe()}`);
    return this.focusJob === null || !this.latestOf.has(this.focusJob) ? null : this.deployment();
  }

  /**
   * Runs until the run comes to rest: every deployment ended or waits for an
   * operator or eligible nodes, or nothing can happen any more without the
   * test (e.g. `immediate` waiting for a node that never reports: see
   * `waiting()`). At most `limit` (default 24h); returns false when the limit came first.
   */
  settle(options: { limit?: Duration } = {}): boolean {
    const until = this.clock.now() + toMs(options.limit ?? DEFAULT_LIMIT, 'settle limit');
    return this.steps(until, () => this.current.deployments().every(isAtRest), true) !== 'limit';
  }

  /** What each deployment that has not ended waits for, as sentences (`d-2 awaiting_promotion: waits for promote`). */
  waiting(): string[] {
    return waitingFor(this.current.deployments());
  }

  /**
   * Fires timers (logged for `fork` as a count of steps) until `holds`, the
   * limit, or nothing left to fire. `perInstant`: check `holds` only when the
   * next timer lies in the future (the check is costly); `toLimit`: the clock
   * reaches `until` even when nothing is left to fire.
   */
  private steps(until: number, holds: () => boolean, perInstant = false, toLimit = false): 'held' | 'stuck' | 'limit' {
    let fired = 0;
    let outcome: 'held' | 'stuck' | 'limit';
    this.depth++;
    try {
      for (;;) {
        const due = this.clock.nextDue();
        if ((!perInstant || due === null || due > this.clock.now()) && holds()) {
          outcome = 'held';
          break;
        }
        if (due === null) {
          // Nothing left to fire: time still passes when the caller asked for it (advance, advanceTo).
          if (toLimit) this.clock.advanceTo(until);
          outcome = toLimit ? 'limit' : 'stuck';
          break;
        }
        if (due > until) {
          this.clock.advanceTo(until);
          outcome = holds() ? 'held' : 'limit';
          break;
        }
        this.clock.step();
        fired++;
      }
    } finally {
      this.depth--;
    }
    const to = this.clock.now();
    if (this.depth === 0) {
      this.log.push((h) => {
        for (let i = 0; i < fired; i++) h.clock.step();
        h.clock.advanceTo(to);
      });
    }
    return outcome;
  }

  private condition(target: UntilTarget): () => boolean {
    if (typeof target === 'function') return () => target(this);
    const states: readonly string[] = typeof target === 'string' ? [target] : target;
    return () => {
      const id = this.focusJob === null ? undefined : this.latestOf.get(this.focusJob);
      return id !== undefined && states.includes(this.stateOf.get(id) ?? 'pending');
    };
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
    this.knownNode(node, 'nodeState');
    return this.current.nodeState(this.deploymentId(deployment), node);
  }

  private deploymentId(idOrJob: string | undefined): string {
    if (idOrJob !== undefined && this.versionOf.has(idOrJob)) return idOrJob;
    if (idOrJob !== undefined && this.specs[idOrJob] === undefined) {
      const close = closestName(idOrJob, [...this.versionOf.keys(), ...Object.keys(this.specs)]);
      throw new Error(`unknown deployment or job ${JSON.stringify(idOrJob)}${close === undefined ? '' : ` (did you mean ${JSON.stringify(close)}?)`}`);
    }
    const job = this.job(idOrJob, 'deployment');
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

  /** Trace events matching every field of `pattern` (typed by its `type`). */
  traceOf<P extends TracePattern>(pattern: P): ReturnType<typeof filterTrace<P>> {
    return filterTrace(this.events, pattern);
  }

  /** Asserts the trace holds events matching the patterns, in this order (others may come between); returns them. */
  expectTrace(...patterns: TracePattern[]): TraceEvent[] {
    return expectTrace(this.events, patterns);
  }

  /** Asserts no trace event matches `pattern`. */
  expectNoTrace(pattern: TracePattern): void {
    expectNoTrace(this.events, pattern);
  }

  /** The run as data for the invariants; `settled`: the run has been driven until it came to rest (see `settle`). */
  record(settled = false): RolloutRecord {
    const record: RolloutRecord = { trace: this.events, deployments: this.current.deployments(), specs: this.specs, executorCalls: this.calls, settled };
    const cap = this.options.maxConcurrentUpdates;
    return cap === undefined ? record : { ...record, maxConcurrentUpdates: cap };
  }

  /** Every invariant of the contract over the run so far. */
  checkInvariants(settled = false): Violation[] {
    return checkInvariants(this.record(settled));
  }

  /** Throws when any invariant is violated, listing each with the seed and the trace. */
  expectInvariants(settled = false): void {
    const violations = this.checkInvariants(settled);
    if (violations.length === 0) return;
    throw new Error(`contract violated:\n${violations.map((v) => `  ${v.message}`).join('\n')}\nseed=${this.seed}\n${describeTrace(this.events)}`);
  }

  // -- crashes and copies -----------------------------------------------------

  /**
   * The engine crashes and is restored from its snapshot (through JSON, as a
   * store keeps it) on the same clock and fleet; timers due at the same
   * instant keep their order. Listeners added with `on` stay.
   */
  restart(): void {
    this.input(
      (h) => h.restart(),
      () => {
        const snapshot = JSON.parse(JSON.stringify(this.current.snapshot())) as ReturnType<Engine['snapshot']>;
        const dropped = this.owned.revoke(this.lease);
        this.current.dispose(); // the crashed engine takes no more input
        const lease = this.owned.lease(true);
        this.current = Engine.restore(snapshot, { executor: this.executor, clock: lease }, this.engineOptions());
        this.owned.restart(dropped, lease);
        this.lease = lease;
        this.listen();
      },
    );
  }

  /**
   * A copy of this harness as it stands (trace, engine, fleet, rules, time),
   * to try several continuations of one prepared run. It replays this
   * harness's inputs on a fresh one, so it costs what the preparation cost;
   * listeners added with `on` are not copied. Rules added with `health` are
   * copied with the fields they have now.
   */
  fork(): Harness {
    const copy = new Harness(this.options);
    copy.depth++;
    try {
      for (const entry of this.log) entry(copy);
    } finally {
      copy.depth--;
    }
    copy.log.push(...this.log);
    return copy;
  }

  /** Runs an input, logging it for `fork` unless it is part of another. */
  private input(replay: Replayable, act: () => void): void {
    this.depth++;
    try {
      act();
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.log.push(replay);
  }

  /** Options are configuration, not state: a restarted engine is given them again, as a restarted process would be. */
  private engineOptions(): EngineOptions {
    // The invariants read every deployment's status: a test run keeps its whole history (§7 v1.1 lets an engine forget).
    const keepAll = { historyLimit: Number.MAX_SAFE_INTEGER };
    const cap = this.options.maxConcurrentUpdates;
    return cap === undefined ? keepAll : { ...keepAll, maxConcurrentUpdates: cap };
  }

  private listen(): void {
    const engine = this.current;
    engine.on('node.stable', (e) => this.agents.judged(e.node, e.version, e.deployment));
    engine.on('node.failed', (e) => this.agents.judged(e.node, e.version, e.deployment));
    streamTrace(engine, (event) => this.traced(event), { decisions: this.options.decisions === true, versions: this.versionOf });
  }

  private traced(event: TraceEvent): void {
    if (event.type === 'deployment.created') {
      this.latestOf.set(String(event.job), event.deployment);
      this.versionOf.set(event.deployment, Number(event.to_version));
    } else if (event.type === 'deployment.state') {
      this.stateOf.set(event.deployment, event.state as DeploymentState);
    }
    this.events.push(event);
    if (this.listeners.listenerCount(event.type) > 0) this.listeners.emit(event.type, event);
    if (this.listeners.listenerCount('*') > 0) this.listeners.emit('*', event);
  }

  /** A revert follows the rules of the version being rolled back (where `revertHangs()` was scripted). */
  private scriptedVersion(request: ExecutionRequest): number {
    return request.purpose === 'revert' ? (this.versionOf.get(request.deployment) ?? request.version) : request.version;
  }

  private recordCall(action: ExecutorCall['action'], request: { executionId: string; node: string; job: string; version: number; deployment?: string; purpose?: 'update' | 'revert' }): void {
    const call: ExecutorCall = { t: this.now(), action, executionId: request.executionId, node: request.node, job: request.job, version: request.version };
    if (request.deployment !== undefined) call.deployment = request.deployment;
    if (request.purpose !== undefined) call.purpose = request.purpose;
    this.calls.push(call);
  }
}

function asNode(input: string | NodeInput | FleetNode): FleetNode {
  if (typeof input === 'string') return { id: input, labels: {}, connected: true };
  return { id: input.id, labels: { ...input.labels }, connected: input.connected ?? true };
}

function describeTarget(target: UntilTarget): string {
  if (typeof target === 'function') return 'predicate';
  return typeof target === 'string' ? target : target.join(' | ');
}
