/**
 * Reading what `simulate`, `compare` and `tune` take: a scenario (with the JobSpec files
 * it names) and policy files. Every problem names its file and field and
 * ends in an `InputError` (exit 2); warnings go to standard error at once.
 */
import { resolve } from 'node:path';
import { sameSpec } from '../engine/index.js';
import { loadScenario, type ReadJobFile, type Scenario, type SourcedProblem } from '../sim/scenario.js';
import { policyJob } from '../sim/policy.js';
import { parseDocument } from '../spec/index.js';
import type { JobSpec } from '../spec/types.js';
import { InputError } from './errors.js';
import { JOBSPEC_INPUT, readInput, STDIN_SOURCE, type InputKind } from './input.js';
import type { CliIO } from './io.js';
import { formatProblem } from './print/problems.js';

/** Scenarios write large fleets as generated groups; explicit nodes take ~60 bytes each. */
export const SCENARIO_INPUT: InputKind = { noun: 'a scenario', maxBytes: 8 * 1024 * 1024 };

export interface LoadedScenario {
  source: string;
  scenario: Scenario;
  /** The files read (the scenario unless it came on standard input, and each JobSpec it names), resolved: what `--report` must never overwrite. */
  inputs: string[];
}

/** The scenario, or null once its problems (which may be in several files) are on standard error: bad input. */
export async function readScenario(file: string, io: CliIO): Promise<LoadedScenario | null> {
  const input = await readInput(file, SCENARIO_INPUT, io);
  const inputs = input.source === STDIN_SOURCE ? [] : [resolve(io.cwd, file)];
  const load = await loadScenario(input.bytes, input.source, jobFileReader(io, inputs));
  writeProblems(load.warnings, io);
  if (!load.ok) {
    writeProblems(load.errors, io);
    return null;
  }
  return { source: input.source, scenario: load.scenario, inputs };
}

/** A policy file: a JobSpec, or a deployment block merged onto the scenario's job (src/sim/policy.ts). */
export async function readPolicy(file: string, scenario: Scenario, io: CliIO): Promise<JobSpec> {
  const input = await readInput(file, JOBSPEC_INPUT, io);
  const document = parseDocument(input.bytes, input.source);
  if (!document.ok) throw new InputError(input.source, [document.problem]);
  const load = policyJob(document.value, scenario.job);
  writeProblems(load.warnings.map((problem) => ({ ...problem, source: input.source })), io);
  if (!load.ok) throw new InputError(input.source, load.errors);
  if (scenario.previous !== null && sameSpec(scenario.previous, load.job)) {
    throw InputError.single(input.source, "is the scenario's previous version (once normalized): the engine would report it unchanged and nothing would roll out");
  }
  return load.job;
}

/** JobSpec files named by the scenario, read like any FILE argument (relative to the working directory); each one read is recorded in `inputs`. */
export function jobFileReader(io: CliIO, inputs: string[]): ReadJobFile {
  return async (file) => {
    try {
      const bytes = (await readInput(file, JOBSPEC_INPUT, io)).bytes;
      inputs.push(resolve(io.cwd, file));
      return { ok: true, bytes };
    } catch (error) {
      if (error instanceof InputError) return { ok: false, message: error.problems.map((problem) => problem.message).join('; ') };
      throw error;
    }
  };
}

function lineOf(problem: SourcedProblem): string {
  return problem.path === '' && problem.message.startsWith(`${problem.source}:`) ? problem.message : formatProblem(problem.source, problem);
}

function writeProblems(problems: readonly SourcedProblem[], io: CliIO): void {
  if (problems.length > 0) io.stderr.write(`${problems.map(lineOf).join('\n')}\n`);
}
