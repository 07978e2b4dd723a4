/**
 * `tune`: the fastest policy of a space (tuneSpace.ts) that meets every risk
 * budget (budgets.ts), on common random numbers (policyRuns.ts).
 *
 * The search runs in rounds of growing run counts (8, 16, 32 ... up to
 * `runs` per release case). In each round the bad release runs first (cheap:
 * a caught bad release stops early), then the good one, and after each step
 * a candidate stops as soon as it is surely out (sequential testing):
 * - out of budget: the 95% interval of a budget metric lies wholly past the
 *   limit, so more runs would not bring it back;
 * - slower: the lower bound of its objective (duration p50 by default) is
 *   above the upper bound of the second-fastest candidate within budget, so
 *   it can be neither the winner nor the runner-up.
 * Candidates still in at the end have `runs` runs of each case; the winner is
 * the one with the best objective whose figures meet every budget. Every
 * candidate gets a couple of good-release runs, out of budget or not, so the
 * Pareto front of duration against exposure covers the whole space.
 */
import { excess, meets, surelyMisses, type Budget } from './budgets.js';
import { caseView } from './compare.js';
import { metricByKey, type CaseView, type Measure, type Metric } from './policyMetrics.js';
import { createPolicyRunner, playedCases, type RunRecord, type RunTask } from './policyRuns.js';
import type { Scenario } from './scenario.js';
import type { Candidate } from './tuneSpace.js';

export const TUNE_FORMAT = 1;

export interface TuneOptions {
  budgets: readonly Budget[];
  /** A lower-is-better metric; default duration_p50. */
  objective?: Metric;
  /** Runs per release case for a candidate that stays in. */
  runs: number;
  seed: number;
  threads?: number;
  onRuns?: (runs: number) => void;
  /** After each step: candidates still in, and an upper bound of the runs left. */
  onStep?: (alive: number, runsLeft: number) => void;
}

export type CandidateStatus = 'meets' | 'misses' | 'out_of_budget' | 'slower';

export interface CandidateFigures {
  deployment: Record<string, unknown>;
  values: Record<string, string | number | boolean>;
  status: CandidateStatus;
  /** The budget that put it out, for `out_of_budget` and `misses`. */
  reason: string | null;
  /** Runs per release case. */
  runs: Record<string, number>;
  objective: Measure | null;
  /** Each budget as written, the metric it reads, whether the figures meet it (null: no data), and the figure. */
  budgets: Array<{ budget: string; metric: string; met: boolean | null; measure: Measure | null }>;
  /** For the Pareto front: duration against exposure of a bad release. */
  exposure: Measure | null;
}

export interface TuneResult {
  format: typeof TUNE_FORMAT;
  seed: number;
  objective: string;
  budgets: string[];
  candidates: number;
  /** Nodes the job targets (exposure percentages are of these). */
  targeted: number;
  /** Runs simulated in all (every case of every candidate). */
  simulated_runs: number;
  max_runs: number;
  winner: CandidateFigures | null;
  runner_up: CandidateFigures | null;
  /** When no policy meets the budget: the one that came closest. */
  nearest_miss: CandidateFigures | null;
  /** Non-dominated candidates by objective and exposure p99, fastest first. */
  pareto: CandidateFigures[];
  statuses: Record<CandidateStatus, number>;
}

const FIRST_ROUND_RUNS = 4;
const TASK_RUNS = 4;
/** Good-release runs every candidate gets, even one already out of budget, so it has a place on the Pareto front. */
const FRONT_RUNS = 2;

interface State {
  candidate: Candidate;
  records: RunRecord[][];
  alive: boolean;
  status: CandidateStatus | null;
  reason: string | null;
}

export async function tune(scenario: Scenario, candidates: readonly Candidate[], options: TuneOptions): Promise<TuneResult> {
  const objective = options.objective ?? metricByKey('duration_p50')!;
  const cases = playedCases(scenario);
  const badFirst = orderOfCases(cases.map((played) => played.name));
  const states: State[] = candidates.map((candidate) => ({ candidate, records: cases.map(() => []), alive: true, status: null, reason: null }));
  const view = (state: State): CaseView => caseView(cases, state.records);
  const runner = createPolicyRunner({ scenario, jobs: candidates.map((c) => c.job), seed: options.seed }, { threads: options.threads, onRuns: options.onRuns });
  let simulated = 0;
  const runsLeft = (): number => {
    let left = 0;
    for (const state of states) if (state.alive) for (const records of state.records) left += Math.max(0, options.runs - records.length);
    return left;
  };
  try {
    for (const target of roundTargets(options.runs)) {
      for (let step = 0; step < badFirst.length; step += 1) {
        const release = badFirst[step]!;
        const alive = states.flatMap((state, index) => (state.alive ? [index] : []));
        const tasks: RunTask[] = [];
        for (const policy of alive) {
          for (let from = states[policy]!.records[release]!.length; from < target; from += TASK_RUNS) tasks.push({ policy, release, from, to: Math.min(target, from + TASK_RUNS) });
        }
        if (cases[release]!.name !== 'bad') {
          states.forEach((state, policy) => {
            const have = state.records[release]!.length;
            if (!state.alive && have < FRONT_RUNS) tasks.push({ policy, release, from: have, to: FRONT_RUNS });
          });
        }
        const results = await runner.run(tasks);
        tasks.forEach((task, index) => {
          states[task.policy]!.records[release]!.push(...results[index]!);
          simulated += results[index]!.length;
        });
        for (const policy of alive) dropIfOut(states[policy]!, view(states[policy]!), options.budgets);
        dropSlower(states, view, objective, options.budgets);
        options.onStep?.(states.filter((state) => state.alive).length, runsLeft());
      }
    }
  } finally {
    await runner.close();
  }

  const figures = states.map((state) => figuresOf(state, view(state), cases.map((played) => played.name ?? 'release'), objective, options.budgets));
  const inBudget = figures
    .filter((figure) => figure.status === 'meets' && figure.objective !== null)
    .sort((a, b) => a.objective!.value - b.objective!.value);
  const statuses: Record<CandidateStatus, number> = { meets: 0, misses: 0, out_of_budget: 0, slower: 0 };
  for (const figure of figures) statuses[figure.status] += 1;
  return {
    format: TUNE_FORMAT,
    seed: options.seed,
    objective: objective.key,
    budgets: options.budgets.map((budget) => budget.text),
    candidates: candidates.length,
    targeted: states.find((state) => state.records.some((records) => records.length > 0))?.records.find((records) => records.length > 0)?.[0]?.targeted ?? 0,
    simulated_runs: simulated,
    max_runs: options.runs,
    winner: inBudget[0] ?? null,
    runner_up: inBudget[1] ?? null,
    nearest_miss: inBudget.length > 0 ? null : nearestMiss(figures, options.budgets),
    pareto: paretoFront(figures),
    statuses,
  };
}

/** Bad release first: its runs are cheap and settle the exposure budgets. */
function orderOfCases(names: ReadonlyArray<string | null>): number[] {
  const order = names.map((_, index) => index);
  return order.sort((a, b) => Number(names[b] === 'bad') - Number(names[a] === 'bad'));
}

export function roundTargets(runs: number): number[] {
  const targets: number[] = [];
  for (let target = FIRST_ROUND_RUNS; target < runs; target *= 2) targets.push(target);
  targets.push(runs);
  return targets;
}

function dropIfOut(state: State, view: CaseView, budgets: readonly Budget[]): void {
  if (!state.alive) return;
  for (const budget of budgets) {
    const measure = budget.metric.measure(view);
    if (measure !== null && surelyMisses(budget, measure.interval)) {
      state.alive = false;
      state.status = 'out_of_budget';
      state.reason = `${budget.text}: ${budget.metric.key} ${measure.value} (95% interval ${intervalText(measure)}) over ${measure.runs} runs`;
      return;
    }
  }
}

function dropSlower(states: State[], view: (state: State) => CaseView, objective: Metric, budgets: readonly Budget[]): void {
  const contenders = states
    .filter((state) => state.alive)
    .map((state) => ({ state, measure: objective.measure(view(state)) }))
    .filter((entry): entry is { state: State; measure: Measure } => entry.measure !== null);
  const within = contenders
    .filter(({ state }) => budgets.every((budget) => {
      const measure = budget.metric.measure(view(state));
      return measure === null || meets(budget, measure.value);
    }))
    .sort((a, b) => a.measure.value - b.measure.value);
  const second = within[1]?.measure.interval.high;
  if (second === undefined || second === null) return;
  for (const { state, measure } of contenders) {
    if (measure.interval.low !== null && measure.interval.low > second) {
      state.alive = false;
      state.status = 'slower';
      state.reason = `${objective.key} at least ${measure.interval.low}, above two policies within budget (<= ${second})`;
    }
  }
}

function figuresOf(state: State, view: CaseView, caseNames: string[], objective: Metric, budgets: readonly Budget[]): CandidateFigures {
  const measured = budgets.map((budget) => {
    const measure = budget.metric.measure(view);
    return { budget: budget.text, metric: budget.metric.key, met: measure === null ? null : meets(budget, measure.value), measure };
  });
  let status = state.status;
  let reason = state.reason;
  if (status === null) {
    const missed = measured.find((entry) => entry.met === false);
    status = missed === undefined ? 'meets' : 'misses';
    if (missed !== undefined) reason = `${missed.budget}: ${missed.measure!.value}`;
  }
  const exposure = metricByKey('exposed_pct_p99')!.measure(view);
  return {
    deployment: state.candidate.deployment,
    values: state.candidate.values,
    status,
    reason,
    runs: Object.fromEntries(caseNames.map((name, index) => [name, state.records[index]!.length])),
    objective: objective.measure(view),
    budgets: measured,
    exposure,
  };
}

function nearestMiss(figures: readonly CandidateFigures[], budgets: readonly Budget[]): CandidateFigures | null {
  let best: { figure: CandidateFigures; distance: number } | null = null;
  for (const figure of figures) {
    let distance = 0;
    figure.budgets.forEach((entry, index) => {
      if (entry.measure !== null) distance = Math.max(distance, excess(budgets[index]!, entry.measure.value));
    });
    const tie = best !== null && distance === best.distance && (figure.objective?.value ?? Infinity) < (best.figure.objective?.value ?? Infinity);
    if (best === null || distance < best.distance || tie) best = { figure, distance };
  }
  return best?.figure ?? null;
}

/** Candidates no other beats on both objective and exposure p99 (ties kept once, fastest first). */
export function paretoFront(figures: readonly CandidateFigures[]): CandidateFigures[] {
  const points = figures.filter((figure) => figure.objective !== null && figure.exposure !== null);
  const front = points.filter((a) =>
    !points.some((b) => b !== a && b.objective!.value <= a.objective!.value && b.exposure!.value <= a.exposure!.value && (b.objective!.value < a.objective!.value || b.exposure!.value < a.exposure!.value)),
  );
  const seen = new Set<string>();
  return front
    .sort((a, b) => a.objective!.value - b.objective!.value || a.exposure!.value - b.exposure!.value)
    .filter((figure) => {
      const key = `${figure.objective!.value}/${figure.exposure!.value}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

function intervalText(measure: Measure): string {
  const side = (value: number | null): string => (value === null ? '?' : String(value));
  return `${side(measure.interval.low)}..${side(measure.interval.high)}`;
}
