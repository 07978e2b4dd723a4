/**
 * Histograms of a Monte Carlo series (duration, exposure): equal-width bins
 * over [min, max], integer-aligned when counting nodes, so a reader can say
 * "most runs exposed 10 to 14 nodes".
 */
import type { Aggregate, RunSummary } from '../sim/aggregate.js';
import type { Histogram, MonteCarloReport } from './model.js';

/** Enough bins to show a shape, few enough to label each bar on a phone. */
export const MAX_BINS = 20;

export function monteCarloReport(aggregate: Aggregate, runs: readonly RunSummary[]): MonteCarloReport {
  return {
    aggregate,
    duration: histogram('duration (s)', 'seconds', runs.map((run) => run.duration_s)),
    exposed: histogram('nodes exposed', 'nodes', runs.map((run) => run.exposed)),
  };
}

export function histogram(label: string, unit: Histogram['unit'], values: readonly number[]): Histogram {
  if (values.length === 0) return { label, unit, bins: [] };
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  const integers = unit === 'nodes';
  const span = max - min;
  const count = span === 0 ? 1 : Math.min(MAX_BINS, integers ? span + 1 : MAX_BINS);
  const width = span === 0 ? 1 : integers ? Math.ceil((span + 1) / count) : span / count;
  const bins = Array.from({ length: count }, (_, i) => ({ from: round(min + i * width), to: round(min + (i + 1) * width), runs: 0 }));
  for (const value of values) {
    const index = span === 0 ? 0 : Math.min(count - 1, Math.floor((value - min) / width));
    bins[index]!.runs += 1;
  }
  return { label, unit, bins };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
