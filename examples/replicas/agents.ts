/**
 * Fake edge agents, one per node, living outside the replicas so they
 * survive any replica's death (as real nodes do). What a real agent must do
 * with a replicated orchestrator:
 *
 * - A start with the execution id the node already runs is not run twice:
 *   the agent re-sends that execution's current status instead (a new leader
 *   re-delivers the starts in flight; its record may be older than the node's).
 * - A start or stop stamped with an epoch older than one the agent already
 *   saw comes from a replica that lost its lease: ignored (a fencing token).
 * - An input counts as delivered only once a replica acknowledged it; until
 *   then the agent sends it again (the `started` report), or its next health
 *   report supersedes it.
 */
import type { ExecutionRequest } from '../../src/engine/index.js';
import type { StopRequest } from './protocol.js';

export interface AgentOptions {
  /** From a start to the new version running on the node. */
  startDelayMs: number;
  reportEveryMs: number;
  /** True when this version never passes a health check on this node. */
  broken?(node: string, version: number): boolean;
  /** The error rate a healthy report carries (default 0). */
  errorRate?(): number;
}

/** Sends one report to the replicas; resolves true once one acknowledged it. */
export type SendReport = (call: 'reportExecution' | 'reportHealth', report: Record<string, unknown>) => Promise<boolean>;

interface Execution {
  id: string;
  job: string;
  version: number;
  /** What the node ran before: a stopped execution leaves it there. */
  previous: number | null;
  started: boolean;
  startedAcked: boolean;
  timer: NodeJS.Timeout | undefined;
  sending: boolean;
}

interface Agent {
  /** The version this node runs (one job), null before any start. */
  runs: number | null;
  execution: Execution | null;
  /** The highest lease epoch seen on a call. */
  epoch: number;
}

export class FakeAgents {
  private readonly agents = new Map<string, Agent>();
  /** Calls ignored because an agent had seen a newer epoch. */
  readonly staleIgnored = { start: 0, stop: 0 };
  /** Starts of an execution the node already ran (re-delivered by a new leader). */
  repeatedStarts = 0;
  private disposed = false;

  constructor(
    nodes: readonly string[],
    private readonly send: SendReport,
    private readonly options: AgentOptions,
  ) {
    for (const node of nodes) this.agents.set(node, { runs: null, execution: null, epoch: 0 });
  }

  /** The version each node runs. */
  get versions(): Map<string, number | null> {
    return new Map([...this.agents].map(([node, agent]) => [node, agent.runs]));
  }

  start(request: ExecutionRequest): void {
    const agent = this.agentOf(request.node);
    if (this.stale(agent, request.epoch, 'start')) return;
    const current = agent.execution;
    if (current?.id === request.executionId) {
      this.repeatedStarts += 1;
      if (current.started) void this.sendStarted(current);
      return;
    }
    if (current !== null) this.end(agent, current);
    const execution: Execution = { id: request.executionId, job: request.job, version: request.version, previous: agent.runs, started: false, startedAcked: false, timer: undefined, sending: false };
    agent.execution = execution;
    execution.timer = setTimeout(() => {
      execution.started = true;
      agent.runs = execution.version;
      this.report(request.node, execution);
    }, this.options.startDelayMs);
  }

  stop(request: StopRequest): void {
    const agent = this.agentOf(request.node);
    if (this.stale(agent, request.epoch, 'stop')) return;
    const current = agent.execution;
    if (current?.id !== request.executionId) return;
    this.end(agent, current);
    agent.runs = current.previous;
  }

  dispose(): void {
    this.disposed = true;
    for (const agent of this.agents.values()) if (agent.execution !== null) clearTimeout(agent.execution.timer);
  }

  private agentOf(node: string): Agent {
    const agent = this.agents.get(node);
    if (agent === undefined) throw new Error(`no agent for node ${node}`);
    return agent;
  }

  private stale(agent: Agent, epoch: number | undefined, call: 'start' | 'stop'): boolean {
    if (epoch === undefined) return false;
    if (epoch < agent.epoch) {
      this.staleIgnored[call] += 1;
      return true;
    }
    agent.epoch = epoch;
    return false;
  }

  private end(agent: Agent, execution: Execution): void {
    clearTimeout(execution.timer);
    if (agent.execution === execution) agent.execution = null;
  }

  /** The execution's reporting loop: `started` until acknowledged, then health reports. */
  private report(node: string, execution: Execution): void {
    if (this.disposed || this.agentOf(node).execution !== execution) return;
    if (!execution.sending) {
      if (!execution.startedAcked) void this.sendStarted(execution, node);
      else {
        const healthy = !(this.options.broken?.(node, execution.version) ?? false);
        void this.sending(execution, this.send('reportHealth', { node, job: execution.job, version: execution.version, healthy, error_rate: healthy ? (this.options.errorRate?.() ?? 0) : 1 }));
      }
    }
    execution.timer = setTimeout(() => this.report(node, execution), this.options.reportEveryMs);
  }

  private async sendStarted(execution: Execution, node = this.nodeOf(execution)): Promise<void> {
    const acked = await this.sending(execution, this.send('reportExecution', { node, job: execution.job, version: execution.version, status: 'started' }));
    if (acked) execution.startedAcked = true;
  }

  private async sending(execution: Execution, sent: Promise<boolean>): Promise<boolean> {
    execution.sending = true;
    try {
      return await sent;
    } finally {
      execution.sending = false;
    }
  }

  private nodeOf(execution: Execution): string {
    for (const [node, agent] of this.agents) if (agent.execution === execution) return node;
    throw new Error(`execution ${execution.id} runs nowhere`);
  }
}
