/**
 * The figures `compare` prints and `tune` budgets: one table of metrics, each
 * read from the runs of one release case. Durations are read from the good
 * release (the runs that completed: the others are false aborts), exposure
 * and detection from the bad one; a scenario without
 * release cases has one case, which stands for both (and has no false aborts
 * or escapes: nothing says whether its release is good). Every value comes
 * with its 95% interval (confidence.ts) and the runs it rests on.
 */
import { meanInterval, percentileInterval, wilson, type Interval } from './confidence.js';
import type { RunRecord } from './policyRuns.js';

export type MetricUnit = 'seconds' | 'nodes' | 'percent' | 'rate';

/** The runs of one policy, by the role a case plays. */
export interface CaseView {
  good: readonly RunRecord[] | null;
  bad: readonly RunRecord[] | null;
  /** The scenario names its cases (good, bad); false for a scenario without release cases. */
  named: boolean;
  /** Both cases' probabilities, when the scenario gives them. */
  probability: { good: number; bad: number } | null;
}

export interface Measure {
  value: number;
  interval: Interval;
  /** The runs the value rests on (for time to detect: the runs that failed). */
  runs: number;
}

export interface Metric {
  key: string;
  label: string;
  unit: MetricUnit;
  /** Which way is better; null when neither is (a rollback rate without release cases). */
  better: (view: CaseView) => 'lower' | 'higher' | null;
  measure: (view: CaseView) => Measure | null;
}

const lower = (): 'lower' => 'lower';

function percentileMetric(key: string, label: string, unit: MetricUnit, role: 'good' | 'bad', percent: number, pick: (run: RunRecord) => number | null): Metric {
  return {
    key,
    label,
    unit,
    better: lower,
    measure: (view) => {
      const runs = view[role];
      if (runs === null) return null;
      // A good release's time is that of the runs that completed; the ones that failed are false aborts.
      const completedOnly = role === 'good' && view.named;
      const values: number[] = [];
      for (const run of runs) {
        if (completedOnly && run.outcome !== 'completed') continue;
        const value = pick(run);
        if (value !== null) values.push(value);
      }
      if (values.length === 0) return null;
      const sorted = Float64Array.from(values).sort();
      const value = sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)]!;
      return { value: round(value, unit), interval: roundInterval(percentileInterval(sorted, percent), unit), runs: values.length };
    },
  };
}

function rateMetric(key: string, label: string, role: 'good' | 'bad', counts: (run: RunRecord) => boolean, better: Metric['better'], namedOnly: boolean): Metric {
  return {
    key,
    label,
    unit: 'rate',
    better,
    measure: (view) => {
      const runs = view[role];
      if (runs === null || (namedOnly && !view.named) || runs.length === 0) return null;
      const hits = runs.filter(counts).length;
      return { value: round(hits / runs.length, 'rate'), interval: roundInterval(wilson(hits, runs.length), 'rate'), runs: runs.length };
    },
  };
}

const percentOfTargeted = (run: RunRecord): number => (run.targeted === 0 ? 0 : (100 * run.exposed) / run.targeted);
const active = (run: RunRecord): number => run.duration_s - run.waiting_s;

export const METRICS: readonly Metric[] = [
  percentileMetric('duration_p50', 'duration p50', 'seconds', 'good', 50, (run) => run.duration_s),
  percentileMetric('duration_p90', 'duration p90', 'seconds', 'good', 90, (run) => run.duration_s),
  percentileMetric('duration_p99', 'duration p99', 'seconds', 'good', 99, (run) => run.duration_s),
  percentileMetric('active_p50', '  active p50', 'seconds', 'good', 50, active),
  percentileMetric('active_p90', '  active p90', 'seconds', 'good', 90, active),
  percentileMetric('active_p99', '  active p99', 'seconds', 'good', 99, active),
  percentileMetric('waiting_p50', '  waiting for promotion p50', 'seconds', 'good', 50, (run) => run.waiting_s),
  percentileMetric('waiting_p90', '  waiting for promotion p90', 'seconds', 'good', 90, (run) => run.waiting_s),
  percentileMetric('waiting_p99', '  waiting for promotion p99', 'seconds', 'good', 99, (run) => run.waiting_s),
  percentileMetric('exposed_p50', 'exposed p50 (nodes)', 'nodes', 'bad', 50, (run) => run.exposed),
  percentileMetric('exposed_p99', 'exposed p99 (nodes)', 'nodes', 'bad', 99, (run) => run.exposed),
  percentileMetric('exposed_pct_p50', 'exposed p50 (% of targeted)', 'percent', 'bad', 50, percentOfTargeted),
  percentileMetric('exposed_pct_p99', 'exposed p99 (% of targeted)', 'percent', 'bad', 99, percentOfTargeted),
  percentileMetric('detect_p50', 'time to detect p50', 'seconds', 'bad', 50, (run) => run.time_to_detect_s),
  percentileMetric('detect_p99', 'time to detect p99', 'seconds', 'bad', 99, (run) => run.time_to_detect_s),
  rateMetric('rollback_rate', 'rollback rate', 'bad', (run) => run.rolled_back, (view) => (view.named ? 'higher' : null), false),
  rateMetric('escaped', 'bad release completed', 'bad', (run) => run.outcome === 'completed', lower, true),
  rateMetric('false_abort', 'false aborts (good release failed)', 'good', (run) => run.failed, lower, true),
  {
    key: 'revert_failed',
    label: 'revert failures (nodes, mean)',
    unit: 'nodes',
    better: lower,
    measure: (view) => {
      const runs = view.bad;
      if (runs === null || runs.length === 0) return null;
      const values = runs.map((run) => run.revert_failed);
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      return { value: round(mean, 'rate'), interval: roundInterval(meanInterval(values), 'rate'), runs: values.length };
    },
  },
  {
    key: 'rollback_rate_all',
    label: 'rollback rate, all releases',
    unit: 'rate',
    better: () => null,
    measure: (view) => {
      if (view.probability === null || view.good === null || view.bad === null || view.good.length === 0 || view.bad.length === 0) return null;
      const rate = (runs: readonly RunRecord[]): number => runs.filter((run) => run.rolled_back).length / runs.length;
      const value = view.probability.good * rate(view.good) + view.probability.bad * rate(view.bad);
      return { value: round(value, 'rate'), interval: { low: null, high: null }, runs: view.good.length + view.bad.length };
    },
  },
];

export const METRIC_KEYS = METRICS.map((metric) => metric.key);

export function metricByKey(key: string): Metric | undefined {
  return METRICS.find((metric) => metric.key === key);
}

const DECIMALS: Record<MetricUnit, number> = { seconds: 3, nodes: 3, percent: 3, rate: 4 };

function round(value: number, unit: MetricUnit): number {
  const scale = 10 ** DECIMALS[unit];
  return Math.round(value * scale) / scale;
}

function roundInterval(interval: Interval, unit: MetricUnit): Interval {
  return { low: interval.low === null ? null : round(interval.low, unit), high: interval.high === null ? null : round(interval.high, unit) };
}
