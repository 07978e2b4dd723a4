/**
 * `simulate SCENARIO [--seed N] [--runs N] [--json] [--trace FILE]`: a what-if
 * rollout in virtual time (contract §8, §9). Bad input of any kind (the
 * scenario, a JobSpec it names, the options) exits 2 with `file: path:
 * message` lines on standard error; the outcome of the rollout, whatever it
 * is, is a successful simulation (exit 0).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { monteCarlo } from '../../sim/monteCarlo.js';
import { runScenario, ScenarioRunError } from '../../sim/run.js';
import { loadScenario, type ReadJobFile, type SourcedProblem } from '../../sim/scenario.js';
import { traceWriter, type TraceWriter } from '../../sim/trace.js';
import { ExitCode, InputError, reportError, RunError, UsageError } from '../errors.js';
import { JOBSPEC_INPUT, readInput, type InputKind } from '../input.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { formatProblem } from '../print/problems.js';
import { aggregateJson, aggregateReport, resultJson, resultReport } from '../print/simulate.js';

export interface SimulateArgs {
  scenario: string;
  seed?: number;
  runs?: number;
  json: boolean;
  trace?: string;
}

/** Scenarios write large fleets as generated groups; explicit nodes take ~60 bytes each. */
const SCENARIO_INPUT: InputKind = { noun: 'a scenario', maxBytes: 8 * 1024 * 1024 };

export async function simulateCommand(args: SimulateArgs, io: CliIO): Promise<number> {
  try {
    return await simulate(args, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** `--runs N` (any N) asks for the aggregate of §8; without it, one run is described. */
async function simulate(args: SimulateArgs, io: CliIO): Promise<number> {
  if (args.trace !== undefined && args.runs !== undefined) {
    throw new UsageError('--trace records a single run: drop --runs, or replay run i of the series with --seed SEED+i --trace FILE');
  }
  const input = await readInput(args.scenario, SCENARIO_INPUT, io);
  const load = await loadScenario(input.bytes, input.source, jobFileReader(io));
  writeProblems(load.warnings, io);
  if (!load.ok) {
    writeProblems(load.errors, io);
    return ExitCode.BadInput;
  }
  const { scenario } = load;
  const seed = args.seed ?? scenario.seed;
  const runs = args.runs;
  if (runs !== undefined && seed + runs - 1 > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`--seed ${seed} with --runs ${runs} goes past ${Number.MAX_SAFE_INTEGER}`);
  }
  const colors = colorsFor(io.stdout, io.env);
  try {
    if (runs !== undefined) {
      const progress = progressBar(io, runs);
      const aggregate = await monteCarlo(scenario, { runs, seed, onProgress: progress?.update }).finally(() => progress?.stop());
      io.stdout.write(args.json ? aggregateJson(aggregate) : aggregateReport(input.source, scenario.description, aggregate, colors));
      return ExitCode.Ok;
    }
    const traceFile = args.trace === undefined ? null : openTraceFile(args.trace, io);
    try {
      const { result } = runScenario(scenario, { seed, trace: traceFile?.sink });
      traceFile?.flush();
      io.stdout.write(args.json ? resultJson(result) : resultReport(input.source, scenario.description, result, colors));
      return ExitCode.Ok;
    } finally {
      traceFile?.close();
    }
  } catch (error) {
    if (error instanceof ScenarioRunError) throw InputError.single(input.source, error.message, error.path);
    throw error;
  }
}

/** JobSpec files named by the scenario, read like any FILE argument (relative to the working directory). */
function jobFileReader(io: CliIO): ReadJobFile {
  return async (file) => {
    try {
      return { ok: true, bytes: (await readInput(file, JOBSPEC_INPUT, io)).bytes };
    } catch (error) {
      if (error instanceof InputError) return { ok: false, message: error.problems.map((problem) => problem.message).join('; ') };
      throw error;
    }
  };
}

/** A document that does not parse already names its file and position (`sim.yaml:3:7: ...`). */
function writeProblems(problems: readonly SourcedProblem[], io: CliIO): void {
  if (problems.length === 0) return;
  const lines = problems.map((problem) =>
    problem.path === '' && problem.message.startsWith(`${problem.source}:`) ? problem.message : formatProblem(problem.source, problem),
  );
  io.stderr.write(`${lines.join('\n')}\n`);
}

/**
 * Opened before the run, so a trace file that cannot be written is bad input
 * reported at once; the run's lines go to it as they are made (a trace of a
 * large fleet holds millions of lines: it is never held whole).
 */
function openTraceFile(file: string, io: CliIO): TraceWriter & { close: () => void } {
  const problem = (error: unknown): string => `cannot write the trace: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  let fd: number;
  try {
    fd = openSync(resolve(io.cwd, file), 'w');
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

/** `writeSync` may write part of its bytes (a full disk): write the rest until it throws. */
function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
}

/** A progress bar on standard error, only when it is a terminal. */
function progressBar(io: CliIO, total: number): { update: (done: number) => void; stop: () => void } | null {
  if (!io.stderr.isTTY) return null;
  const stream = { write: (text: string) => io.stderr.write(text), isTTY: true, columns: 80 };
  const bar = new SingleBar({
    stream: stream as unknown as NodeJS.WritableStream,
    format: 'simulating {bar} {value}/{total} runs, {eta_formatted} left',
    hideCursor: true,
    clearOnComplete: true,
  });
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
