/**
 * The aggregate of many runs (contract section 8, `simulate --runs N --json`).
 * Run `i` uses seed `seed + i`, so any run can be replayed alone with
 * `--seed`, and the aggregate depends only on the per-run results in index
 * order, never on how the runs were split between threads.
 */
import type { SimResult } from './result.js';

/** What the aggregate needs of one run (small, to cross thread boundaries cheaply). */
export interface RunSummary {
  outcome: SimResult['outcome'];
  duration_s: number;
  exposed: number;
  time_to_detect_s: number | null;
  /** The deployment failed and a rollback started. */
  rolled_back: boolean;
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
  format: 1;
  /** The base seed: run i used seed + i. */
  seed: number;
  runs: number;
  /** Runs per final outcome, outcomes in alphabetical order. */
  outcomes: Record<string, number>;
  duration_s: Stats;
  exposed: Stats;
  /** Share of runs whose deployment failed and was rolled back (or was rolling back at the horizon). */
  rollback_rate: number;
  /** Over the runs whose deployment failed; null when none did. */
  time_to_detect_s: (Stats & { runs: number }) | null;
}

export function summarizeRun(result: SimResult): RunSummary {
  return {
    outcome: result.outcome,
    duration_s: result.duration_s,
    exposed: result.exposed,
    time_to_detect_s: result.time_to_detect_s,
    rolled_back: result.outcome === 'rolling_back' || result.outcome === 'rolled_back',
  };
}

/** `runs[i]` is the summary of run i. */
export function aggregate(seed: number, runs: readonly RunSummary[]): Aggregate {
  const counts = new Map<string, number>();
  for (const run of runs) counts.set(run.outcome, (counts.get(run.outcome) ?? 0) + 1);
  const outcomes: Record<string, number> = {};
  for (const outcome of [...counts.keys()].sort()) outcomes[outcome] = counts.get(outcome)!;
  const detected = runs.flatMap((run) => (run.time_to_detect_s === null ? [] : [run.time_to_detect_s]));
  return {
    format: 1,
    seed,
    runs: runs.length,
    outcomes,
    duration_s: stats(runs.map((run) => run.duration_s)),
    exposed: stats(runs.map((run) => run.exposed)),
    rollback_rate: runs.length === 0 ? 0 : round(runs.filter((run) => run.rolled_back).length / runs.length),
    time_to_detect_s: detected.length === 0 ? null : { runs: detected.length, ...stats(detected) },
  };
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
