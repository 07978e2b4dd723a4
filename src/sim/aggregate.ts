/**
 * The aggregate of many runs (contract section 8, `simulate --runs N --json`).
 * Run `i` uses seed `seed + i`, so any run can be replayed alone with
 * `--seed`, and the aggregate depends only on the per-run results in index
 * order, never on how the runs were split between threads.
 */
import { byValue, sortedKeys, type LabelBreakdown, type LabelGroup } from './breakdown.js';
import type { SimResult } from './result.js';

/** The node counts of a run that add up (§8 v1.1): targeted = untouched + stable + failed + stopped + removed + updating. */
export const NODE_BUCKETS = ['untouched', 'stable', 'failed', 'stopped', 'removed', 'updating'] as const;
/** Every count the aggregate totals. */
export const NODE_COUNTS = ['targeted', ...NODE_BUCKETS, 'exposed', 'reverted', 'revert_failed'] as const;
export type NodeCount = (typeof NODE_COUNTS)[number];

/** What the aggregate needs of one run (small, to cross thread boundaries cheaply). */
export interface RunSummary {
  outcome: SimResult['outcome'];
  reason: string | null;
  duration_s: number;
  exposed: number;
  time_to_detect_s: number | null;
  /** The deployment failed and a rollback started. */
  rolled_back: boolean;
  nodes: Record<NodeCount, number>;
  failed_by_reason: Record<string, number>;
  by_label: LabelBreakdown | null;
}

/** A count over the runs: its sum and its mean per run. Sums add up exactly (the means are rounded). */
export interface Total {
  total: number;
  mean: number;
}

/** One label value over the runs: sums of the per-run counts, and the runs where a node failed there. */
export interface LabelTotals extends LabelGroup {
  runs_with_failures: number;
}

/** Nearest-rank percentiles (the smallest value with at least p% of the runs at or below it), mean and max. */
export interface Stats {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
}

export interface Aggregate {
  /** The base seed: run i used seed + i. */
  seed: number;
  runs: number;
  /** Runs per final outcome, outcomes in alphabetical order. */
  outcomes: Record<string, number>;
  /** Runs per reason of the final state (failure_rule, aborted, superseded ...), runs without a reason left out. */
  reasons: Record<string, number>;
  duration_s: Stats;
  exposed: Stats;
  /** Share of runs whose deployment failed and was rolled back (or was rolling back at the horizon). */
  rollback_rate: number;
  /** Over the runs whose deployment failed on a failure the engine found; null when none did (an operator's abort is not a detection). */
  time_to_detect_s: (Stats & { runs: number }) | null;
  /** Node counts summed over the runs (they add up like a run's) and their mean per run. */
  nodes: Record<NodeCount, Total>;
  /** Failed nodes per reason, summed over the runs. */
  failed_by_reason: Record<string, number>;
  /** Per value of the `--by` label, summed over the runs; null without `--by`. */
  by_label: { label: string; values: LabelTotals[] } | null;
}

export function summarizeRun(result: SimResult): RunSummary {
  const nodes = {} as Record<NodeCount, number>;
  for (const count of NODE_COUNTS) nodes[count] = result[count];
  return {
    outcome: result.outcome,
    reason: result.reason,
    duration_s: result.duration_s,
    exposed: result.exposed,
    time_to_detect_s: result.time_to_detect_s,
    rolled_back: result.outcome === 'rolling_back' || result.outcome === 'rolled_back',
    nodes,
    failed_by_reason: result.failed_by_reason,
    by_label: result.by_label,
  };
}

/** `runs[i]` is the summary of run i. */
export function aggregate(seed: number, runs: readonly RunSummary[]): Aggregate {
  const outcomes: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const failedByReason: Record<string, number> = {};
  const sums = {} as Record<NodeCount, number>;
  for (const count of NODE_COUNTS) sums[count] = 0;
  for (const run of runs) {
    outcomes[run.outcome] = (outcomes[run.outcome] ?? 0) + 1;
    if (run.reason !== null) reasons[run.reason] = (reasons[run.reason] ?? 0) + 1;
    for (const count of NODE_COUNTS) sums[count] += run.nodes[count];
    for (const [reason, failed] of Object.entries(run.failed_by_reason)) failedByReason[reason] = (failedByReason[reason] ?? 0) + failed;
  }
  const nodes = {} as Record<NodeCount, Total>;
  for (const count of NODE_COUNTS) nodes[count] = { total: sums[count], mean: runs.length === 0 ? 0 : round(sums[count] / runs.length) };
  const detected = runs.flatMap((run) => (run.time_to_detect_s === null ? [] : [run.time_to_detect_s]));
  return {
    seed,
    runs: runs.length,
    outcomes: sortedKeys(outcomes),
    reasons: sortedKeys(reasons),
    duration_s: stats(runs.map((run) => run.duration_s)),
    exposed: stats(runs.map((run) => run.exposed)),
    rollback_rate: runs.length === 0 ? 0 : round(runs.filter((run) => run.rolled_back).length / runs.length),
    time_to_detect_s: detected.length === 0 ? null : { runs: detected.length, ...stats(detected) },
    nodes,
    failed_by_reason: sortedKeys(failedByReason),
    by_label: labelTotals(runs),
  };
}

/** Sums the runs' label breakdowns value by value (null when the runs have none). */
function labelTotals(runs: readonly RunSummary[]): Aggregate['by_label'] {
  const label = runs[0]?.by_label?.label;
  if (label === undefined) return null;
  const totals = new Map<string | null, LabelTotals>();
  for (const run of runs) {
    for (const group of run.by_label?.values ?? []) {
      let total = totals.get(group.value);
      if (total === undefined) {
        total = { value: group.value, exposed: 0, updating: 0, stable: 0, failed: 0, stopped: 0, failed_by_reason: {}, runs_with_failures: 0 };
        totals.set(group.value, total);
      }
      total.exposed += group.exposed;
      total.updating += group.updating;
      total.stable += group.stable;
      total.failed += group.failed;
      total.stopped += group.stopped;
      if (group.failed > 0) total.runs_with_failures += 1;
      for (const [reason, failed] of Object.entries(group.failed_by_reason)) total.failed_by_reason[reason] = (total.failed_by_reason[reason] ?? 0) + failed;
    }
  }
  const values = [...totals.values()].sort(byValue);
  for (const total of values) total.failed_by_reason = sortedKeys(total.failed_by_reason);
  return { label, values };
}

/** Stats of `values`, in the order given (the mean sums in that order, so it is reproducible to the bit). */
export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { p50: 0, p90: 0, p99: 0, mean: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  let sum = 0;
  for (const value of values) sum += value;
  return { p50: rank(50), p90: rank(90), p99: rank(99), mean: round(sum / values.length), max: sorted[sorted.length - 1]! };
}

/** Three decimals: virtual time is counted in milliseconds. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
