/** Output of `tune`: the JSON (`format`), or the winner as a pasteable `deployment` block with its figures, the runner-up and the Pareto front. */
import { stringify } from 'yaml';
import { metricByKey, type Measure } from '../../sim/policyMetrics.js';
import type { CandidateFigures, TuneResult } from '../../sim/tune.js';
import type { Colors } from './colors.js';
import { valueText } from './compare.js';
import { jsonOutput } from './json.js';

export interface SpaceSummary {
  /** Combinations of the --vary values (or the defaults). */
  combinations: number;
  /** Combinations that are not valid JobSpecs (skipped). */
  invalid: number;
  /** Combinations that paste as the same block as an earlier one. */
  duplicates: number;
  varied: string[];
}

export function tuneJson(result: TuneResult, space: SpaceSummary, seconds: number): string {
  return jsonOutput({ ...result, space, elapsed_s: Math.round(seconds * 10) / 10 });
}

export function tuneReport(source: string, description: string | null, result: TuneResult, space: SpaceSummary, seconds: number, colors: Colors): string {
  const lines = [
    colors.bold(`${source} · ${result.candidates} policies · up to ${result.max_runs} runs per release case · seeds ${result.seed}.. · ${seconds.toFixed(1)} s`),
    ...(description === null ? [] : [colors.dim(description)]),
    colors.dim(`budgets: ${result.budgets.join(', ')} · objective: ${result.objective} (lower is faster)`),
    colors.dim(`searched: ${space.varied.join(' ')}`),
    '',
  ];
  if (result.winner === null) {
    lines.push(colors.yellow(colors.bold('no policy meets the budget')));
    if (result.nearest_miss !== null) {
      lines.push('', colors.bold('nearest miss:'), ...candidateBlock(result.nearest_miss, result, colors));
    }
  } else {
    lines.push(colors.bold('fastest policy within budget (paste as the job\'s deployment block):'), '');
    lines.push(...stringify({ deployment: result.winner.deployment }).trimEnd().split('\n').map((line) => `  ${line}`), '');
    lines.push(...candidateBlock(result.winner, result, colors));
    if (result.runner_up !== null) {
      lines.push('', colors.bold(`runner-up: ${oneLine(result.runner_up)}`), ...candidateBlock(result.runner_up, result, colors));
    }
  }
  if (result.pareto.length > 0) {
    lines.push('', colors.bold(`Pareto front: ${result.objective} against exposed p99 of a bad release (no policy is better on both)`));
    for (const figure of result.pareto) {
      const status = figure.status === 'meets' ? colors.green('within budget') : colors.dim(figure.status.replace(/_/g, ' '));
      lines.push(`  ${measureText(result.objective, figure.objective).padStart(9)}  ${measureText('exposed_pct_p99', figure.exposure).padStart(7)}  ${oneLine(figure)}  ${status}`);
    }
  }
  const s = result.statuses;
  lines.push('', colors.dim(`${result.candidates} policies (${space.combinations} combinations, ${space.invalid} not valid, ${space.duplicates} duplicates): ${s.meets} within budget, ${s.misses} missed it after every run, ${s.out_of_budget} out of budget early, ${s.slower} stopped as slower; ${result.simulated_runs} runs simulated`));
  lines.push(colors.dim('Intervals are 95%: Wilson for rates, order statistics for percentiles ("?" = more runs needed to bound it).'));
  return `${lines.join('\n')}\n`;
}

function candidateBlock(figure: CandidateFigures, result: TuneResult, colors: Colors): string[] {
  const runs = Object.entries(figure.runs).map(([release, n]) => `${n} ${release}`).join(', ');
  const lines = [`  ${result.objective}: ${withInterval(result.objective, figure.objective)}   runs: ${runs}`];
  for (const entry of figure.budgets) {
    const mark = entry.met === null ? '?' : entry.met ? colors.green('ok') : colors.red('MISS');
    lines.push(`  ${entry.budget.padEnd(24)} ${mark.padEnd(4)} ${withInterval(entry.metric, entry.measure)}`);
  }
  if (figure.reason !== null && figure.status !== 'meets') lines.push(colors.dim(`  ${figure.reason}`));
  return lines;
}

function withInterval(key: string, measure: Measure | null): string {
  if (measure === null) return 'no data';
  const show = (value: number | null): string => (value === null ? '?' : measureValue(key, value));
  return `${measureValue(key, measure.value)} (95%: ${show(measure.interval.low)}..${show(measure.interval.high)}, ${measure.runs} runs)`;
}

function measureText(key: string, measure: Measure | null): string {
  return measure === null ? '-' : measureValue(key, measure.value);
}

function measureValue(key: string, value: number): string {
  const unit = metricByKey(key)?.unit ?? 'nodes';
  return valueText(unit, value);
}

/** `canary 2% · window 50 · fail >5 or >5% · healthy 1m` */
export function oneLine(figure: CandidateFigures): string {
  const d = figure.deployment as Record<string, unknown> & { health_check?: Record<string, unknown> };
  const parts = [String(d.strategy)];
  if (d.canary_percent !== undefined) parts[0] += ` ${d.canary_percent}%`;
  if (d.canary_count !== undefined) parts[0] += ` ${d.canary_count} nodes`;
  if (d.max_parallel !== undefined) parts.push(`window ${d.max_parallel}`);
  parts.push(`fail >${d.max_failed_nodes} or >${d.max_failed_nodes_percent}%`);
  if (d.health_check !== undefined) parts.push(`healthy ${d.health_check.min_healthy_time}`);
  return parts.join(' · ');
}
