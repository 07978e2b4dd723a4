/**
 * Plays a recorded store journal (what `SqliteStore` or `MemoryStore`
 * `load()` returns) through the engine in virtual time and keeps what a
 * counterfactual replay needs: every deployment with the fleet and spec it
 * started from, the fleet and operator inputs that came after it, each
 * execution the engine requested and the reports its node sent back, and the
 * recorded outcome, summarized like a simulated run (result.ts, §8).
 *
 * The journal is the authority on order: the engine's timers fire only where
 * the journal has them (a real clock fires a timer late, after inputs that
 * came in meanwhile), and each must be the one this engine has due, else the
 * recording was made by an engine whose rules differ (see the harness's
 * `replayJournal` to find where).
 */
import { feedInput, type OutsideInput } from '../engine/feedInput.js';
import { isTerminal, openEngine, type Engine } from '../engine/index.js';
import type { Clock, ExecutionRequest, Executor, JournalEntry, Store, TimerHandle } from '../engine/ports.js';
import type { EngineInput, EngineSnapshot, ExecutionReport, HealthReport } from '../engine/types.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { summarize, watchDeployments, type DeploymentLog, type SimResult } from './result.js';
import { NodeTally } from './tally.js';

/** What a node sent about one execution, in journal order; `at` is clock ms. */
export type RecordedReport = { at: number; kind: 'execution'; status: ExecutionReport['status'] } | { at: number; kind: 'health'; healthy: boolean; error_rate: number | undefined };

/** One execution the engine asked for, and what the node reported until the engine asked that node for something else. */
export interface RecordedExecution {
  executionId: string;
  deployment: string;
  node: string;
  version: number;
  purpose: 'update' | 'revert';
  requestedAt: number;
  reports: RecordedReport[];
  /** When the engine stopped it or started another execution of the job there; null: it ran to the end of the recording. */
  endedAt: number | null;
}

/** An input after a deployment's creation that a replay plays again at the same offset. */
export type RecordedEvent = { at: number } & (
  | { type: 'join'; node: FleetNode }
  | { type: 'connect' | 'disconnect'; node: string }
  | { type: 'promote' | 'pause' | 'resume' | 'abort'; job: string }
  | { type: 'submit'; spec: JobSpec }
  /** Inputs a scenario cannot play (node removal, relabeling, a rollback command): listed, not replayed. */
  | { type: 'unplayable'; what: string }
);

export interface RecordedDeployment {
  id: string;
  job: string;
  version: number;
  fromVersion: number | null;
  createdAt: number;
  /** The spec it rolls out (null when the journal does not hold it: a compacted store). */
  spec: JobSpec | null;
  /**
   * The job's latest version whose deployment had completed when this one was
   * created: what a rollback returns to (§6), the version a replay puts in
   * place first. Null when there was none; `completedSpec` is null too when
   * only the snapshot knew that version.
   */
  completedVersion: number | null;
  completedSpec: JobSpec | null;
  /** The fleet when it was created. */
  fleet: FleetNode[];
  events: RecordedEvent[];
  /** The recorded outcome; `phases`, `end_s` and `later_deployments` in seconds since `createdAt`. */
  outcome: SimResult;
  /** Its final judgement of each node it started (stable or a failure reason), for telling observed behaviors from cut-short ones. */
  judged: Map<string, string>;
}

export interface Recording {
  /** Clock ms of the last journal entry. */
  endsAt: number;
  /** Deployments created before the journal begins (known from the snapshot only): their reports are gone. */
  compacted: Array<{ id: string; job: string }>;
  /** The engine's timers as they fired in the recording: a real clock fires them late, a replay on time. */
  timers: { fired: number; late: number; max_late_ms: number };
  deployments: RecordedDeployment[];
  /** Every execution, in the order the engine requested them. */
  executions: RecordedExecution[];
}

/** The recording cannot be played: `message` says why. */
export class RecordingError extends Error {
  override readonly name = 'RecordingError';
}

export function playRecording(history: { snapshot: EngineSnapshot | null; journal: readonly JournalEntry[] }): Recording {
  const journal = history.journal;
  const snapshotAt = (history.snapshot as { at?: number } | null)?.at;
  const clock = new JournalClock(snapshotAt ?? journal[0]?.at ?? 0);
  const written: EngineInput[] = [];
  const store: Store = {
    load: () => ({ snapshot: history.snapshot, journal: [] }),
    append: (entry) => void written.push(entry.input),
    compact: () => {},
  };
  const executor = new RecordingExecutor(clock);
  const engine = openEngine({ clock, executor, store }, { compactEvery: Number.MAX_SAFE_INTEGER, heartbeatMs: 0 });
  const known = engine.deployments();
  const compacted = known.map((d) => ({ id: d.id, job: d.job }));
  const fleet = new Map<string, FleetNode>(engine.nodes().map((n) => [n.id, { id: n.id, labels: { ...n.labels }, connected: n.connected }]));
  const logs = watchDeployments(engine);
  const tally = new NodeTally(engine, executor, fleet.size);
  const specs = new Map<string, Map<number, JobSpec>>();
  const created: Array<Omit<RecordedDeployment, 'outcome' | 'spec' | 'completedVersion' | 'completedSpec' | 'judged'>> = [];
  const judged = new Map<string, Map<string, string>>();
  engine.on('deployment.created', (e) => {
    created.push({ id: e.deployment, job: e.job, version: e.to_version, fromVersion: e.from_version, createdAt: e.at, fleet: [...fleet.values()].map(copyNode), events: [] });
    judged.set(e.deployment, new Map());
  });
  engine.on('node.stable', (e) => judged.get(e.deployment)?.set(e.node, 'stable'));
  engine.on('node.failed', (e) => judged.get(e.deployment)?.set(e.node, e.reason));

  const timers = { fired: 0, late: 0, max_late_ms: 0 };
  journal.forEach((entry, index) => {
    clock.setTime(entry.at);
    const input = entry.input;
    written.length = 0;
    if (input.type === 'timer') {
      const late = clock.fireDue();
      timers.fired += 1;
      if (late > 0) {
        timers.late += 1;
        timers.max_late_ms = Math.max(timers.max_late_ms, late);
      }
      const fired = written[0];
      if (fired?.type !== 'timer' || fired.deployment !== input.deployment || fired.kind !== input.kind || fired.node !== input.node) {
        throw new RecordingError(`journal entry ${index} is the ${input.kind} timer of ${input.deployment}${input.node === null ? '' : ` for ${input.node}`}; this engine had ${fired?.type === 'timer' ? `the ${fired.kind} timer of ${fired.deployment} due instead` : 'no timer due then'}: the recording was made by an engine with other rules`);
      }
      return;
    }
    for (const deployment of created) recordEvent(deployment, entry.at, input, fleet);
    if (input.type === 'report.execution' || input.type === 'report.health') executor.heard(entry.at, input);
    apply(engine, input, specs);
    if (input.type === 'node.upsert') fleet.set(input.node.id, copyNode(input.node));
    else if (input.type === 'node.remove') fleet.delete(input.node);
    else if (input.type === 'node.connected' && fleet.has(input.node)) fleet.get(input.node)!.connected = input.connected;
  });

  const endsAt = journal.at(-1)?.at ?? clock.now();
  const completions = [
    ...known.filter((d) => d.state === 'completed').map((d) => ({ job: d.job, version: d.to_version, at: d.ended_at ?? d.created_at })),
    ...[...logs.values()].filter((log) => log.state === 'completed').map((log) => ({ job: log.job, version: log.to_version, at: log.stateAt })),
  ];
  const deployments = created.map((d): RecordedDeployment => {
    const log = logs.get(d.id)!;
    const versions = specs.get(d.job);
    return {
      ...d,
      spec: versions?.get(d.version) ?? null,
      ...lastCompleted(completions, d.job, d.version, d.createdAt, versions),
      outcome: recordedOutcome(engine, log, [...logs.values()].filter((other) => other !== log && other.createdAt >= log.createdAt), tally, endsAt),
      judged: judged.get(d.id)!,
    };
  });
  engine.dispose();
  return { endsAt, compacted, timers, deployments, executions: executor.executions };
}

/**
 * The job's version completed last before `version` was created at `at`, and its spec when the journal holds it.
 * An earlier version only: a deployment that completes in the instant it is created is not its own predecessor.
 */
function lastCompleted(completions: ReadonlyArray<{ job: string; version: number; at: number }>, job: string, version: number, at: number, versions: Map<number, JobSpec> | undefined): Pick<RecordedDeployment, 'completedVersion' | 'completedSpec'> {
  let last: { version: number; at: number } | null = null;
  for (const c of completions) if (c.job === job && c.version < version && c.at <= at && (last === null || c.at >= last.at)) last = c;
  return { completedVersion: last?.version ?? null, completedSpec: last === null ? null : (versions?.get(last.version) ?? null) };
}

/** A deployment's inputs after its creation that a scenario can replay (or says it cannot). */
function recordEvent(deployment: { job: string; events: RecordedEvent[] }, at: number, input: EngineInput, fleet: Map<string, FleetNode>): void {
  const events = deployment.events;
  switch (input.type) {
    case 'node.upsert': {
      const known = fleet.get(input.node.id);
      if (known === undefined) return void events.push({ at, type: 'join', node: copyNode(input.node) });
      if (known.connected !== input.node.connected) events.push({ at, type: input.node.connected ? 'connect' : 'disconnect', node: input.node.id });
      if (JSON.stringify(known.labels) !== JSON.stringify(input.node.labels)) events.push({ at, type: 'unplayable', what: `${input.node.id} relabeled` });
      return;
    }
    case 'node.connected':
      if (fleet.get(input.node)?.connected !== input.connected) events.push({ at, type: input.connected ? 'connect' : 'disconnect', node: input.node });
      return;
    case 'node.remove':
      events.push({ at, type: 'unplayable', what: `${input.node} removed` });
      return;
    case 'command': {
      const command = input.command;
      if (command.job !== deployment.job) return;
      if (command.type === 'rollback') events.push({ at, type: 'unplayable', what: 'rollback command' });
      else events.push({ at, type: command.type, job: command.job });
      return;
    }
    case 'submit':
      if (`${input.spec.namespace}/${input.spec.name}` === deployment.job) events.push({ at, type: 'submit', spec: input.spec });
      return;
    default:
      return;
  }
}

/** Feeds a recorded outside input, and remembers the spec of each version a submission made. */
function apply(engine: Engine, input: OutsideInput, specs: Map<string, Map<number, JobSpec>>): void {
  const result = feedInput(engine, input);
  if (input.type !== 'submit' || result === undefined) return;
  if (!specs.has(result.job)) specs.set(result.job, new Map());
  specs.get(result.job)!.set(result.version, input.spec);
}

/** The outcome as a simulated run's result, its times in seconds since the deployment's creation. */
function recordedOutcome(engine: Engine, log: DeploymentLog, later: DeploymentLog[], tally: NodeTally, endsAt: number): SimResult {
  const status = engine.status(log.id)!;
  const result = summarize(log, {
    at: endsAt,
    by: isTerminal(log.state) ? 'settled' : 'horizon',
    seed: 0,
    targeted: status.targeted,
    max_in_flight: status.max_in_flight,
    refused: [],
    later,
    tally: tally.of(log.id)!,
    by_label: null,
  });
  const origin = log.createdAt / 1000;
  const shift = (t: number): number => Math.round((t - origin) * 1000) / 1000;
  return {
    ...result,
    end_s: shift(result.end_s),
    phases: result.phases.map((phase) => ({ ...phase, t: shift(phase.t) })),
    later_deployments: result.later_deployments.map((d) => ({ ...d, created_s: shift(d.created_s), end_s: shift(d.end_s) })),
  };
}

function copyNode(node: FleetNode): FleetNode {
  return { id: node.id, labels: { ...node.labels }, connected: node.connected };
}

/**
 * The executor of the playback: it runs nothing and notes each request with
 * its time; the reports that follow in the journal are filed under the
 * node's current execution of their job and version. It also answers the
 * tally (tally.ts) as the simulated agents do: dense node indexes and stops.
 */
class RecordingExecutor implements Executor {
  readonly executions: RecordedExecution[] = [];
  /** The current execution per node and job. */
  private readonly current = new Map<string, RecordedExecution>();
  /** The one before it: a report may still come for it at the instant it was replaced. */
  private readonly previous = new Map<string, RecordedExecution>();
  private readonly byId = new Map<string, RecordedExecution>();
  private readonly indexes = new Map<string, number>();
  onStop: ((deployment: string, index: number, revert: boolean) => void) | null = null;

  constructor(private readonly clock: Clock) {}

  indexOf(id: string): number {
    let index = this.indexes.get(id);
    if (index === undefined) this.indexes.set(id, (index = this.indexes.size));
    return index;
  }

  start(request: ExecutionRequest): void {
    if (this.byId.has(request.executionId)) return; // a repeated start
    const key = `${request.node}\u0000${request.job}`;
    const before = this.current.get(key);
    if (before !== undefined) {
      if (before.endedAt === null) before.endedAt = this.clock.now();
      this.previous.set(key, before);
    }
    const execution: RecordedExecution = {
      executionId: request.executionId,
      deployment: request.deployment,
      node: request.node,
      version: request.version,
      purpose: request.purpose,
      requestedAt: this.clock.now(),
      reports: [],
      endedAt: null,
    };
    this.executions.push(execution);
    this.byId.set(request.executionId, execution);
    this.current.set(key, execution);
  }

  stop(request: { executionId: string; node: string; job: string; version: number }): void {
    const execution = this.byId.get(request.executionId);
    if (execution === undefined) return;
    if (execution.endedAt === null) execution.endedAt = this.clock.now();
    this.onStop?.(execution.deployment, this.indexOf(execution.node), execution.purpose === 'revert');
  }

  /**
   * Files a report under the execution it is about (before the engine handles
   * it: a report may end that execution). A report at the very instant the
   * engine replaced the execution (a revert requested by a failure at that
   * instant) was sent before the node could know: it still counts.
   */
  heard(at: number, input: { type: 'report.execution'; report: ExecutionReport } | { type: 'report.health'; report: HealthReport }): void {
    const report = input.report;
    const key = `${report.node}\u0000${report.job}`;
    let execution = this.current.get(key);
    if (execution !== undefined && execution.version !== report.version && execution.requestedAt === at) execution = this.previous.get(key);
    if (execution === undefined || execution.version !== report.version || (execution.endedAt !== null && execution.endedAt !== at)) return;
    execution.reports.push(
      input.type === 'report.execution' ? { at, kind: 'execution', status: input.report.status } : { at, kind: 'health', healthy: input.report.healthy, error_rate: input.report.error_rate },
    );
  }
}

/**
 * The playback's clock: time is set to each journal entry's instant, and a
 * timer fires only when the journal says one fired (`fireDue`): the one due
 * first, as a real clock fires overdue timers in due order. A binary heap by
 * (due, scheduling order); cancelled timers are dropped when they reach the top.
 */
class JournalClock implements Clock {
  private readonly heap: Timer[] = [];
  private seq = 0;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  schedule(at: number, fire: () => void): TimerHandle {
    const timer: Timer = { at, seq: this.seq++, fire };
    const heap = this.heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    return timer;
  }

  cancel(handle: TimerHandle): void {
    (handle as Timer).fire = null;
  }

  setTime(at: number): void {
    if (at > this.current) this.current = at;
  }

  /** Fires the live timer due first, if it is due by now; returns how late it fired (ms). */
  fireDue(): number {
    while (this.heap.length > 0 && this.heap[0]!.fire === null) this.pop();
    const first = this.heap[0];
    if (first === undefined || first.at > this.current) return 0;
    this.pop();
    const fire = first.fire!;
    first.fire = null;
    fire();
    return this.current - first.at;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

interface Timer {
  at: number;
  seq: number;
  fire: (() => void) | null;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
