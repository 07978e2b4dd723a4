/**
 * The fleet's agents for the crash-torture test. They live in the test
 * process, so they outlive every orchestrator it kills: each node runs at
 * most one execution per job, started or stopped by what the executor
 * handed over (the orchestrator's log), and reports on it as a real agent
 * would: `started` after a short delay, then health reports (fast while the
 * execution is young, slower after), or `failed` for a crashing version.
 * A start of the execution a node already runs is not run twice: the agent
 * re-sends that execution's current status (docs/engine-decisions.md,
 * examples/orchestrator.ts), which a restarted engine may not have heard.
 * Reports sent while the orchestrator is down are lost, as on a network.
 */
import type { ExecutionReport, HealthReport } from '../../src/engine/types.js';
import { AGENT, BEHAVIORS, Draws, type Behavior } from './torturePlan.js';
import type { StartRecord, StopRecord } from './tortureLog.js';

export type Report = { kind: 'health'; report: HealthReport } | { kind: 'execution'; report: ExecutionReport };

interface Execution {
  id: string;
  job: string;
  version: number;
  behavior: Behavior;
  status: 'starting' | 'started' | 'failed';
  /** When it reports next (`started`, `failed` or health), real ms. */
  due: number;
  /** Young until then: health reports every `reportMs`. */
  youngUntil: number;
  /** A repeated start asked for its status: sent with its next report. */
  resend: boolean;
}

export class Agents {
  /** node -> job -> the execution it runs (absent: none for that job). */
  private readonly running = new Map<string, Map<string, Execution>>();
  private readonly draws: Draws;
  /** Repeated starts answered with the execution's status (counted for the report). */
  repeatedStarts = 0;

  constructor(seed: number) {
    this.draws = new Draws(seed, 'agents');
  }

  start(request: StartRecord, now: number): void {
    const jobs = this.jobsOf(request.node);
    const current = jobs.get(request.job);
    if (current?.id === request.id) {
      this.repeatedStarts++;
      current.youngUntil = now + AGENT.youngMs;
      if (current.status !== 'starting') {
        current.resend = true;
        current.due = now;
      }
      return;
    }
    // A revert runs the version the rollback returns to, which completed: it behaves.
    const behavior = request.purpose === 'revert' ? 'healthy' : (request.config.behavior as Behavior);
    if (!BEHAVIORS.includes(behavior)) throw new Error(`${request.id}: config.behavior must be one of ${BEHAVIORS.join(', ')}, got ${String(behavior)}`);
    jobs.set(request.job, {
      id: request.id,
      job: request.job,
      version: request.version,
      behavior,
      status: 'starting',
      due: now + this.draws.int(AGENT.startDelayMs.min, AGENT.startDelayMs.max),
      youngUntil: now + AGENT.youngMs,
      resend: false,
    });
  }

  stop(request: StopRecord): void {
    const jobs = this.jobsOf(request.node);
    if (jobs.get(request.job)?.id === request.id) jobs.delete(request.job);
  }

  /** The reports due by `now`, in order; an execution whose status was asked for again re-sends it first. */
  due(now: number): Report[] {
    const reports: Report[] = [];
    for (const [node, jobs] of this.running) {
      for (const e of jobs.values()) {
        if (e.due > now) continue;
        const execution = (status: ExecutionReport['status']): void => {
          reports.push({ kind: 'execution', report: { node, job: e.job, version: e.version, status } });
        };
        if (e.resend) execution(e.status === 'failed' ? 'failed' : 'started');
        e.resend = false;
        if (e.status === 'starting') {
          e.status = 'started';
          execution('started');
          e.due = e.behavior === 'crash' ? now + AGENT.crashAfterMs : now;
        } else if (e.status === 'failed') {
          e.due = Infinity; // woken only to re-send its status
        } else if (e.behavior === 'crash') {
          e.status = 'failed';
          execution('failed');
          e.due = Infinity;
        } else {
          reports.push({ kind: 'health', report: { node, job: e.job, version: e.version, healthy: e.behavior === 'healthy', error_rate: 0 } });
          e.due = now + (now < e.youngUntil ? AGENT.reportMs : AGENT.settledReportMs);
        }
      }
    }
    return reports;
  }

  /** What each node runs now: node -> job -> version. */
  versions(): Map<string, Map<string, number>> {
    const versions = new Map<string, Map<string, number>>();
    for (const [node, jobs] of this.running) versions.set(node, new Map([...jobs].map(([job, e]) => [job, e.version])));
    return versions;
  }

  private jobsOf(node: string): Map<string, Execution> {
    let jobs = this.running.get(node);
    if (jobs === undefined) this.running.set(node, (jobs = new Map()));
    return jobs;
  }
}
