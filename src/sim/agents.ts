/**
 * Simulated node agents: the simulator's side of the engine's executor port.
 * They run nothing; on `start` they schedule the reports a real agent would
 * send, on the virtual clock, and the engine judges them with its own rules.
 *
 * One execution per node at a time (a new start replaces the old one, as on a
 * real node) and at most one pending timer per node, so a report costs O(1).
 * A node's slot is made when the engine first starts it (or its connection
 * changes): loading a million-node fleet costs an index and a reference a
 * node, and each slot is made hot, next to the others of its rollout window,
 * instead of a million cold objects made at load. Measured on 1,000,000
 * nodes: ~205 bytes a slot, ~375 with an execution running (its timer and id
 * included).
 *
 * What an execution reports (draws from the execution's stream, see prng.ts):
 * - update of a pipeline: after the start delay, `started` and a first health
 *   report, then a health report every `report_interval`. A crashing execution
 *   reports `failed` at its start delay instead; a failing node reports
 *   `healthy: false`. Reports stop once the engine has judged the node
 *   (stable or failed): later ones could only mark it degraded, which changes
 *   nothing the simulator measures, and would cost a timer per stable node.
 * - update of a run-to-completion job (query, update, config): after the start
 *   delay, `started` then `succeeded` (`failed` for a failing node); a crash
 *   reports only `failed`.
 * - revert: `started` for the old version after a start delay; the old version is healthy.
 * - a scripted behavior (`behavior.script`, see script.ts; the harness's
 *   kind): the same first report after the start delay, then health by the
 *   script's phases, a crash or the end of a run-to-completion job at their
 *   scripted times. A judged node keeps reporting while its scripted health
 *   still changes (so the engine sees it degrade or recover), then stops.
 * A disconnected node keeps running but its reports are lost; the execution
 * reports it owes (started, succeeded, failed) are sent when it reconnects.
 * A node runs one execution per job: a second job on the same node gets its
 * own slot (and its own stream of draws).
 */
import type { Clock, ExecutionRequest, Executor, TimerHandle } from '../engine/ports.js';
import type { ExecutionReport, HealthReport } from '../engine/types.js';
import type { FleetNode } from '../selector/types.js';
import { pick, type Behavior } from './behavior.js';
import { executionStreamKey, nodeStreamKey, uniform } from './prng.js';
import { healthChangesAfter, healthyAt, type ExecutionScript } from './script.js';

/** Where the agents send their reports: the engine's input methods. */
export interface ReportSink {
  reportExecution(report: ExecutionReport): void;
  reportHealth(report: HealthReport): void;
}

/** Picks the behavior of one execution when it starts (the harness's rules); without it a node keeps the behavior it joined with. */
export type ExecutionBehavior = (request: ExecutionRequest, node: FleetNode) => Behavior;

type Status = ExecutionReport['status'];

/** What the node's pending timer does when it fires. */
const IDLE = 0;
const FIRST_REPORT = 1;
const HEALTH_REPORT = 2;
const SCRIPTED = 3;

/** A scripted execution's schedule, in absolute ms (Infinity: not due). Only scripted executions carry one. */
interface ScriptRun {
  readonly script: ExecutionScript;
  readonly startedAt: number;
  crashAt: number;
  doneAt: number;
  reportAt: number;
  /** The engine judged the node: it reports only while its health still changes. */
  judged: boolean;
}

interface AgentNode {
  readonly id: string;
  /** Dense index, in the order nodes were added: what per-node tallies are indexed by (a job's slot shares its node's). */
  readonly index: number;
  readonly key: number;
  node: FleetNode;
  behavior: Behavior;
  /** The running execution's stream (prng.ts) and the draws taken from it. */
  stream: number;
  draws: number;
  connected: boolean;
  executionId: string | null;
  /** The deployment that started the current execution. */
  deployment: string;
  job: string;
  version: number;
  revert: boolean;
  pipeline: boolean;
  crashes: boolean;
  failing: boolean;
  /** False once the engine has judged the execution: no more health reports. */
  reporting: boolean;
  next: number;
  timer: TimerHandle | null;
  /** Execution reports lost while disconnected, sent on reconnection. */
  owed: Status[] | null;
  fire: (() => void) | null;
  run: ScriptRun | null;
  /** Slots of other jobs on the same node (rare: null until a second job starts here). */
  others: AgentNode[] | null;
}

export class SimulatedAgents implements Executor {
  /** Every node added, by id: its dense index into `added` and `slots`. */
  private readonly indexes = new Map<string, number>();
  /** The node as added, by index (until its slot exists, the slot's `node` after). */
  private readonly added: FleetNode[] = [];
  /** A node's first slot, made when first needed (`slotAt`). */
  private readonly slots: (AgentNode | undefined)[] = [];
  private sink: ReportSink | null = null;
  /**
   * While true, every update starts at once and passes: used to put `previous`
   * in place at time 0 without drawing from the nodes' streams.
   */
  instant = false;
  /**
   * Told of every execution the engine stops (a failure without rollback, a
   * supersede, an abort, a node removed while updating): what the result
   * counts as `stopped` (tally.ts). `index` is the node's dense index.
   */
  onStop: ((deployment: string, index: number, revert: boolean) => void) | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
    private readonly behaviorOf: (node: FleetNode) => Behavior,
    private readonly executionBehavior: ExecutionBehavior | null = null,
  ) {}

  /** The engine is built with these agents as its executor, so it is attached afterwards. */
  attach(sink: ReportSink): void {
    this.sink = sink;
  }

  /**
   * A node joins; returns its dense index. A node already known keeps its
   * index, executions and draws, with the new labels and connection.
   */
  addNode(node: FleetNode): number {
    const index = this.indexes.get(node.id);
    if (index !== undefined) {
      const known = this.slotAt(index);
      known.node = node;
      known.behavior = this.behaviorOf(node);
      for (const slot of known.others ?? []) slot.node = node;
      this.setConnected(node.id, node.connected);
      return index;
    }
    const fresh = this.added.length;
    this.indexes.set(node.id, fresh);
    this.added.push(node);
    this.slots.push(undefined);
    return fresh;
  }

  /** The dense index of a node added with `addNode`, -1 for an unknown id. */
  indexOf(id: string): number {
    return this.indexes.get(id) ?? -1;
  }

  has(id: string): boolean {
    return this.indexes.has(id);
  }

  /** A node's first slot; undefined for an unknown id. */
  private slot(id: string): AgentNode | undefined {
    const index = this.indexes.get(id);
    return index === undefined ? undefined : this.slotAt(index);
  }

  /** The slot as it would have been made when the node was added: nothing about the node changed since (a change makes it first). */
  private slotAt(index: number): AgentNode {
    let slot = this.slots[index];
    if (slot === undefined) {
      const node = this.added[index]!;
      slot = newSlot(node, index, nodeStreamKey(this.seed, node.id), this.behaviorOf(node));
      this.slots[index] = slot;
    }
    return slot;
  }

  setConnected(id: string, connected: boolean): void {
    const node = this.slot(id);
    if (node === undefined) return;
    this.setSlotConnected(node, connected);
    for (const slot of node.others ?? []) this.setSlotConnected(slot, connected);
  }

  private setSlotConnected(node: AgentNode, connected: boolean): void {
    node.connected = connected;
    if (!connected || node.owed === null) return;
    const owed = node.owed;
    node.owed = null;
    const execution = node.executionId;
    for (const status of owed) {
      if (node.executionId !== execution) return;
      this.execution(node, status);
    }
  }

  start(request: ExecutionRequest): void {
    const node = this.slotOf(request.node, request.job, true)!;
    if (node.executionId === request.executionId) return; // a repeated start is idempotent
    this.cancel(node);
    node.executionId = request.executionId;
    node.deployment = request.deployment;
    node.job = request.job;
    node.version = request.version;
    node.revert = request.purpose === 'revert';
    node.pipeline = request.spec.type === 'pipeline';
    node.reporting = true;
    node.owed = null;
    node.stream = executionStreamKey(node.key, request.version, node.revert);
    node.draws = 0;
    node.run = null;
    if (this.executionBehavior !== null) node.behavior = this.executionBehavior(request, node.node);
    const script = node.behavior.script;
    if (script !== undefined && !this.instant) return this.startScripted(node, script);
    if (this.instant || node.revert) {
      node.crashes = false;
      node.failing = false;
    } else {
      node.crashes = this.draw(node) < node.behavior.crash_probability;
      node.failing = this.draw(node) < node.behavior.fail_probability;
    }
    this.schedule(node, FIRST_REPORT, this.instant ? 0 : this.drawDelay(node));
  }

  stop(request: { executionId: string; node: string; job?: string }): void {
    const node = this.slotOf(request.node, request.job, false);
    if (node === undefined || node.executionId !== request.executionId) return;
    this.cancel(node);
    node.executionId = null;
    node.reporting = false;
    node.owed = null;
    node.run = null;
    this.onStop?.(node.deployment, node.index, node.revert);
  }

  /**
   * The engine has judged this node's execution of `version` (stable or
   * failed) in `deployment` (default: the node's first job): the agent stops
   * reporting, unless its script still changes its health. The execution
   * keeps running, so a repeated start of it stays idempotent.
   */
  judged(id: string, version: number, deployment?: string): void {
    const primary = this.slot(id);
    if (primary === undefined) return;
    const node = deployment === undefined || primary.deployment === deployment ? primary : primary.others?.find((slot) => slot.deployment === deployment);
    if (node === undefined || node.version !== version || node.revert) return;
    if (node.run !== null) {
      node.run.judged = true;
      if (this.scriptGoesOn(node, node.run)) return;
    }
    this.cancel(node);
    node.reporting = false;
    node.owed = null;
    node.fire = null; // nothing left to schedule: a judged node keeps no closure (~100 B a node at 1M)
  }

  /** The slot running `job` on the node (the node's first slot when `job` is not given); `create`: make one for a new job. */
  private slotOf(id: string, job: string | undefined, create: boolean): AgentNode | undefined {
    const node = this.slot(id);
    if (node === undefined) {
      if (create) throw new Error(`the engine started an execution on ${id}, a node the simulator does not know`);
      return undefined;
    }
    if (job === undefined || node.job === job || node.job === '') return node;
    const other = node.others?.find((slot) => slot.job === job);
    if (other !== undefined || !create) return other;
    const slot = newSlot(node.node, node.index, nodeStreamKey(this.seed, `${id}\u0000${job}`), node.behavior);
    slot.connected = node.connected;
    (node.others ??= []).push(slot);
    return slot;
  }

  private startScripted(node: AgentNode, script: ExecutionScript): void {
    node.crashes = node.revert ? script.revert === 'fails' : script.crash === 'at_start';
    node.failing = false;
    node.run = { script, startedAt: this.clock.now(), crashAt: Infinity, doneAt: Infinity, reportAt: Infinity, judged: false };
    const revertDelay = node.revert ? script.revert_delay : undefined;
    if (node.revert ? script.revert === 'hangs' || (script.silent && revertDelay === undefined) : script.silent) return;
    this.schedule(node, FIRST_REPORT, revertDelay ?? this.drawDelay(node));
  }

  private draw(node: AgentNode): number {
    return uniform(node.stream, node.draws++);
  }

  private drawDelay(node: AgentNode): number {
    const range = node.behavior.start_delay;
    return range.min === range.max ? range.min : Math.round(pick(range, this.draw(node)));
  }

  private schedule(node: AgentNode, next: number, delay: number): void {
    node.next = next;
    node.fire ??= () => this.fire(node);
    node.timer = this.clock.schedule(this.clock.now() + delay, node.fire);
  }

  private cancel(node: AgentNode): void {
    if (node.timer !== null) this.clock.cancel(node.timer);
    node.timer = null;
    node.next = IDLE;
  }

  /** Each report may make the engine stop, replace or judge the execution at once, hence the re-checks. */
  private fire(node: AgentNode): void {
    const step = node.next;
    node.timer = null;
    node.next = IDLE;
    const execution = node.executionId;
    if (step === SCRIPTED) return this.fireScripted(node, node.run!);
    if (step === FIRST_REPORT) {
      if (node.crashes) return this.execution(node, 'failed');
      this.execution(node, 'started');
      if (node.revert) return;
      if (node.run !== null) return this.scriptStarted(node, node.run);
      if (!node.pipeline) {
        if (node.executionId === execution) this.execution(node, node.failing ? 'failed' : 'succeeded');
        return;
      }
    }
    if (node.executionId !== execution || !node.reporting) return;
    if (node.connected) this.health(node, !node.failing);
    if (node.executionId === execution && node.reporting) this.schedule(node, HEALTH_REPORT, node.behavior.report_interval);
  }

  /** A scripted execution has just reported `started`: its crash, its end and its health reports are planned from now. */
  private scriptStarted(node: AgentNode, run: ScriptRun): void {
    if (node.run !== run) return;
    const now = this.clock.now();
    const { crash, run_time: runTime } = run.script;
    if (typeof crash === 'number') run.crashAt = now + crash;
    if (node.pipeline) run.reportAt = now;
    else if (typeof crash !== 'number' || crash > runTime) run.doneAt = now + runTime;
    this.fireScripted(node, run);
  }

  /** Plays what is due now, in this order: the crash, the end of the run, a health report; then plans the next. */
  private fireScripted(node: AgentNode, run: ScriptRun): void {
    const now = this.clock.now();
    const execution = node.executionId;
    if (run.crashAt <= now) {
      run.crashAt = run.doneAt = run.reportAt = Infinity;
      return this.execution(node, 'failed');
    }
    if (run.doneAt <= now) {
      run.crashAt = run.doneAt = run.reportAt = Infinity;
      return this.execution(node, run.script.completion);
    }
    if (run.reportAt <= now) {
      if (node.connected) this.health(node, healthyAt(run.script, now - run.startedAt));
      if (node.executionId !== execution || node.run !== run) return;
      run.reportAt = run.judged && !this.scriptGoesOn(node, run) ? Infinity : now + node.behavior.report_interval;
    }
    const next = Math.min(run.crashAt, run.doneAt, run.reportAt);
    if (next === Infinity) {
      node.reporting = false;
      return;
    }
    this.schedule(node, SCRIPTED, next - now);
  }

  /** Something the engine would still hear: a crash to come, or health that changes later. */
  private scriptGoesOn(node: AgentNode, run: ScriptRun): boolean {
    return run.crashAt !== Infinity || (node.pipeline && healthChangesAfter(run.script, this.clock.now() - run.startedAt));
  }

  private execution(node: AgentNode, status: Status): void {
    if (!node.connected) {
      (node.owed ??= []).push(status);
      return;
    }
    this.sink!.reportExecution({ node: node.id, job: node.job, version: node.version, status });
  }

  private health(node: AgentNode, healthy: boolean): void {
    const rate = node.behavior.error_rate;
    const errorRate = rate.min === rate.max ? rate.min : pick(rate, this.draw(node));
    this.sink!.reportHealth({ node: node.id, job: node.job, version: node.version, healthy, error_rate: errorRate });
  }
}

function newSlot(node: FleetNode, index: number, key: number, behavior: Behavior): AgentNode {
  return {
    id: node.id,
    index,
    key,
    node,
    behavior,
    stream: 0,
    draws: 0,
    connected: node.connected,
    executionId: null,
    deployment: '',
    job: '',
    version: 0,
    revert: false,
    pipeline: false,
    crashes: false,
    failing: false,
    reporting: false,
    next: IDLE,
    timer: null,
    owed: null,
    fire: null,
    run: null,
    others: null,
  };
}
