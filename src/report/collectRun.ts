/**
 * Builds a run's report from its trace as the run goes (a `TraceSink`), so a
 * 100,000-node rollout is never held as a trace: each deployment keeps one
 * bucket per node and one row of counts per instant at which a count changed;
 * `finish` keeps the job's deployment and samples its counts down to a
 * bounded number of points.
 */
import type { FleetNode } from '../selector/types.js';
import type { SimResult } from '../sim/result.js';
import type { Scenario } from '../sim/scenario.js';
import type { TraceEvent, TraceSink } from '../sim/trace.js';
import { labelBreakdown, NodeMarks } from './labels.js';
import { NODE_BUCKETS, type NodeBucket, type NodeTimeline, type RunReport } from './model.js';
import { phaseBands } from './phases.js';

/** Enough for a smooth chart on a wide screen; keeps a 100,000-node report small. */
export const MAX_TIMELINE_POINTS = 480;

const BUCKET_OF_EVENT: Partial<Record<TraceEvent['type'], NodeBucket>> = {
  'node.started': 'updating',
  'node.stable': 'stable',
  'node.failed': 'failed',
  'node.reverting': 'reverting',
  'node.reverted': 'reverted',
  'node.revert_failed': 'revert_failed',
};

const BUCKETS = NODE_BUCKETS.length;
const NONE = -1;

/** One deployment's nodes: their bucket now, and the counts after each instant. */
interface DeploymentTrack {
  createdAt: number;
  bucketOf: Map<string, number>;
  counts: Int32Array;
  entered: Int32Array;
  marks: NodeMarks;
  /** Seconds of virtual time of each logged instant. */
  times: number[];
  /** `BUCKETS` counts per logged instant, flattened. */
  logged: number[];
}

export interface RunCollector {
  sink: TraceSink;
  /** The report of `result`'s deployment. */
  finish: (result: SimResult) => RunReport;
}

export function collectRun(scenario: Pick<Scenario, 'fleet' | 'events'>): RunCollector {
  const tracks = new Map<string, DeploymentTrack>();
  const sink: TraceSink = (event) => {
    if (event.type === 'deployment.created') {
      tracks.set(event.deployment, { createdAt: event.t, bucketOf: new Map(), counts: new Int32Array(BUCKETS), entered: new Int32Array(BUCKETS), marks: new NodeMarks(), times: [event.t], logged: new Array<number>(BUCKETS).fill(0) });
      return;
    }
    const bucket = BUCKET_OF_EVENT[event.type];
    const track = tracks.get(event.deployment);
    if (bucket === undefined || track === undefined) return;
    const node = event.node as string;
    const to = NODE_BUCKETS.indexOf(bucket);
    const from = track.bucketOf.get(node) ?? NONE;
    if (from === to) return;
    if (from !== NONE) track.counts[from]! -= 1;
    track.counts[to]! += 1;
    track.entered[to]! += 1;
    track.bucketOf.set(node, to);
    track.marks.mark(node, bucket);
    logInstant(track, event.t);
  };
  const finish = (result: SimResult): RunReport => {
    const track = tracks.get(result.deployment);
    if (track === undefined) throw new Error(`the trace never created deployment ${result.deployment}`);
    return {
      result,
      timeline: timelineOf(track, result.duration_s),
      phases: phaseBands(result, track.createdAt),
      labels: labelBreakdown(fleetLabels(scenario), track.marks),
    };
  };
  return { sink, finish };
}

/** The counts after the events of instant `t` (events come in time order: an instant's row is overwritten until the next one). */
function logInstant(track: DeploymentTrack, t: number): void {
  const last = track.times.length - 1;
  const row = track.times[last] === t ? last : track.times.push(t) - 1;
  for (let b = 0; b < BUCKETS; b += 1) track.logged[row * BUCKETS + b] = track.counts[b]!;
}

function timelineOf(track: DeploymentTrack, end: number): NodeTimeline {
  const instants = track.times.length;
  const peak = emptyCounts(() => 0);
  for (let row = 0; row < instants; row += 1) {
    NODE_BUCKETS.forEach((bucket, b) => {
      peak[bucket] = Math.max(peak[bucket], track.logged[row * BUCKETS + b]!);
    });
  }
  const counts = emptyCounts((): number[] => []);
  const t: number[] = [];
  const push = (at: number, row: number): void => {
    t.push(round(at));
    NODE_BUCKETS.forEach((bucket, b) => counts[bucket].push(track.logged[row * BUCKETS + b]!));
  };
  const sampled = instants > MAX_TIMELINE_POINTS;
  if (!sampled) {
    for (let row = 0; row < instants; row += 1) push(track.times[row]! - track.createdAt, row);
  } else {
    // The counts at evenly spaced instants: the last logged row at or before each.
    let row = 0;
    for (let i = 0; i < MAX_TIMELINE_POINTS; i += 1) {
      const at = (end * i) / (MAX_TIMELINE_POINTS - 1);
      while (row + 1 < instants && track.times[row + 1]! - track.createdAt <= at) row += 1;
      push(at, row);
    }
  }
  const entered = emptyCounts(() => 0);
  NODE_BUCKETS.forEach((bucket, b) => (entered[bucket] = track.entered[b]!));
  return { t, counts, sampled, peak, entered, end };
}

function emptyCounts<T>(make: () => T): Record<NodeBucket, T> {
  return Object.fromEntries(NODE_BUCKETS.map((bucket) => [bucket, make()])) as Record<NodeBucket, T>;
}

/** Every node the run knew, the fleet's and those that joined later (a later join of the same id wins). */
function fleetLabels(scenario: Pick<Scenario, 'fleet' | 'events'>): Map<string, Record<string, string>> {
  const labels = new Map<string, Record<string, string>>();
  const add = (node: FleetNode): void => {
    labels.set(node.id, node.labels);
  };
  scenario.fleet.forEach(add);
  for (const event of scenario.events) if (event.type === 'join') event.nodes.forEach(add);
  return labels;
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
