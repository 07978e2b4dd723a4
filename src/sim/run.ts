/**
 * One simulated run: the real engine on a virtual clock, its executor played
 * by simulated agents (agents.ts), scripted events applied at their times.
 * Nothing here decides anything about the rollout: the engine does.
 *
 * Time 0: the fleet is loaded; `previous` (when given) is put in place as
 * version 1, completed on every node it targets; then `job` is submitted.
 * `previous` is put in place by submitting it with strategy `immediate` and
 * agents that start at once, so it completes within time 0; its deployment
 * is left out of the trace and of the result. Version 1 thus carries an
 * `immediate` deployment block, which only says how version 1 was rolled out.
 *
 * The run stops at the first instant after which no scripted event remains,
 * every deployment of the run (the job's, those of `submit` events) is
 * terminal or waits for an operator (awaiting_promotion, or paused), and no
 * node any of them started is still updating (§8 v1.1: late joiners and
 * reconnected nodes are judged too); otherwise at the horizon. The result is about the
 * job's deployment; the trace holds every deployment of the run.
 */
import { CommandError, createEngine, VirtualClock, type Engine } from '../engine/index.js';
import type { JobSpec } from '../spec/types.js';
import { SimulatedAgents } from './agents.js';
import { compileBehavior } from './behavior.js';
import { LabelValues } from './breakdown.js';
import { releaseOfRun } from './releaseCases.js';
import type { Scenario, ScenarioEvent } from './scenario.js';
import { isSettled, summarize, watchDeployments, type SimResult } from './result.js';
import { NodeTally } from './tally.js';
import { recordTrace, streamTrace, type TraceEvent, type TraceSink } from './trace.js';

export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /**
   * `true` records the trace into `RunOutput.trace` (it costs memory: a few
   * hundred bytes an event); a sink receives each event as it happens, in
   * time order, and the run keeps none.
   */
  trace?: boolean | TraceSink;
  /** A label to break the result down by (`SimResult.by_label`). */
  by?: string;
  /** Called every PROGRESS_EVERY fired timers, and once at the end. */
  onProgress?: (progress: RunProgress) => void;
}

/** How far a run is: virtual time and the job's deployment's nodes. */
export interface RunProgress {
  /** Milliseconds of virtual time. */
  now: number;
  horizon: number;
  targeted: number;
  /** Nodes of the job's deployment judged stable or failed, or stopped. */
  resolved: number;
}

/** Fired timers between two progress calls: rare enough to cost nothing, frequent enough for a line every few seconds. */
const PROGRESS_EVERY = 1 << 16;

export interface RunOutput {
  result: SimResult;
  /** The recorded trace when `trace: true`, else null. */
  trace: TraceEvent[] | null;
}

/** The scenario cannot be run as written (the message names the scenario field). Bad input, like a validation error. */
export class ScenarioRunError extends Error {
  override readonly name = 'ScenarioRunError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunOutput {
  const seed = options.seed ?? scenario.seed;
  const clock = new VirtualClock(0);
  const release = scenario.releases === null ? null : releaseOfRun(scenario.releases, seed);
  const agents = new SimulatedAgents(clock, seed, compileBehavior(release?.behavior ?? scenario.behavior));
  const engine = createEngine({ executor: agents, clock });
  const labels = options.by === undefined ? null : new LabelValues(options.by, scenario.fleet.length);
  const sim: Simulation = { clock, agents, engine, labels };
  agents.attach(engine);
  engine.on('node.stable', (e) => agents.judged(e.node, e.version));
  engine.on('node.failed', (e) => agents.judged(e.node, e.version));

  const fleet = scenario.fleet;
  for (let i = 0; i < fleet.length; i += 1) {
    const index = agents.addNode(fleet[i]!);
    labels?.add(index, fleet[i]!);
    engine.upsertNode(fleet[i]!);
  }
  if (scenario.previous !== null) putInPlace(scenario.previous, sim);

  const deployments = watchDeployments(engine);
  const tally = new NodeTally(engine, agents, fleet.length);
  const trace = options.trace === true ? recordTrace(engine) : null;
  if (typeof options.trace === 'function') streamTrace(engine, options.trace);
  const script = schedule(scenario.events, identity(scenario.job), sim);
  const submitted = engine.submit(scenario.job);
  if (submitted.deployment === null) {
    throw new ScenarioRunError('job', 'is the same as previous: the engine reports it unchanged and nothing rolls out');
  }

  // A paused deployment still judges the nodes it was updating (§7), and a completed one the nodes that join it.
  const settled = (): boolean => {
    if (script.left() > 0) return false;
    for (const log of deployments.values()) if (!isSettled(log)) return false;
    return !tally.anyUpdating();
  };
  const jobDeployment = submitted.deployment;
  const jobTally = tally.of(jobDeployment)!;
  const onProgress = options.onProgress;
  const progress =
    onProgress === undefined
      ? null
      : (): void => {
          const c = jobTally.counts;
          onProgress({ now: clock.now(), horizon: scenario.horizon, targeted: engine.status(jobDeployment)!.targeted, resolved: c.exposed - c.updating });
        };
  const endedBy = runUntil(clock, scenario.horizon, settled, progress);
  progress?.();

  const log = deployments.get(submitted.deployment)!;
  const status = engine.status(submitted.deployment)!;
  const result = summarize(log, {
    at: clock.now(),
    by: endedBy,
    seed,
    targeted: status.targeted,
    max_in_flight: status.max_in_flight,
    refused: script.refused,
    later: [...deployments.values()].filter((other) => other !== log),
    tally: jobTally,
    by_label: labels?.breakdown(jobTally) ?? null,
  });
  if (release !== null) result.release = release.name;
  return { result, trace };
}

interface Simulation {
  clock: VirtualClock;
  agents: SimulatedAgents;
  engine: Engine;
  labels: LabelValues | null;
}

/** Steps the clock one timer at a time; checks `settled` between instants. */
function runUntil(clock: VirtualClock, horizon: number, settled: () => boolean, progress: (() => void) | null): SimResult['ended_by'] {
  for (let fired = 1; ; fired += 1) {
    if (progress !== null && (fired & (PROGRESS_EVERY - 1)) === 0) progress();
    const due = clock.nextDue();
    if ((due === null || due > clock.now()) && settled()) return 'settled';
    if (due === null || due > horizon) {
      // Nothing more happens before the horizon: the run lasts until it.
      clock.advanceTo(horizon);
      return 'horizon';
    }
    clock.step();
  }
}

interface Script {
  refused: SimResult['refused'];
  /** Scripted events not yet applied. */
  left: () => number;
}

/** Puts the scripted events on the clock. Operator commands the engine refuses are recorded, not fatal. */
function schedule(events: readonly ScenarioEvent[], job: string, { clock, agents, engine, labels }: Simulation): Script {
  const refused: SimResult['refused'] = [];
  let left = events.length;
  const apply = (event: ScenarioEvent): void => {
    switch (event.type) {
      case 'promote':
      case 'pause':
      case 'resume':
      case 'abort':
        try {
          engine[event.type](job);
        } catch (error) {
          if (!(error instanceof CommandError)) throw error;
          refused.push({ t: clock.now() / 1000, action: event.type, message: error.message });
        }
        return;
      case 'disconnect':
      case 'connect':
        for (const id of event.nodes) {
          engine.setConnected(id, event.type === 'connect');
          agents.setConnected(id, event.type === 'connect');
        }
        return;
      case 'join':
        for (const node of event.nodes) {
          const index = agents.addNode(node); // first: the engine may start the node at once
          labels?.add(index, node);
          engine.upsertNode(node);
        }
        return;
      case 'submit':
        engine.submit(event.spec);
        return;
    }
  };
  for (const event of events) {
    clock.schedule(event.at, () => {
      left -= 1;
      apply(event);
    });
  }
  return { refused, left: () => left };
}

function identity(spec: JobSpec): string {
  return `${spec.namespace}/${spec.name}`;
}

/** Version 1, completed at time 0 on every node it targets (see the module comment). */
function putInPlace(previous: JobSpec, { clock, agents, engine }: Simulation): void {
  agents.instant = true;
  const { deployment } = engine.submit({ ...previous, deployment: { ...previous.deployment, strategy: 'immediate' } });
  clock.runUntilIdle(0);
  agents.instant = false;
  const state = deployment === null ? 'missing' : engine.status(deployment)?.state;
  if (state !== 'completed') {
    throw new ScenarioRunError('previous', `cannot be in place at time 0: its deployment is ${state} (does it target any connected node?)`);
  }
}
