/**
 * The CLI's named errors and the one place that turns any error into an exit
 * code (contract §8: 0 success, 1 the run itself broke, 2 bad input).
 */
import { CommanderError } from 'commander';
import type { Problem } from '../spec/types.js';
import type { CliIO } from './io.js';
import { formatProblem } from './print/problems.js';
import { safeLines, safeText } from './print/safeText.js';

export const ExitCode = { Ok: 0, RunFailed: 1, BadInput: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad input: each problem names the file (`source`) and, when there is one, the field. Exit 2. */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly problems: Problem[],
  ) {
    super(problems.map((problem) => formatProblem(source, problem)).join('\n'));
    this.name = 'InputError';
  }

  static single(source: string, message: string, path = ''): InputError {
    return new InputError(source, [{ path, message }]);
  }
}

/** Command-line misuse that commander cannot see (e.g. two `-` arguments). Exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The run itself broke in a way we understand (not bad input, not a bug). Exit 1. */
export class RunError extends Error {
  override name = 'RunError';
}

/** At most this many problem lines reach the terminal; the rest are counted. */
const MAX_PRINTED_PROBLEMS = 20;

/** Prints `error` on standard error (no stack unless FLEET_ROLLOUT_DEBUG=1) and returns its exit code. */
export function reportError(error: unknown, io: CliIO): ExitCode {
  if (error instanceof CommanderError) {
    // Commander has already written its message (or the help/version text).
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput;
  }
  if (error instanceof InputError) {
    const shown = error.problems.slice(0, MAX_PRINTED_PROBLEMS).map((problem) => formatProblem(error.source, problem));
    const hidden = error.problems.length - shown.length;
    if (hidden > 0) shown.push(`${safeText(error.source)}: ... and ${hidden} more problems`);
    io.stderr.write(`${shown.join('\n')}\n`);
    return ExitCode.BadInput;
  }
  if (error instanceof UsageError) {
    io.stderr.write(`fleet-rollout: ${safeLines(error.message)}\n`);
    return ExitCode.BadInput;
  }
  const debug = io.env.FLEET_ROLLOUT_DEBUG === '1';
  if (error instanceof RunError) {
    io.stderr.write(`fleet-rollout: ${safeLines(debug && error.stack ? error.stack : error.message)}\n`);
    return ExitCode.RunFailed;
  }
  const detail = error instanceof Error ? (debug && error.stack ? error.stack : error.message) : String(error);
  const hint = debug ? '' : ' (set FLEET_ROLLOUT_DEBUG=1 for the stack trace)';
  io.stderr.write(`fleet-rollout: internal error: ${safeLines(detail)}${hint}\n`);
  return ExitCode.RunFailed;
}
