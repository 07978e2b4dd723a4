/** `targets FILE --fleet FLEET`: the nodes a JobSpec would target, in rollout order (contract §3, §8). */
import { canarySize } from '../../../machines/index.js';
import { compileMatcher, rolloutOrder, selectTargets, type FleetNode } from '../../selector/index.js';
import { loadJobSpec } from '../../spec/index.js';
import type { JobSpec, Problem } from '../../spec/types.js';
import { InputError, UsageError } from '../errors.js';
import { readFleetFile } from '../fleetFile.js';
import { JOBSPEC_INPUT, readInput } from '../input.js';
import type { CliIO } from '../io.js';

export interface TargetsOutcome {
  jobSource: string;
  fleetSource: string;
  spec: JobSpec;
  /** The JobSpec's validation warnings. */
  warnings: Problem[];
  fleetSize: number;
  /** Eligible nodes (connected and matching), in rollout order. */
  targets: FleetNode[];
  /** Under `canary`, the first this many targets are the canary group (contract §5); else 0. */
  canaries: number;
  /** Nodes that match the selector but are disconnected, so not targeted; in rollout order. */
  disconnected: FleetNode[];
}

/** @throws InputError for an unreadable file, an invalid JobSpec or an invalid fleet. */
export async function targetsCommand(args: { file: string; fleet: string }, io: CliIO): Promise<TargetsOutcome> {
  if (args.file === '-' && args.fleet === '-') {
    throw new UsageError('FILE and --fleet cannot both be "-": standard input holds only one of them');
  }
  const job = await readInput(args.file, JOBSPEC_INPUT, io);
  const validation = loadJobSpec(job.bytes, job.source);
  if (!validation.valid) throw new InputError(job.source, validation.errors);

  const fleetInput = await readFleetFile(args.fleet, io);
  const fleet = fleetInput.nodes;
  const { selector, deployment } = validation.spec;
  const matches = compileMatcher(selector);
  const targets = selectTargets(selector, fleet);
  return {
    jobSource: job.source,
    fleetSource: fleetInput.source,
    spec: validation.spec,
    warnings: validation.warnings,
    fleetSize: fleet.length,
    targets,
    canaries: deployment.strategy === 'canary' ? canarySize(targets.length, deployment.canary_count, deployment.canary_percent) : 0,
    disconnected: rolloutOrder(fleet.filter((node) => !node.connected && matches(node))),
  };
}
