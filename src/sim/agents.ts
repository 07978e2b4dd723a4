/**
 * Simulated node agents: the simulator's side of the engine's executor port.
 * They run nothing; on `start` they schedule the reports a real agent would
 * send, on the virtual clock, and the engine judges them with its own rules.
 *
 * One execution per node at a time (a new start replaces the old one, as on a
 * real node) and at most one pending timer per node, so a report costs O(1).
 * A node's slot (a row of agentSlots.ts) is made when the engine first starts
 * it (or its connection changes): loading a million-node fleet costs an index
 * entry and a reference a node, and each slot is made next to the others of
 * its rollout window. Nodes are found by id through a NodeIndex (no hash
 * probe for generated ids); every timer of theirs calls one callback with its
 * slot (CallClock), so a slot costs no closure.
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
import type { CallClock } from '../engine/clocks/virtualClock.js';
import type { ExecutionRequest, Executor } from '../engine/ports.js';
import type { ExecutionReport, HealthReport } from '../engine/types.js';
import type { FleetNode } from '../selector/types.js';
import { AgentSlots, CONNECTED, CRASHES, FAILING, NO_TIMER, PIPELINE, REPORTING, REVERT } from './agentSlots.js';
import { pick, type Behavior } from './behavior.js';
import { NodeIndex } from '../engine/nodeIndex.js';
import { executionStreamKey, nodeStreamKey, uniform } from './prng.js';
import { healthChangesAfter, healthyAt, type ExecutionScript } from './script.js';

/**
 * Where the agents send their reports: the engine's input methods. The agents
 * reuse one report object of each kind, so a sink must not keep the object
 * it is given (the engine copies every report at its input check).
 */
export interface ReportSink {
  reportExecution(report: ExecutionReport): void;
  reportHealth(report: HealthReport): void;
}

/** Picks the behavior of one execution when it starts (the harness's rules); without it a node keeps the behavior it joined with. */
export type ExecutionBehavior = (request: ExecutionRequest, node: FleetNode) => Behavior;

type Status = ExecutionReport['status'];

/** What the slot's pending timer does when it fires. */
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

export class SimulatedAgents implements Executor {
  /** Every node added: its dense index. */
  private readonly ids = new NodeIndex();
  /** The node as last added, by index. */
  private readonly nodes: FleetNode[] = [];
  /** A node's first slot by node index, -1 until made (`slotAt`). */
  private primary = new Int32Array(1024);
  private readonly slots = new AgentSlots();
  /** Slots of other jobs on a node, by its first slot (rare: a second job started there). */
  private readonly others = new Map<number, number[]>();
  /** Execution reports lost while disconnected, sent on reconnection; by slot. */
  private readonly owed = new Map<number, Status[]>();
  /** Scripted executions' schedules, by slot. */
  private readonly runs = new Map<number, ScriptRun>();
  private sink: ReportSink | null = null;
  /** Filled in and sent for every report (see ReportSink): a million-node run sends millions. */
  private readonly executionReport: ExecutionReport = { node: '', job: '', version: 0, status: 'started' };
  private readonly healthReport: Required<HealthReport> = { node: '', job: '', version: 0, healthy: true, error_rate: 0 };
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
    private readonly clock: CallClock,
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
    const known = this.ids.indexOf(node.id);
    if (known >= 0) {
      const slot = this.slotAt(known);
      this.nodes[known] = node;
      this.slots.behavior[slot] = this.behaviorOf(node);
      this.setNodeConnected(slot, node.connected);
      return known;
    }
    const index = this.ids.add(node.id);
    this.nodes.push(node);
    if (index === this.primary.length) {
      const bigger = new Int32Array(this.primary.length * 2);
      bigger.set(this.primary);
      this.primary = bigger;
    }
    this.primary[index] = -1;
    return index;
  }

  /** The dense index of a node added with `addNode`, -1 for an unknown id. */
  indexOf(id: string): number {
    return this.ids.indexOf(id);
  }

  has(id: string): boolean {
    return this.ids.indexOf(id) >= 0;
  }

  /** A node's first slot, -1 for an unknown id. */
  private slot(id: string): number {
    const index = this.ids.indexOf(id);
    return index < 0 ? -1 : this.slotAt(index);
  }

  /** The slot as it would have been made when the node was added: nothing about the node changed since (a change makes it first). */
  private slotAt(index: number): number {
    const slot = this.primary[index]!;
    if (slot >= 0) return slot;
    const node = this.nodes[index]!;
    return (this.primary[index] = this.slots.add(index, nodeStreamKey(this.seed, node.id), this.behaviorOf(node), node.connected));
  }

  setConnected(id: string, connected: boolean): void {
    const slot = this.slot(id);
    if (slot >= 0) this.setNodeConnected(slot, connected);
  }

  private setNodeConnected(primary: number, connected: boolean): void {
    this.setSlotConnected(primary, connected);
    for (const slot of this.others.get(primary) ?? []) this.setSlotConnected(slot, connected);
  }

  private setSlotConnected(slot: number, connected: boolean): void {
    const slots = this.slots;
    slots.flags[slot] = connected ? slots.flags[slot]! | CONNECTED : slots.flags[slot]! & ~CONNECTED;
    const owed = connected ? this.owed.get(slot) : undefined;
    if (owed === undefined) return;
    this.owed.delete(slot);
    const execution = slots.executionId[slot];
    for (const status of owed) {
      if (slots.executionId[slot] !== execution) return;
      this.execution(slot, status);
    }
  }

  start(request: ExecutionRequest): void {
    const slot = this.slotOf(request.node, request.job, true);
    const slots = this.slots;
    if (slots.executionId[slot] === request.executionId) return; // a repeated start is idempotent
    this.cancel(slot);
    const revert = request.purpose === 'revert';
    slots.executionId[slot] = request.executionId;
    slots.deployment[slot] = request.deployment;
    slots.job[slot] = request.job;
    slots.version[slot] = request.version;
    slots.flags[slot] = (slots.flags[slot]! & CONNECTED) | (revert ? REVERT : 0) | (request.spec.type === 'pipeline' ? PIPELINE : 0) | REPORTING;
    if (this.owed.size > 0) this.owed.delete(slot);
    slots.stream[slot] = executionStreamKey(slots.key[slot]!, request.version, revert);
    slots.draws[slot] = 0;
    if (this.runs.size > 0) this.runs.delete(slot);
    if (this.executionBehavior !== null) slots.behavior[slot] = this.executionBehavior(request, this.nodes[slots.node[slot]!]!);
    const behavior = slots.behavior[slot]!;
    const script = behavior.script;
    if (script !== undefined && !this.instant) return this.startScripted(slot, script);
    if (!this.instant && !revert) {
      if (this.draw(slot) < behavior.crash_probability) slots.flags[slot]! |= CRASHES;
      if (this.draw(slot) < behavior.fail_probability) slots.flags[slot]! |= FAILING;
    }
    this.schedule(slot, FIRST_REPORT, this.instant ? 0 : this.drawDelay(slot));
  }

  stop(request: { executionId: string; node: string; job?: string }): void {
    const slot = this.slotOf(request.node, request.job, false);
    const slots = this.slots;
    if (slot < 0 || slots.executionId[slot] !== request.executionId) return;
    this.cancel(slot);
    slots.executionId[slot] = null;
    slots.flags[slot]! &= ~REPORTING;
    if (this.owed.size > 0) this.owed.delete(slot);
    if (this.runs.size > 0) this.runs.delete(slot);
    this.onStop?.(slots.deployment[slot]!, slots.node[slot]!, (slots.flags[slot]! & REVERT) !== 0);
  }

  /**
   * The engine has judged this node's execution of `version` (stable or
   * failed) in `deployment` (default: the node's first job): the agent stops
   * reporting, unless its script still changes its health. The execution
   * keeps running, so a repeated start of it stays idempotent.
   */
  judged(id: string, version: number, deployment?: string): void {
    const primary = this.slot(id);
    if (primary < 0) return;
    const slots = this.slots;
    const slot = deployment === undefined || slots.deployment[primary] === deployment ? primary : (this.others.get(primary)?.find((other) => slots.deployment[other] === deployment) ?? -1);
    if (slot < 0 || slots.version[slot] !== version || (slots.flags[slot]! & REVERT) !== 0) return;
    const run = this.runs.size > 0 ? this.runs.get(slot) : undefined;
    if (run !== undefined) {
      run.judged = true;
      if (this.scriptGoesOn(slot, run)) return;
    }
    this.cancel(slot);
    slots.flags[slot]! &= ~REPORTING;
    if (this.owed.size > 0) this.owed.delete(slot);
  }

  /** The slot running `job` on the node (the node's first slot when `job` is not given); `create`: make one for a new job. -1 when there is none. */
  private slotOf(id: string, job: string | undefined, create: boolean): number {
    const primary = this.slot(id);
    if (primary < 0) {
      if (create) throw new Error(`the engine started an execution on ${id}, a node the simulator does not know`);
      return -1;
    }
    const slots = this.slots;
    if (job === undefined || slots.job[primary] === job || slots.job[primary] === '') return primary;
    const others = this.others.get(primary);
    const other = others?.find((slot) => slots.job[slot] === job);
    if (other !== undefined || !create) return other ?? -1;
    const index = slots.node[primary]!;
    const slot = slots.add(index, nodeStreamKey(this.seed, `${id}\u0000${job}`), slots.behavior[primary]!, (slots.flags[primary]! & CONNECTED) !== 0);
    if (others === undefined) this.others.set(primary, [slot]);
    else others.push(slot);
    return slot;
  }

  private startScripted(slot: number, script: ExecutionScript): void {
    const slots = this.slots;
    const revert = (slots.flags[slot]! & REVERT) !== 0;
    if (revert ? script.revert === 'fails' : script.crash === 'at_start') slots.flags[slot]! |= CRASHES;
    this.runs.set(slot, { script, startedAt: this.clock.now(), crashAt: Infinity, doneAt: Infinity, reportAt: Infinity, judged: false });
    const revertDelay = revert ? script.revert_delay : undefined;
    if (revert ? script.revert === 'hangs' || (script.silent && revertDelay === undefined) : script.silent) return;
    this.schedule(slot, FIRST_REPORT, revertDelay ?? this.drawDelay(slot));
  }

  private draw(slot: number): number {
    return uniform(this.slots.stream[slot]!, this.slots.draws[slot]!++);
  }

  private drawDelay(slot: number): number {
    const range = this.slots.behavior[slot]!.start_delay;
    return range.min === range.max ? range.min : Math.round(pick(range, this.draw(slot)));
  }

  private schedule(slot: number, next: number, delay: number): void {
    const slots = this.slots;
    slots.next[slot] = next;
    slots.timer[slot] = this.clock.scheduleCall(this.clock.now() + delay, this.fireSlot, slot);
  }

  private cancel(slot: number): void {
    const slots = this.slots;
    const timer = slots.timer[slot]!;
    if (timer !== NO_TIMER) {
      this.clock.cancel(timer);
      slots.timer[slot] = NO_TIMER;
    }
    slots.next[slot] = IDLE;
  }

  /** Every timer of the agents calls this with its slot. */
  private readonly fireSlot = (slot: number): void => this.fire(slot);

  /** Each report may make the engine stop, replace or judge the execution at once, hence the re-checks. */
  private fire(slot: number): void {
    const slots = this.slots;
    const step = slots.next[slot];
    slots.timer[slot] = NO_TIMER;
    slots.next[slot] = IDLE;
    const execution = slots.executionId[slot];
    if (step === SCRIPTED) return this.fireScripted(slot, this.runs.get(slot)!);
    if (step === FIRST_REPORT) {
      if ((slots.flags[slot]! & CRASHES) !== 0) return this.execution(slot, 'failed');
      this.execution(slot, 'started');
      if ((slots.flags[slot]! & REVERT) !== 0) return;
      const run = this.runs.size > 0 ? this.runs.get(slot) : undefined;
      if (run !== undefined) return this.scriptStarted(slot, run);
      if ((slots.flags[slot]! & PIPELINE) === 0) {
        if (slots.executionId[slot] === execution) this.execution(slot, (slots.flags[slot]! & FAILING) !== 0 ? 'failed' : 'succeeded');
        return;
      }
    }
    if (slots.executionId[slot] !== execution || (slots.flags[slot]! & REPORTING) === 0) return;
    if ((slots.flags[slot]! & CONNECTED) !== 0) this.health(slot, (slots.flags[slot]! & FAILING) === 0);
    if (slots.executionId[slot] === execution && (slots.flags[slot]! & REPORTING) !== 0) this.schedule(slot, HEALTH_REPORT, slots.behavior[slot]!.report_interval);
  }

  /** A scripted execution has just reported `started`: its crash, its end and its health reports are planned from now. */
  private scriptStarted(slot: number, run: ScriptRun): void {
    if (this.runs.get(slot) !== run) return;
    const now = this.clock.now();
    const { crash, run_time: runTime } = run.script;
    if (typeof crash === 'number') run.crashAt = now + crash;
    if ((this.slots.flags[slot]! & PIPELINE) !== 0) run.reportAt = now;
    else if (typeof crash !== 'number' || crash > runTime) run.doneAt = now + runTime;
    this.fireScripted(slot, run);
  }

  /** Plays what is due now, in this order: the crash, the end of the run, a health report; then plans the next. */
  private fireScripted(slot: number, run: ScriptRun): void {
    const slots = this.slots;
    const now = this.clock.now();
    const execution = slots.executionId[slot];
    if (run.crashAt <= now) {
      run.crashAt = run.doneAt = run.reportAt = Infinity;
      return this.execution(slot, 'failed');
    }
    if (run.doneAt <= now) {
      run.crashAt = run.doneAt = run.reportAt = Infinity;
      return this.execution(slot, run.script.completion);
    }
    if (run.reportAt <= now) {
      if ((slots.flags[slot]! & CONNECTED) !== 0) this.health(slot, healthyAt(run.script, now - run.startedAt));
      if (slots.executionId[slot] !== execution || this.runs.get(slot) !== run) return;
      run.reportAt = run.judged && !this.scriptGoesOn(slot, run) ? Infinity : now + slots.behavior[slot]!.report_interval;
    }
    const next = Math.min(run.crashAt, run.doneAt, run.reportAt);
    if (next === Infinity) {
      slots.flags[slot]! &= ~REPORTING;
      return;
    }
    this.schedule(slot, SCRIPTED, next - now);
  }

  /** Something the engine would still hear: a crash to come, or health that changes later. */
  private scriptGoesOn(slot: number, run: ScriptRun): boolean {
    return run.crashAt !== Infinity || ((this.slots.flags[slot]! & PIPELINE) !== 0 && healthChangesAfter(run.script, this.clock.now() - run.startedAt));
  }

  private execution(slot: number, status: Status): void {
    const slots = this.slots;
    if ((slots.flags[slot]! & CONNECTED) === 0) {
      const owed = this.owed.get(slot);
      if (owed === undefined) this.owed.set(slot, [status]);
      else owed.push(status);
      return;
    }
    const report = this.executionReport;
    report.node = this.nodes[slots.node[slot]!]!.id;
    report.job = slots.job[slot]!;
    report.version = slots.version[slot]!;
    report.status = status;
    this.sink!.reportExecution(report);
  }

  private health(slot: number, healthy: boolean): void {
    const slots = this.slots;
    const rate = slots.behavior[slot]!.error_rate;
    const errorRate = rate.min === rate.max ? rate.min : pick(rate, this.draw(slot));
    const report = this.healthReport;
    report.node = this.nodes[slots.node[slot]!]!.id;
    report.job = slots.job[slot]!;
    report.version = slots.version[slot]!;
    report.healthy = healthy;
    report.error_rate = errorRate;
    this.sink!.reportHealth(report);
  }
}
