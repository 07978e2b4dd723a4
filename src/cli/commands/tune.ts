/**
 * `tune SCENARIO --budget 'exposed_p99<=2%' ... [--vary FIELD=VALUES ...] [--runs N] [--seed N] [--objective METRIC] [--json]`:
 * the fastest policy within every risk budget (src/sim/tune.ts); `--report
 * FILE.html` also writes the ranking as a page (src/report).
 */
import { policiesReport, renderReport, tuneRanking } from '../../report/index.js';
import { parseBudget, type Budget } from '../../sim/budgets.js';
import { caseView } from '../../sim/compare.js';
import { metricByKey, METRIC_KEYS, type Metric } from '../../sim/policyMetrics.js';
import { playedCases, type RunRecord } from '../../sim/policyRuns.js';
import { ScenarioRunError } from '../../sim/run.js';
import type { Scenario } from '../../sim/scenario.js';
import { tune } from '../../sim/tune.js';
import { buildSpace, defaultVaries, parseVary, targetedCount, type Vary } from '../../sim/tuneSpace.js';
import { closestName } from '../../spec/suggest.js';
import { ExitCode, InputError, reportError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { tuneJson, tuneReport } from '../print/tune.js';
import { progressOn } from '../progress.js';
import { openReportFile } from '../reportFile.js';
import { readScenario } from '../scenarioInput.js';
import { checkRunCount } from './compare.js';

export interface TuneArgs {
  scenario: string;
  budgets: string[];
  varies: string[];
  runs?: number;
  seed?: number;
  objective?: string;
  json: boolean;
  /** Also write the ranking as an HTML page here. */
  report?: string;
}

export const DEFAULT_TUNE_RUNS = 100;

export async function tuneCommand(args: TuneArgs, io: CliIO): Promise<number> {
  try {
    return await tuneScenario(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

async function tuneScenario(args: TuneArgs, io: CliIO): Promise<number> {
  if (args.budgets.length === 0) throw new UsageError("tune needs at least one --budget, e.g. --budget 'exposed_p99<=2%' --budget 'false_abort<=1%'");
  const budgets = args.budgets.map((text) => {
    const parsed = parseBudget(text);
    if (!parsed.ok) throw new UsageError(`--budget '${text}': ${parsed.message}`);
    return parsed.budget;
  });
  const objective = objectiveOf(args.objective);
  const varies = args.varies.map((text) => {
    const parsed = parseVary(text);
    if (!parsed.ok) throw new UsageError(`--vary '${text}': ${parsed.message}`);
    return parsed.vary;
  });
  const loaded = await readScenario(args.scenario, io);
  if (loaded === null) return ExitCode.BadInput;
  const { scenario, source, inputs } = loaded;
  checkMeasurable(scenario, budgets, objective);
  const searched = varies.length > 0 ? varies : defaultVaries(scenario.job, targetedCount(scenario.job, scenario.fleet));
  const space = buildSpace(scenario.job, searched);
  if (!space.ok) throw new UsageError(space.message);
  if (space.candidates.length === 0) {
    throw new UsageError(`no combination of the --vary values is a valid policy for ${source}'s job${space.firstInvalid === null ? '' : ` (e.g. ${space.firstInvalid})`}`);
  }
  const runs = args.runs ?? DEFAULT_TUNE_RUNS;
  const seed = args.seed ?? scenario.seed;
  const cases = playedCases(scenario).length;
  checkRunCount(seed, runs, space.candidates.length * cases);

  const reportFile = args.report === undefined ? null : openReportFile(args.report, inputs, io);
  const progress = progressOn(io, 'tuning');
  let done = 0;
  let left = space.candidates.length * cases * runs;
  let alive = space.candidates.length;
  const note = (): string => `(${alive}/${space.candidates.length} policies in)`;
  const started = performance.now();
  try {
    const result = await tune(scenario, space.candidates, {
      budgets,
      objective,
      runs,
      seed,
      onRuns: (n) => {
        done += n;
        left = Math.max(0, left - n);
        progress.update(done, done + left, note());
      },
      onStep: (stillIn, runsLeft) => {
        alive = stillIn;
        left = runsLeft;
        progress.update(done, done + left, note());
      },
    }).finally(() => progress.stop());
    const seconds = (performance.now() - started) / 1000;
    const summary = { combinations: space.combinations, invalid: space.invalid, duplicates: space.duplicates, varied: searched.map(describeVary) };
    reportFile?.write(renderReport(policiesReport(source, scenario.description, [tuneRanking(result)])));
    io.stdout.write(args.json ? tuneJson(result, summary, seconds) : tuneReport(source, scenario.description, result, summary, seconds, colorsFor(io.stdout, io.env)));
    return ExitCode.Ok;
  } catch (error) {
    reportFile?.discard();
    if (error instanceof ScenarioRunError) throw InputError.single(source, error.message, error.path);
    throw error;
  }
}

function describeVary(vary: Vary): string {
  return `${vary.field}=${vary.values.join(',')}`;
}

function objectiveOf(name: string | undefined): Metric | undefined {
  if (name === undefined) return undefined;
  const metric = metricByKey(name);
  if (metric === undefined) {
    const hint = closestName(name, METRIC_KEYS);
    throw new UsageError(`--objective '${name}': unknown metric${hint === undefined ? '' : `; did you mean "${hint}"?`} (metrics: ${METRIC_KEYS.join(', ')})`);
  }
  if (metric.better({ good: null, bad: null, named: true, probability: null }) !== 'lower') {
    throw new UsageError(`--objective '${name}': tune minimizes its objective; ${name} is better when higher`);
  }
  return metric;
}

/** A budget the scenario cannot measure (a false-abort rate without a good release case) is a mistake in the command. */
function checkMeasurable(scenario: Scenario, budgets: readonly Budget[], objective: Metric | undefined): void {
  const cases = playedCases(scenario);
  const probe: RunRecord = { outcome: 'completed', duration_s: 1, waiting_s: 0, exposed: 1, targeted: 1, time_to_detect_s: 1, failed: false, rolled_back: false, revert_failed: 0 };
  const view = caseView(cases, cases.map(() => [probe]));
  const names = cases.map((played) => played.name ?? 'one behavior').join(', ');
  for (const metric of [...budgets.map((budget) => budget.metric), ...(objective === undefined ? [] : [objective])]) {
    if (metric.measure(view) === null) {
      const needs = metric.key === 'rollback_rate_all' ? 'both release cases with their probabilities' : metric.key === 'false_abort' ? 'a good release case (releases.good)' : 'a bad release case (releases.bad)';
      throw new UsageError(`${metric.key} needs ${needs}; the scenario has ${scenario.releases === null ? 'no release cases' : `only ${names}`}`);
    }
  }
}
