/**
 * The harness's executor port: a fleet of scripted agents. When the engine
 * asks to start an execution, the node's behavior (see `behavior.ts`) is
 * turned into reports scheduled on the virtual clock; the engine hears them
 * exactly as it would hear a real orchestrator.
 *
 * A disconnected node's health reports are lost; its execution status
 * (`started`, `failed`, `succeeded`) waits and is delivered when it reconnects,
 * as an agent that reconnects reports where its execution stands.
 */
import type { Clock, ExecutionRequest, Executor, TimerHandle } from '../engine/ports.js';
import type { ExecutionReport, HealthReport } from '../engine/types.js';
import { healthyAt, type NodeBehavior, type Spread } from './behavior.js';
import { nodeStreamKey, uniform } from '../sim/prng.js';

/** Where reports go: the engine running now (it changes when the harness restarts it). */
export interface ReportSink {
  execution(report: ExecutionReport): void;
  health(report: HealthReport): void;
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

export interface FleetWiring {
  clock: Clock;
  /** Ranges in behaviors are drawn from each node's own stream of this seed (the simulator's generator). */
  seed: number;
  sink: ReportSink;
  behaviorOf(request: ExecutionRequest): NodeBehavior;
  isConnected(node: string): boolean;
}

interface Run {
  request: ExecutionRequest;
  behavior: NodeBehavior;
  startedAt: number;
  timers: Set<TimerHandle>;
  /** Failed or completed: nothing more to report. */
  ended: boolean;
  /** Status reports held while the node was disconnected. */
  held: ExecutionReport[];
}

export class ScriptedFleet implements Executor {
  /** Every start and stop the engine asked for, in order. */
  readonly calls: ExecutorCall[] = [];
  private readonly runs = new Map<string, Run>();
  private readonly draws = new Map<string, number>();

  constructor(private readonly wiring: FleetWiring) {}

  start(request: ExecutionRequest): void {
    const key = runKey(request.job, request.node);
    const current = this.runs.get(key);
    if (current?.request.executionId === request.executionId) return; // a repeated start is idempotent
    if (current !== undefined) this.end(current); // the new version replaces the old one
    this.record('start', request);
    const run: Run = { request, behavior: this.wiring.behaviorOf(request), startedAt: this.wiring.clock.now(), timers: new Set(), ended: false, held: [] };
    this.runs.set(key, run);
    if (run.behavior.silent) return;
    this.after(run, Math.round(this.draw(request.node, run.behavior.startDelayMs)), () => this.firstReport(run));
  }

  stop(request: { executionId: string; node: string; job: string; version: number }): void {
    this.record('stop', request);
    const key = runKey(request.job, request.node);
    const run = this.runs.get(key);
    if (run?.request.executionId !== request.executionId) return;
    this.end(run);
    this.runs.delete(key);
  }

  /** Executions running now (started, neither stopped, replaced, failed nor completed). */
  running(): ExecutionRequest[] {
    return [...this.runs.values()].filter((run) => !run.ended).map((run) => run.request);
  }

  /** Delivers the status reports a node held while it was disconnected. */
  reconnected(node: string): void {
    for (const run of this.runs.values()) {
      if (run.request.node !== node) continue;
      const held = run.held.splice(0);
      for (const report of held) this.wiring.sink.execution(report);
    }
  }

  private firstReport(run: Run): void {
    const { behavior, request } = run;
    if (request.purpose === 'revert') {
      if (behavior.revert === 'confirms') this.status(run, 'started');
      if (behavior.revert === 'fails') this.finish(run, 'failed');
      return;
    }
    if (behavior.crash === 'at_start') return this.finish(run, 'failed');
    this.status(run, 'started');
    if (typeof behavior.crash === 'number') this.after(run, behavior.crash, () => this.finish(run, 'failed'));
    if (request.spec.type === 'pipeline') {
      this.healthReport(run);
    } else if (typeof behavior.crash !== 'number' || behavior.crash > behavior.runTimeMs) {
      this.after(run, behavior.runTimeMs, () => this.finish(run, behavior.completion));
    }
  }

  private healthReport(run: Run): void {
    const { request, behavior } = run;
    if (this.wiring.isConnected(request.node)) {
      const report: HealthReport = {
        node: request.node,
        job: request.job,
        version: request.version,
        healthy: healthyAt(behavior, this.wiring.clock.now() - run.startedAt),
      };
      if (behavior.errorRate !== null) report.error_rate = this.draw(request.node, behavior.errorRate);
      this.wiring.sink.health(report);
    }
    if (!run.ended) this.after(run, behavior.reportIntervalMs, () => this.healthReport(run));
  }

  private finish(run: Run, status: 'failed' | 'succeeded'): void {
    this.end(run);
    this.status(run, status);
  }

  private status(run: Run, status: ExecutionReport['status']): void {
    const { node, job, version } = run.request;
    const report: ExecutionReport = { node, job, version, status };
    if (this.wiring.isConnected(node)) this.wiring.sink.execution(report);
    else run.held.push(report);
  }

  private end(run: Run): void {
    run.ended = true;
    for (const timer of run.timers) this.wiring.clock.cancel(timer);
    run.timers.clear();
  }

  private after(run: Run, delayMs: number, fire: () => void): void {
    const timer = this.wiring.clock.schedule(this.wiring.clock.now() + delayMs, () => {
      run.timers.delete(timer);
      fire();
    });
    run.timers.add(timer);
  }

  /** A node's n-th draw depends on the seed, its id and n only: not on what other nodes did. */
  private draw(node: string, value: Spread): number {
    if (typeof value === 'number') return value;
    const n = this.draws.get(node) ?? 0;
    this.draws.set(node, n + 1);
    return value.min + (value.max - value.min) * uniform(nodeStreamKey(this.wiring.seed, node), n);
  }

  private record(action: ExecutorCall['action'], request: { executionId: string; node: string; job: string; version: number; deployment?: string; purpose?: 'update' | 'revert' }): void {
    const call: ExecutorCall = { t: this.wiring.clock.now() / 1000, action, executionId: request.executionId, node: request.node, job: request.job, version: request.version };
    if (request.deployment !== undefined) call.deployment = request.deployment;
    if (request.purpose !== undefined) call.purpose = request.purpose;
    this.calls.push(call);
  }
}

function runKey(job: string, node: string): string {
  return `${job}\u0000${node}`;
}
