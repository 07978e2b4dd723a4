/**
 * `compare SCENARIO --policy A.yaml --policy B.yaml ... [--runs N] [--seed N] [--json]`:
 * every policy on the same random draws, side by side (src/sim/compare.ts);
 * `--report FILE.html` also writes the table as a page (src/report).
 */
import { basename } from 'node:path';
import { comparisonTable, policiesReport, renderReport } from '../../report/index.js';
import { comparePolicies, type PolicyInput } from '../../sim/compare.js';
import { playedCases } from '../../sim/policyRuns.js';
import { ScenarioRunError } from '../../sim/run.js';
import { ExitCode, InputError, reportError, UsageError } from '../errors.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { compareJson, compareReport } from '../print/compare.js';
import { progressOn } from '../progress.js';
import { openReportFile } from '../reportFile.js';
import { readPolicy, readScenario } from '../scenarioInput.js';

export interface CompareArgs {
  scenario: string;
  policies: string[];
  runs?: number;
  seed?: number;
  json: boolean;
  /** Also write the comparison as an HTML page here. */
  report?: string;
}

export const DEFAULT_COMPARE_RUNS = 200;
/** Runs in all (policies x release cases x runs): beyond this a comparison takes hours. */
export const MAX_COMPARE_RUNS = 2_000_000;

export async function compareCommand(args: CompareArgs, io: CliIO): Promise<number> {
  try {
    return await compare(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

async function compare(args: CompareArgs, io: CliIO): Promise<number> {
  if (args.policies.length === 0) throw new UsageError('compare needs at least one --policy FILE (a JobSpec or a deployment block)');
  const loaded = await readScenario(args.scenario, io);
  if (loaded === null) return ExitCode.BadInput;
  const { scenario, source, inputs } = loaded;
  const policies: PolicyInput[] = [];
  for (const file of args.policies) policies.push({ label: labelOf(file, args.policies), job: await readPolicy(file, scenario, io) });
  const runs = args.runs ?? DEFAULT_COMPARE_RUNS;
  const seed = args.seed ?? scenario.seed;
  checkRunCount(seed, runs, policies.length * playedCases(scenario).length);
  const total = runs * policies.length * playedCases(scenario).length;
  const reportFile = args.report === undefined ? null : openReportFile(args.report, [...inputs, ...args.policies], io);
  const progress = progressOn(io, 'comparing');
  let done = 0;
  try {
    const comparison = await comparePolicies(scenario, policies, {
      runs,
      seed,
      onRuns: (n) => {
        done += n;
        progress.update(done, total, '');
      },
    }).finally(() => progress.stop());
    reportFile?.write(renderReport(policiesReport(source, scenario.description, [comparisonTable(comparison)])));
    io.stdout.write(args.json ? compareJson(comparison) : compareReport(source, scenario.description, comparison, colorsFor(io.stdout, io.env)));
    return ExitCode.Ok;
  } catch (error) {
    reportFile?.discard();
    if (error instanceof ScenarioRunError) throw InputError.single(source, error.message, error.path);
    throw error;
  }
}

/** The file name, or the whole path when two policies share a name. */
function labelOf(file: string, all: readonly string[]): string {
  const name = basename(file);
  return all.filter((other) => basename(other) === name).length > 1 ? file : name;
}

export function checkRunCount(seed: number, runs: number, series: number): void {
  if (seed + runs - 1 > Number.MAX_SAFE_INTEGER) throw new UsageError(`--seed ${seed} with --runs ${runs} goes past ${Number.MAX_SAFE_INTEGER}`);
  if (runs * series > MAX_COMPARE_RUNS) {
    throw new UsageError(`--runs ${runs} for ${series} series (policies x release cases) is ${runs * series} simulated runs; the limit is ${MAX_COMPARE_RUNS}`);
  }
}
