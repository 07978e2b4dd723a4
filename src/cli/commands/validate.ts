/** `validate FILE`: the JobSpec's validation result as data (contract §2, §8). */
import { loadJobSpec } from '../../spec/index.js';
import type { ValidationResult } from '../../spec/types.js';
import { JOBSPEC_INPUT, readInput } from '../input.js';
import type { CliIO } from '../io.js';

export interface ValidateOutcome {
  /** The file as named on the command line, or `<stdin>`. */
  source: string;
  result: ValidationResult;
}

/** @throws InputError when the file cannot be read (a spec that does not parse is an invalid result, not an error). */
export async function validateCommand(args: { file: string }, io: CliIO): Promise<ValidateOutcome> {
  const { source, bytes } = await readInput(args.file, JOBSPEC_INPUT, io);
  return { source, result: loadJobSpec(bytes, source) };
}
