/** `validate FILE [--fleet FLEET]`: the JobSpec's validation result and what its policy means, as data (contract §2, §4-§6, §8). */
import { selectTargets } from '../../selector/index.js';
import { explainPolicy, loadJobSpec, type PolicyExplanation } from '../../spec/index.js';
import type { ValidationResult } from '../../spec/types.js';
import { UsageError } from '../errors.js';
import { readFleetFile } from '../fleetFile.js';
import { JOBSPEC_INPUT, readInput } from '../input.js';
import type { CliIO } from '../io.js';

export interface ValidateOutcome {
  /** The file as named on the command line, or `<stdin>`. */
  source: string;
  result: ValidationResult;
  /** For a valid spec: how nodes are judged and what each phase tolerates (on the fleet, when one is given). */
  policy?: PolicyExplanation;
  /** The FLEET file as named, when one was given and read. */
  fleetSource?: string;
}

/**
 * @throws InputError when a file cannot be read, or the fleet is invalid (a
 * spec that does not parse is an invalid result, not an error; the fleet is
 * read only for a valid spec).
 */
export async function validateCommand(args: { file: string; fleet?: string }, io: CliIO): Promise<ValidateOutcome> {
  if (args.file === '-' && args.fleet === '-') {
    throw new UsageError('FILE and --fleet cannot both be "-": standard input holds only one of them');
  }
  const { source, bytes } = await readInput(args.file, JOBSPEC_INPUT, io);
  const result = loadJobSpec(bytes, source);
  if (!result.valid) return { source, result };
  if (args.fleet === undefined) return { source, result, policy: explainPolicy(result.spec) };
  const fleet = await readFleetFile(args.fleet, io);
  const targeted = selectTargets(result.spec.selector, fleet.nodes).length;
  return { source, result, policy: explainPolicy(result.spec, targeted), fleetSource: fleet.source };
}
