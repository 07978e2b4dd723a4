/**
 * Counterfactual replay (`fleet-rollout replay`): a recorded deployment run
 * again as a simulation, each node behaving as it did relative to its own
 * start (recordedBehavior.ts), under the recording's own policy and under
 * another one. The simulation is an ordinary scenario run (run.ts): the fleet
 * as it was when the deployment was created, the version it replaced in
 * place at time 0, and the fleet and operator inputs that came later at the
 * same offsets. Under the own policy it must give the recorded outcome; that
 * is checked, field by field, and said.
 *
 * Nodes the recording never started (or stopped before they reported) have
 * no behavior of their own: each gets one of the observed behaviors, drawn
 * per node id from the seed, and the replay says how many were drawn.
 */
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { DEFAULT_BEHAVIOR, type Behavior, type BehaviorOverride } from './behavior.js';
import { nodeStreamKey, uniform } from './prng.js';
import { GRID_REPORT_BUDGET, MIN_GRID_REPORTS, observedBehavior, recordedRevert } from './recordedBehavior.js';
import { RecordingError, type RecordedDeployment, type RecordedExecution, type Recording } from './recordingPlayback.js';
import type { SimResult } from './result.js';
import { runScenario } from './run.js';
import { DEFAULT_HORIZON_MS, type Scenario, type ScenarioEvent } from './scenario.js';

/** The figures shown side by side (§8 `simulate --json` names). */
export const FIGURES = [
  'outcome',
  'reason',
  'duration_s',
  'targeted',
  'canaries',
  'exposed',
  'stable',
  'failed',
  'stopped',
  'updating',
  'untouched',
  'reverted',
  'revert_failed',
  'max_in_flight',
  'time_to_detect_s',
  'time_to_fail_s',
  'time_to_rollback_s',
  'failed_by_reason',
] as const satisfies ReadonlyArray<keyof SimResult>;

export type Figures = Pick<SimResult, (typeof FIGURES)[number]>;

export interface BehaviorCounts {
  /** Nodes in the replayed fleet (joins included). */
  nodes: number;
  /** Nodes that behave as they were recorded. */
  observed: number;
  /** Nodes given a behavior drawn (seeded) from the observed ones: never started, or stopped before they reported. */
  drawn: number;
  /** Observed nodes whose reports fit no fine enough regular grid (a real clock's jitter): replayed on their median interval. */
  irregular: number;
}

export interface Replay {
  result: SimResult;
  behaviors: BehaviorCounts;
}

export interface ReplayComparison {
  deployment: string;
  job: string;
  seed: number;
  recorded: Figures;
  /** The recording's policy replayed with the extracted behaviors. */
  own: Figures;
  /** Figures where `own` differs from `recorded`; empty when the replay reproduces the recording. */
  own_differences: Array<(typeof FIGURES)[number]>;
  counterfactual: Figures;
  own_behaviors: BehaviorCounts;
  behaviors: BehaviorCounts;
  /** How the recording's timers fired: late ones (a real clock) make the recorded times longer than a replay's. */
  recorded_timers: Recording['timers'];
  /** Recorded inputs a scenario cannot play (a node removed or relabeled, a rollback command), with their offsets. */
  not_replayed: Array<{ t: number; what: string }>;
}

/** The deployment to replay: `deployment` by id, else the latest of `job`, else the latest when the recording has one job. */
export function chooseDeployment(recording: Recording, choice: { job?: string; deployment?: string }): RecordedDeployment {
  const all = recording.deployments;
  const job = choice.job === undefined ? undefined : choice.job.includes('/') ? choice.job : `default/${choice.job}`;
  const gone = recording.compacted.filter((d) => (choice.deployment === undefined ? job === undefined || d.job === job : d.id === choice.deployment));
  const compactedMessage = (ids: string[]): string =>
    `holds ${ids.join(', ')} only in its snapshot: the engine compacted the journal (it does on every restart and every compactEvery inputs, 10,000 by default), so what the nodes reported is gone; ` +
    "to record rollouts for replay, open the store with new SqliteStore(file, { archive: true }) (compaction then keeps the entries), or open the engine with { compactEvery: Infinity } and keep it running until the rollout ends";
  if (all.length === 0) {
    if (gone.length > 0) throw new RecordingError(compactedMessage(gone.map((d) => d.id)));
    throw new RecordingError('holds no deployment: no job was submitted to the engine that wrote it');
  }
  if (choice.deployment !== undefined) {
    const found = all.find((d) => d.id === choice.deployment);
    if (found !== undefined) return found;
    if (gone.length > 0) throw new RecordingError(compactedMessage(gone.map((d) => d.id)));
    throw new RecordingError(`has no deployment ${choice.deployment}; it has ${all.map((d) => d.id).join(', ')}`);
  }
  const jobs = [...new Set(all.map((d) => d.job))];
  if (job === undefined && jobs.length > 1) throw new RecordingError(`holds several jobs (${jobs.join(', ')}): choose one with --job NAME`);
  const ofJob = all.filter((d) => d.job === (job ?? jobs[0]));
  if (ofJob.length === 0) {
    if (gone.length > 0) throw new RecordingError(compactedMessage(gone.map((d) => d.id)));
    throw new RecordingError(`has no deployment of job ${job}; jobs in it: ${jobs.join(', ')}`);
  }
  return ofJob.at(-1)!;
}

/** The recorded deployment, its replay under its own policy, and under `policy`. */
export function compareWithRecording(recording: Recording, deployment: RecordedDeployment, policy: JobSpec, seed: number): ReplayComparison {
  const own = replayUnder(recording, deployment, recordedSpec(deployment), { seed, ownPolicy: true });
  const other = replayUnder(recording, deployment, policy, { seed, ownPolicy: false });
  const recorded = figuresOf(deployment.outcome);
  const ownFigures = figuresOf(own.result);
  return {
    deployment: deployment.id,
    job: deployment.job,
    seed,
    recorded,
    own: ownFigures,
    own_differences: FIGURES.filter((key) => JSON.stringify(recorded[key]) !== JSON.stringify(ownFigures[key])),
    counterfactual: figuresOf(other.result),
    own_behaviors: own.behaviors,
    behaviors: other.behaviors,
    recorded_timers: recording.timers,
    not_replayed: deployment.events.flatMap((event) => (event.type === 'unplayable' ? [{ t: (event.at - deployment.createdAt) / 1000, what: event.what }] : [])),
  };
}

export function recordedSpec(deployment: RecordedDeployment): JobSpec {
  if (deployment.spec === null) throw new RecordingError(`does not hold the spec of ${deployment.job} v${deployment.version} (the store was compacted after it was submitted)`);
  return deployment.spec;
}

/** Runs the recorded deployment again under `job`, every node behaving as recorded (or drawn). */
export function replayUnder(recording: Recording, deployment: RecordedDeployment, job: JobSpec, options: { seed: number; ownPolicy: boolean }): Replay {
  const seed = options.seed;
  if (deployment.completedVersion !== null && deployment.completedSpec === null) {
    throw new RecordingError(`does not hold the spec of ${deployment.job} v${deployment.completedVersion}, the version ${deployment.id} would roll back to (the store was compacted after it was submitted)`);
  }
  // The recorded world went on until the recording ended (a deployment waiting for promotion may still time out): so does the replay.
  // An empty `connect` changes nothing; it only keeps the run from settling before then.
  const events = [...scenarioEvents(deployment), { at: Math.max(0, recording.endsAt - deployment.createdAt), type: 'connect' as const, nodes: [] }];
  const nodes = [...deployment.fleet, ...events.flatMap((event) => (event.type === 'join' ? event.nodes : []))];
  const { overrides, counts } = behaviorsFor(recording, deployment, job, nodes, seed);
  // Under the own policy a recording that ended mid-rollout ends the replay at the same point.
  const recordedEnd = recording.endsAt - deployment.createdAt;
  const horizon = deployment.outcome.ended_by === 'horizon' && options.ownPolicy ? recordedEnd : Math.max(DEFAULT_HORIZON_MS, recordedEnd);
  const scenario: Scenario = {
    source: deployment.id,
    description: null,
    seed,
    horizon,
    fleet: deployment.fleet,
    previous: deployment.completedSpec,
    job,
    behavior: { base: { ...DEFAULT_BEHAVIOR }, overrides },
    releases: null,
    events,
  };
  return { result: runScenario(scenario).result, behaviors: counts };
}

/**
 * How long a node the engine stopped (or reverted) before it reported kept
 * quiet: a behavior drawn for it must keep quiet as long (it reports later,
 * or never), so the recorded policy still sees what it saw. 0 for a node
 * never started.
 */
function silentFor(update: RecordedExecution | undefined): number {
  return update?.endedAt == null ? 0 : update.endedAt - update.requestedAt;
}

/** One of the observed behaviors whose first report comes `quiet` ms or later, drawn from `stream`; silence when none does. */
function drawBehavior(pool: readonly Behavior[], quiet: number, stream: number): Behavior {
  const firstReport = (b: Behavior): number => (b.script?.silent === true ? Infinity : b.start_delay.min);
  const fits = pool.filter((b) => firstReport(b) >= quiet);
  if (fits.length > 0) return fits[Math.floor(uniform(stream, 0) * fits.length)]!;
  return { ...pool[0]!, start_delay: { min: 0, max: 0 }, script: { health: [], crash: 'never', silent: true, run_time: Infinity, completion: 'succeeded', revert: 'confirms' } };
}

function figuresOf(result: SimResult): Figures {
  return Object.fromEntries(FIGURES.map((key) => [key, result[key]])) as Figures;
}

function scenarioEvents(deployment: RecordedDeployment): ScenarioEvent[] {
  const events: ScenarioEvent[] = [];
  for (const event of deployment.events) {
    const at = event.at - deployment.createdAt;
    switch (event.type) {
      case 'join':
        events.push({ at, type: 'join', nodes: [event.node] });
        break;
      case 'connect':
      case 'disconnect':
        events.push({ at, type: event.type, nodes: [event.node] });
        break;
      case 'promote':
      case 'pause':
      case 'resume':
      case 'abort':
        events.push({ at, type: event.type });
        break;
      case 'submit':
        events.push({ at, type: 'submit', spec: event.spec });
        break;
      case 'unplayable':
        break;
    }
  }
  return events;
}

/**
 * One behavior per node: its recorded update in this deployment (with its
 * revert), judged against `job`'s error-rate threshold; nodes without one
 * draw one of the observed behaviors. Nodes sharing a behavior share an
 * override (a `match_ids` selector), so a fleet of alike nodes stays cheap.
 */
function behaviorsFor(recording: Recording, deployment: RecordedDeployment, job: JobSpec, nodes: readonly FleetNode[], seed: number): { overrides: BehaviorOverride[]; counts: BehaviorCounts } {
  const updates = new Map<string, RecordedExecution>();
  const reverts = new Map<string, RecordedExecution>();
  for (const execution of recording.executions) {
    if (execution.deployment !== deployment.id) continue;
    const book = execution.purpose === 'update' ? updates : reverts;
    if (!book.has(execution.node)) book.set(execution.node, execution);
  }
  const gridReports = Math.max(MIN_GRID_REPORTS, Math.floor(GRID_REPORT_BUDGET / Math.max(1, updates.size)));
  const context = { runsToCompletion: job.type !== 'pipeline', maxErrorRate: job.deployment.health_check?.max_error_rate ?? 0, gridReports };
  const observed = new Map<string, Behavior>();
  let irregular = 0;
  for (const [node, update] of updates) {
    const seen = observedBehavior(update, reverts.get(node) ?? null, { ...context, judged: deployment.judged.get(node) });
    if (seen === null) continue;
    observed.set(node, seen.behavior);
    if (!seen.regular) irregular += 1;
  }
  if (observed.size === 0) throw new RecordingError(`${deployment.id}: none of its nodes ran long enough to show what it does (none was started, or each was stopped before it reported), so there is no behavior to replay or draw from`);
  const pool = [...observed.values()];
  const groups = new Map<string, { behavior: Behavior; ids: string[] }>();
  let drawn = 0;
  const seenIds = new Set<string>();
  for (const node of nodes) {
    if (seenIds.has(node.id)) continue;
    seenIds.add(node.id);
    let behavior = observed.get(node.id);
    if (behavior === undefined) {
      behavior = drawBehavior(pool, silentFor(updates.get(node.id)), nodeStreamKey(seed, node.id));
      // A node reverted before it reported keeps the revert it was seen to do.
      const revert = reverts.get(node.id);
      if (revert !== undefined) behavior = { ...behavior, script: { ...behavior.script!, ...recordedRevert(revert) } };
      drawn += 1;
    }
    const key = JSON.stringify(behavior, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v));
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { behavior, ids: [node.id] });
    else group.ids.push(node.id);
  }
  const overrides = [...groups.values()].map(({ behavior, ids }) => ({ selector: { match_ids: ids }, behavior }));
  return { overrides, counts: { nodes: seenIds.size, observed: seenIds.size - drawn, drawn, irregular } };
}
