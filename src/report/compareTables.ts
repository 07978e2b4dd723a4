/**
 * The report's tables of policies side by side, from what `compare` and
 * `tune` compute (the same objects their `--json` prints). Each cell keeps
 * the JSON value beside the text shown, so the page can be checked against
 * the JSON.
 */
import type { Comparison } from '../sim/compare.js';
import { metricByKey, type Measure, type MetricUnit } from '../sim/policyMetrics.js';
import type { CandidateFigures, TuneResult } from '../sim/tune.js';
import { count, duration, percent } from './html.js';
import { REPORT_FORMAT, type CompareCell, type CompareTable, type CompareTableRow, type ReportModel } from './model.js';

/** `compare`: one row a metric, one column a policy, the best of each row marked. */
export function comparisonTable(comparison: Comparison): CompareTable {
  const last = comparison.seed + comparison.runs - 1;
  const rows: CompareTableRow[] = comparison.rows.map((row) => {
    const better = row.better === null ? '' : row.better === 'lower' ? ' (lower is better)' : ' (higher is better)';
    const release = comparison.releases !== null && row.metric.startsWith('duration') ? ', good release' : '';
    return {
      label: `${row.label}${release}${better}`,
      key: row.metric,
      cells: row.values.map((cell, index) => (cell === null ? null : { shown: valueText(row.unit, cell.value), value: cell.value, best: row.best.includes(index) })),
    };
  });
  const releases = Object.keys(comparison.policies[0]?.outcomes ?? {});
  for (const release of releases) {
    rows.push({
      label: `outcomes, ${release}`,
      key: `outcomes.${release}`,
      cells: comparison.policies.map((policy) => {
        const outcomes = policy.outcomes[release] ?? {};
        return { shown: Object.entries(outcomes).map(([outcome, runs]) => `${outcome} ${count(runs)}`).join(', '), value: JSON.stringify(outcomes) };
      }),
    });
  }
  return {
    name: 'compare',
    title: `${comparison.policies.length} ${comparison.policies.length === 1 ? 'policy' : 'policies'} on the same draws · ${count(comparison.runs)} runs per release case · seeds ${comparison.seed}–${last}`,
    columns: comparison.policies.map((policy) => `${policy.label} (${policy.strategy})`),
    rows,
    note: 'Bold with * : the best in its row (ties share it; none when all are equal). Durations are of the good release, exposure and detection of the bad one; 95% intervals are in --json.',
  };
}

/** `tune`: the policies that matter, fastest within budget first: winner, runner-up (or the nearest miss), then the Pareto front. */
export function tuneRanking(result: TuneResult): CompareTable {
  const ranked: Array<{ key: string; role: string; figures: CandidateFigures }> = [];
  if (result.winner !== null) ranked.push({ key: 'winner', role: 'fastest within budget', figures: result.winner });
  if (result.runner_up !== null) ranked.push({ key: 'runner_up', role: 'runner-up', figures: result.runner_up });
  if (result.nearest_miss !== null) ranked.push({ key: 'nearest_miss', role: 'nearest miss (no policy meets the budget)', figures: result.nearest_miss });
  result.pareto.forEach((figures, index) => ranked.push({ key: `pareto.${index}`, role: 'Pareto front', figures }));
  const measured = (key: string, measure: Measure | null): CompareCell | null =>
    measure === null ? null : { shown: valueText(metricByKey(key)?.unit ?? 'nodes', measure.value), value: measure.value };
  return {
    name: 'ranking',
    title: `Policies ranked · ${count(result.candidates)} searched · objective ${result.objective}, lower is faster`,
    columns: ['status', result.objective, ...result.budgets, 'exposed_pct_p99 (bad release)'],
    rows: ranked.map(({ key, role, figures }) => ({
      label: `${role}: ${describeValues(figures)}`,
      key,
      cells: [
        { shown: figures.status.replace(/_/g, ' '), value: figures.status },
        measured(result.objective, figures.objective),
        ...figures.budgets.map((entry): CompareCell | null => {
          const cell = measured(entry.metric, entry.measure);
          const mark = entry.met === null ? '?' : entry.met ? 'ok' : 'MISS';
          return cell === null ? null : { ...cell, shown: `${cell.shown} ${mark}` };
        }),
        measured('exposed_pct_p99', figures.exposure),
      ],
    })),
    note: `Budgets: ${result.budgets.join(', ')}. A budget cell reads ok when met, MISS when not, ? when more runs were needed. ${count(result.simulated_runs)} runs simulated in all.`,
  };
}

/** The searched fields of a candidate, `canary_percent=5 max_parallel=20`. */
function describeValues(figures: CandidateFigures): string {
  const parts = Object.entries(figures.values).map(([field, value]) => `${field}=${String(value)}`);
  return parts.length === 0 ? String(figures.deployment.strategy) : parts.join(' ');
}

function valueText(unit: MetricUnit, value: number): string {
  switch (unit) {
    case 'seconds':
      return duration(value);
    case 'nodes':
      return count(value);
    case 'percent':
      return `${value}%`;
    case 'rate':
      return percent(value);
  }
}

/** A page holding only tables of policies (`compare --report`, `tune --report`). */
export function policiesReport(title: string, description: string | null, tables: CompareTable[]): ReportModel {
  return { format: REPORT_FORMAT, title, description, run: null, monteCarlo: null, compare: tables };
}
