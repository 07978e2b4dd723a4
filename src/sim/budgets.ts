/**
 * Risk budgets for `tune`: `METRIC OP VALUE`, e.g. `exposed_p99<=2%`,
 * `false_abort<=1%`, `detect_p99<=10m`. OP is `<=`, `<`, `>=` or `>`. A rate
 * takes a percentage or a fraction (`1%`, `0.01`); `exposed_p50`/`exposed_p99`
 * take nodes, or a percentage of the targeted nodes (`2%` reads the
 * `exposed_pct_*` metric); times take a Go duration or seconds.
 */
import { parseDurationMs } from '../spec/duration.js';
import { closestName } from '../spec/suggest.js';
import { METRIC_KEYS, metricByKey, type Metric } from './policyMetrics.js';

export type Comparison = '<=' | '<' | '>=' | '>';

export interface Budget {
  /** As written. */
  text: string;
  metric: Metric;
  op: Comparison;
  /** In the metric's unit (a rate as a fraction, a percent as 0..100, seconds). */
  limit: number;
}

export type BudgetParse = { ok: true; budget: Budget } | { ok: false; message: string };

const PATTERN = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>|=<|=>)\s*(.+?)\s*$/;

export function parseBudget(text: string): BudgetParse {
  const match = PATTERN.exec(text);
  if (match === null) return { ok: false, message: 'expected METRIC<=VALUE, e.g. exposed_p99<=2% or false_abort<=1%' };
  const [, name, rawOp, rawValue] = match as unknown as [string, string, string, string];
  const op = (rawOp === '=<' ? '<=' : rawOp === '=>' ? '>=' : rawOp) as Comparison;
  const percent = rawValue.endsWith('%');
  const metricKey = percent && /^exposed_p(50|99)$/.test(name) ? name.replace('exposed_', 'exposed_pct_') : name;
  const metric = metricByKey(metricKey);
  if (metric === undefined) {
    const hint = closestName(name, METRIC_KEYS);
    return { ok: false, message: `unknown metric "${name}"${hint === undefined ? '' : `; did you mean "${hint}"?`} (metrics: ${METRIC_KEYS.join(', ')})` };
  }
  const limit = readLimit(metric, rawValue, percent);
  if (typeof limit === 'string') return { ok: false, message: limit };
  const impossible = impossibility(metric, op, limit);
  if (impossible !== null) return { ok: false, message: impossible };
  return { ok: true, budget: { text: text.trim(), metric, op, limit } };
}

function readLimit(metric: Metric, raw: string, percent: boolean): number | string {
  const numberText = percent ? raw.slice(0, -1).trim() : raw;
  const number = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(numberText) ? Number(numberText) : Number.NaN;
  switch (metric.unit) {
    case 'rate':
      if (Number.isNaN(number)) return `expected a rate such as 1% or 0.01, found "${raw}"`;
      return percent ? number / 100 : number;
    case 'percent':
      if (Number.isNaN(number)) return `expected a percentage of the targeted nodes such as 2%, found "${raw}"`;
      return number;
    case 'nodes':
      if (percent) return `${metric.key} counts nodes: write a number, or a percentage on exposed_p50/exposed_p99`;
      if (Number.isNaN(number)) return `expected a number of nodes, found "${raw}"`;
      return number;
    case 'seconds': {
      if (percent) return `${metric.key} is a time: write a duration such as 10m or 90s`;
      if (!Number.isNaN(number)) return number;
      try {
        return parseDurationMs(raw) / 1000;
      } catch (error) {
        return `expected a duration such as 10m or 90s, found "${raw}" (${(error as Error).message})`;
      }
    }
  }
}

/** A budget no policy can meet, or that every policy meets, is a mistake in the command. */
function impossibility(metric: Metric, op: Comparison, limit: number): string | null {
  const max = metric.unit === 'rate' ? 1 : metric.unit === 'percent' ? 100 : Number.POSITIVE_INFINITY;
  const shown = metric.unit === 'rate' ? `${limit * 100}%` : metric.unit === 'percent' ? `${limit}%` : String(limit);
  const range = metric.unit === 'rate' ? '0% to 100%' : metric.unit === 'percent' ? '0% to 100% of the targeted nodes' : 'at least 0';
  if (!Number.isFinite(limit) || limit < 0 || limit > max) return `${metric.key} ${op} ${shown} is impossible: ${metric.key} is ${range}`;
  if ((op === '<' && limit === 0) || (op === '>' && limit === max)) return `${metric.key} ${op} ${shown} is impossible: ${metric.key} is ${range}`;
  return null;
}

/** Whether `value` meets the budget. */
export function meets(budget: Budget, value: number): boolean {
  switch (budget.op) {
    case '<=':
      return value <= budget.limit;
    case '<':
      return value < budget.limit;
    case '>=':
      return value >= budget.limit;
    case '>':
      return value > budget.limit;
  }
}

/** Whether the whole 95% interval is on the wrong side of the limit: more runs would not bring the policy within budget. */
export function surelyMisses(budget: Budget, interval: { low: number | null; high: number | null }): boolean {
  const upper = budget.op === '<=' || budget.op === '<';
  const bound = upper ? interval.low : interval.high;
  return bound !== null && !meets(budget, bound);
}

/** How far past the limit, relative to it (0 when met): ranks the nearest misses. */
export function excess(budget: Budget, value: number): number {
  if (meets(budget, value)) return 0;
  const scale = Math.max(Math.abs(budget.limit), budget.metric.unit === 'rate' ? 0.001 : 1);
  return Math.abs(value - budget.limit) / scale;
}
