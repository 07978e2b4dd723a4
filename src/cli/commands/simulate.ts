/**
 * `simulate SCENARIO [--seed N] [--runs N] [--json] [--trace FILE|-] [--by LABEL]`:
 * a what-if rollout in virtual time (contract §8, §9), returned as data for
 * program.ts to print. Bad input of any kind (the scenario, a JobSpec it
 * names, the options, a fleet too large for this process, a trace path that
 * is one of the run's inputs) is refused before the run starts; the outcome
 * of the rollout, whatever it is, is a successful simulation.
 *
 * The trace and the HTML report are the outputs written here: the trace as
 * the run goes (a trace of a large fleet holds millions of lines and is never
 * held whole), the report once the run is over (src/report, simulateReport.ts).
 */
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Aggregate } from '../../sim/aggregate.js';
import { fleetTooLarge } from '../../sim/capacity.js';
import { MAX_RUNS, monteCarlo } from '../../sim/monteCarlo.js';
import type { SimResult } from '../../sim/result.js';
import { runScenario, ScenarioRunError, type RunProgress } from '../../sim/run.js';
import { RELEASE_NAMES, withRelease, type ReleaseName } from '../../sim/releaseCases.js';
import { loadScenario, type Scenario, type SourcedProblem } from '../../sim/scenario.js';
import { traceWriter, type TraceWriter } from '../../sim/trace.js';
import { InputError, RunError, UsageError } from '../errors.js';
import { readInput, STDIN_SOURCE } from '../input.js';
import type { CliIO } from '../io.js';
import { openReportFile } from '../reportFile.js';
import { jobFileReader, SCENARIO_INPUT } from '../scenarioInput.js';
import { seriesReport, singleRunReport } from './simulateReport.js';

export interface SimulateArgs {
  scenario: string;
  seed?: number;
  runs?: number;
  json?: boolean;
  /** A file, or `-` for standard output. */
  trace?: string;
  /** A label to break the failures down by. */
  by?: string;
  /** Writes the run (or the series) as a self-contained HTML page. */
  report?: string;
  /** Play this release case in every run (scenario `releases`). */
  release?: string;
}

/** Where the command reports how far it is (print/progress.ts); the default reports nothing. */
export interface ProgressSink {
  runs(done: number, total: number): void;
  run(progress: RunProgress): void;
  stop(): void;
}

const SILENT: ProgressSink = { runs: () => {}, run: () => {}, stop: () => {} };

interface Loaded {
  source: string;
  description: string | null;
  warnings: SourcedProblem[];
}

export type SimulateOutcome =
  | (Loaded & { ok: false; errors: SourcedProblem[] })
  | (Loaded & { ok: true; kind: 'run'; result: SimResult; /** The trace went to standard output: the summary must not. */ traceOnStdout: boolean })
  | (Loaded & { ok: true; kind: 'runs'; aggregate: Aggregate });

/** @throws InputError / UsageError for bad input (exit 2), RunError when the trace cannot be written (exit 1). */
export async function simulateCommand(args: SimulateArgs, io: CliIO, progress: ProgressSink = SILENT): Promise<SimulateOutcome> {
  checkOptions(args);
  const input = await readInput(args.scenario, SCENARIO_INPUT, io);
  const inputs = input.source === STDIN_SOURCE ? [] : [resolve(io.cwd, args.scenario)];
  const load = await loadScenario(input.bytes, input.source, jobFileReader(io, inputs), (nodes) => fleetTooLarge(nodes));
  if (!load.ok) return { ok: false, source: input.source, description: null, warnings: load.warnings, errors: load.errors };
  const scenario = args.release === undefined ? load.scenario : releaseOnly(load.scenario, args.release, input.source);
  const loaded: Loaded = { source: input.source, description: scenario.description, warnings: load.warnings };
  const submits = scenario.events.filter((event) => event.type === 'submit').length;
  const joined = scenario.events.reduce((sum, event) => sum + (event.type === 'join' ? event.nodes.length : 0), 0);
  const tooLarge = fleetTooLarge(scenario.fleet.length + joined, submits);
  if (tooLarge !== null) throw InputError.single(input.source, tooLarge, 'fleet');

  const seed = args.seed ?? scenario.seed;
  const by = args.by === undefined ? {} : { by: args.by };
  const reportFile = args.report === undefined ? null : openReportFile(args.report, [...inputs, args.trace], io);
  try {
    if (args.runs !== undefined) {
      if (seed + args.runs - 1 > Number.MAX_SAFE_INTEGER) throw new UsageError(`--seed ${seed} with --runs ${args.runs} goes past ${Number.MAX_SAFE_INTEGER}`);
      const report = reportFile === null ? null : seriesReport(reportFile, input.source, scenario);
      const aggregate = await monteCarlo(scenario, { runs: args.runs, seed, onProgress: progress.runs, onRun: report?.onRun, ...by }).finally(progress.stop);
      report?.write(aggregate);
      return { ...loaded, ok: true, kind: 'runs', aggregate };
    }
    const trace = args.trace === undefined ? null : openTrace(args.trace, inputs, io);
    const report = reportFile === null ? null : singleRunReport(reportFile, input.source, scenario);
    const sinks = [trace?.sink, report?.sink].filter((sink) => sink !== undefined);
    try {
      const { result } = runScenario(scenario, { seed, trace: sinks.length < 2 ? sinks[0] : (event) => sinks.forEach((sink) => sink(event)), onProgress: progress.run, ...by });
      trace?.flush();
      report?.write(result);
      return { ...loaded, ok: true, kind: 'run', result, traceOnStdout: args.trace === '-' };
    } finally {
      progress.stop();
      trace?.close();
    }
  } catch (error) {
    reportFile?.discard();
    if (error instanceof ScenarioRunError) throw InputError.single(input.source, error.message, error.path);
    throw error;
  }
}

function checkOptions(args: SimulateArgs): void {
  if (args.trace !== undefined && args.runs !== undefined) {
    throw new UsageError('--trace records a single run: drop --runs, or replay run i of the series with --seed SEED+i --trace FILE');
  }
  if (args.runs !== undefined && args.runs > MAX_RUNS) {
    throw new UsageError(`--runs ${args.runs}: at most ${MAX_RUNS.toLocaleString('en-US')} runs in one series (split larger studies by --seed)`);
  }
  if (args.by !== undefined && args.by.trim() === '') throw new UsageError('--by expects a label key, such as --by region');
}

function releaseOnly(scenario: Scenario, name: string, source: string): Scenario {
  if (!(RELEASE_NAMES as readonly string[]).includes(name)) throw new UsageError(`--release expects good or bad, found "${name}"`);
  const only = withRelease(scenario, name as ReleaseName);
  if (only === null) throw InputError.single(source, `has no ${name} release case (releases.${name}) for --release ${name}`, 'releases');
  return only;
}

/**
 * `-` is standard output. A file is opened before the run, so one that cannot
 * be written is bad input reported at once; it is never one of the run's
 * inputs (the scenario or a JobSpec it names, compared by device and inode,
 * so another path to the same file is caught too).
 */
function openTrace(file: string, inputs: readonly string[], io: CliIO): TraceWriter & { close: () => void } {
  if (file === '-') return { ...traceWriter((text) => io.stdout.write(text)), close: () => {} };
  const path = resolve(io.cwd, file);
  const input = inputs.find((candidate) => sameFile(candidate, path));
  if (input !== undefined) {
    throw new UsageError(`--trace ${file}: is an input of this run (${input === inputs[0] ? 'the scenario' : 'a JobSpec it names'}); write the trace to another file`);
  }
  const problem = (error: unknown): string => `cannot write the trace: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw InputError.single(file, problem(error));
  }
  const writer = traceWriter((text) => {
    try {
      writeFully(fd, text);
    } catch (error) {
      throw new RunError(`${file}: ${problem(error)}`);
    }
  });
  return { ...writer, close: () => closeSync(fd) };
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** `writeSync` may write part of its bytes (a full disk): write the rest until it throws. */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}
