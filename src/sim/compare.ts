/**
 * `compare`: several policies on the same random draws (policyRuns.ts), side
 * by side, one row per metric (policyMetrics.ts), the best value of each row
 * marked. Ties share the mark; a row where all policies are equal marks none.
 */
import type { JobSpec } from '../spec/types.js';
import type { Interval } from './confidence.js';
import { METRICS, type CaseView, type MetricUnit } from './policyMetrics.js';
import { createPolicyRunner, playedCases, type PlayedCase, type RunRecord, type RunTask } from './policyRuns.js';
import type { Scenario } from './scenario.js';

export const COMPARE_FORMAT = 1;

export interface PolicyInput {
  /** How the policy is shown: its file name. */
  label: string;
  job: JobSpec;
}

export interface CompareOptions {
  runs: number;
  seed: number;
  threads?: number;
  onRuns?: (runs: number) => void;
}

export interface Cell {
  value: number;
  low: number | null;
  high: number | null;
  runs: number;
}

export interface CompareRow {
  metric: string;
  label: string;
  unit: MetricUnit;
  better: 'lower' | 'higher' | null;
  /** One per policy, in the order given; null when the metric does not apply (no run failed, no such case). */
  values: Array<Cell | null>;
  /** Indexes of the policies with the best value; empty when all are equal or nothing is better. */
  best: number[];
}

export interface Comparison {
  format: typeof COMPARE_FORMAT;
  seed: number;
  /** Runs per policy and release case; run i of every policy used seed + i. */
  runs: number;
  releases: Array<{ name: string; probability: number | null }> | null;
  policies: Array<{ label: string; strategy: string; outcomes: Record<string, Record<string, number>> }>;
  rows: CompareRow[];
}

/** Runs in tasks of this many, so the threads stay balanced. */
const TASK_RUNS = 16;

export async function comparePolicies(scenario: Scenario, policies: readonly PolicyInput[], options: CompareOptions): Promise<Comparison> {
  const cases = playedCases(scenario);
  const tasks: RunTask[] = [];
  for (let policy = 0; policy < policies.length; policy += 1) {
    for (let release = 0; release < cases.length; release += 1) {
      for (let from = 0; from < options.runs; from += TASK_RUNS) tasks.push({ policy, release, from, to: Math.min(options.runs, from + TASK_RUNS) });
    }
  }
  const runner = createPolicyRunner({ scenario, jobs: policies.map((policy) => policy.job), seed: options.seed }, { threads: options.threads, onRuns: options.onRuns });
  let results: RunRecord[][];
  try {
    results = await runner.run(tasks);
  } finally {
    await runner.close();
  }
  const records: RunRecord[][][] = policies.map(() => cases.map(() => []));
  tasks.forEach((task, index) => records[task.policy]![task.release]!.push(...results[index]!));
  const views = records.map((byCase) => caseView(cases, byCase));
  return {
    format: COMPARE_FORMAT,
    seed: options.seed,
    runs: options.runs,
    releases: scenario.releases === null ? null : cases.map((played) => ({ name: played.name!, probability: played.probability })),
    policies: policies.map((policy, index) => ({
      label: policy.label,
      strategy: policy.job.deployment.strategy,
      outcomes: Object.fromEntries(cases.map((played, c) => [played.name ?? 'release', outcomeCounts(records[index]![c]!)])),
    })),
    rows: compareRows(views),
  };
}

export function caseView(cases: readonly PlayedCase[], byCase: ReadonlyArray<readonly RunRecord[]>): CaseView {
  const named = cases[0]?.name !== null;
  const of = (name: 'good' | 'bad'): readonly RunRecord[] | null => {
    if (!named) return byCase[0] ?? null;
    const index = cases.findIndex((played) => played.name === name);
    return index < 0 ? null : byCase[index]!;
  };
  const good = cases.find((played) => played.name === 'good')?.probability;
  const bad = cases.find((played) => played.name === 'bad')?.probability;
  return { good: of('good'), bad: of('bad'), named, probability: good != null && bad != null ? { good, bad } : null };
}

export function compareRows(views: readonly CaseView[]): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const metric of METRICS) {
    const values = views.map((view): Cell | null => {
      const measure = metric.measure(view);
      return measure === null ? null : { value: measure.value, ...intervalOf(measure.interval), runs: measure.runs };
    });
    if (values.every((value) => value === null)) continue;
    const better = views.length === 0 ? null : metric.better(views[0]!);
    rows.push({ metric: metric.key, label: metric.label.trim(), unit: metric.unit, better, values, best: bestOf(values, better) });
  }
  return rows;
}

function intervalOf(interval: Interval): { low: number | null; high: number | null } {
  return { low: interval.low, high: interval.high };
}

function bestOf(values: ReadonlyArray<Cell | null>, better: CompareRow['better']): number[] {
  if (better === null) return [];
  const present = values.flatMap((cell, index) => (cell === null ? [] : [{ index, value: cell.value }]));
  if (present.length < 2) return [];
  const best = better === 'lower' ? Math.min(...present.map((p) => p.value)) : Math.max(...present.map((p) => p.value));
  const winners = present.filter((p) => p.value === best).map((p) => p.index);
  return winners.length === values.length ? [] : winners;
}

function outcomeCounts(records: readonly RunRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) counts[record.outcome] = (counts[record.outcome] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}
