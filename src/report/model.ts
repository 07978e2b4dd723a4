/**
 * The data a report shows, as plain values: built from a run (collectRun.ts)
 * or a Monte Carlo series (monteCarloReport.ts), or by any command that has a
 * table to compare (`CompareTable`), then turned into one HTML page by
 * `renderReport` (render.ts), a pure function of this model.
 */
import type { Aggregate } from '../sim/aggregate.js';
import type { SimResult } from '../sim/result.js';

export const REPORT_FORMAT = 1;

/** Where a node of the deployment stands, as the engine's events say (contract §8 trace). */
export const NODE_BUCKETS = ['updating', 'stable', 'failed', 'reverting', 'reverted', 'revert_failed'] as const;
export type NodeBucket = (typeof NODE_BUCKETS)[number];

export interface ReportModel {
  format: typeof REPORT_FORMAT;
  /** The page's heading: the scenario file, or what was compared. */
  title: string;
  /** The scenario's one-line description, if any. */
  description: string | null;
  run: RunReport | null;
  monteCarlo: MonteCarloReport | null;
  /** Tables of policies side by side (`compare`; `tune`'s ranking), in the order shown; empty when the command has none. */
  compare: CompareTable[];
}

/** One simulated run of the job's deployment. */
export interface RunReport {
  result: SimResult;
  timeline: NodeTimeline;
  phases: PhaseBand[];
  labels: LabelBreakdown[];
}

/**
 * Nodes per bucket over time, seconds from the deployment's creation. Either
 * every instant at which a count changed (`sampled: false`), or the counts at
 * most `MAX_TIMELINE_POINTS` evenly spaced instants (`sampled: true`); each
 * value holds until the next point.
 */
export interface NodeTimeline {
  t: number[];
  counts: Record<NodeBucket, number[]>;
  sampled: boolean;
  /** The highest count each bucket reached at the end of any instant (sampled or not). */
  peak: Record<NodeBucket, number>;
  /** Nodes that entered each bucket, counted once per entry (a failed node reverted at the same instant is never a peak, but is here). */
  entered: Record<NodeBucket, number>;
  /** Seconds: the time axis runs from 0 to `end`. */
  end: number;
}

/** What the deployment was doing between two instants, named for an operator. */
export type PhaseName = 'pending' | 'canary' | 'rolling out' | 'awaiting promotion' | 'paused' | 'rolling back' | 'completed' | 'failed' | 'rolled back' | 'canceled';

export interface PhaseBand {
  phase: PhaseName;
  /** Seconds from the deployment's creation. */
  from: number;
  to: number;
  reason: string | null;
}

/** The job's nodes split by the values of one label key of the fleet. */
export interface LabelBreakdown {
  key: string;
  rows: LabelRow[];
  /** Values beyond the rows shown (the least eventful), summed into `rest`. */
  rest: LabelRow | null;
  hiddenValues: number;
}

export interface LabelRow {
  value: string;
  /** Fleet nodes carrying this value. */
  nodes: number;
  exposed: number;
  stable: number;
  failed: number;
  reverted: number;
}

export interface MonteCarloReport {
  aggregate: Aggregate;
  duration: Histogram;
  exposed: Histogram;
}

export interface Histogram {
  /** What is counted, with its unit: `duration (s)`. */
  label: string;
  unit: 'seconds' | 'nodes';
  /** Bins [from, to), the last one closed; every run falls in exactly one. */
  bins: Array<{ from: number; to: number; runs: number }>;
}

/** Policies against figures (either way round); each cell shown as given, a number as a count. */
export interface CompareTable {
  /** The table's section in the page (`id`, `data-table`): `compare`, `ranking`. */
  name: string;
  title: string;
  columns: string[];
  rows: CompareTableRow[];
  note?: string;
}

export interface CompareTableRow {
  label: string;
  /** What the row shows in the command's `--json` (a metric, `winner` ...), carried as `data-key`. */
  key?: string;
  /** One per column; null when nothing applies (shown as –). */
  cells: Array<CompareCell | string | number | null>;
}

/** A cell shown as `shown`, carrying its `--json` value in `data-value`; `best` marks it (bold and `*`, not colour alone). */
export interface CompareCell {
  shown: string;
  value: number | string;
  best?: boolean;
}
