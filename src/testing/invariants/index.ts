/** Every invariant of the contract, and a runner for them; see record.ts for what they read. */
import type { Invariant, RolloutRecord, Violation } from './record.js';
import { windowNeverExceedsMaxParallel, globalCapHolds, immediateStartsEveryTarget, expectedCanaries, canaryGroupHasContractSize, promotionFollowsPolicy } from './strategies.js';
import { noStartAfterFailure, failureRuleFiresAtFirstBreak, rollbackRevertsEveryExposedNode, rollbackRestoresEveryNode } from './failure.js';
import { everyDeploymentEndsOrWaits, terminalStatesAreFinal, supersededLeavesNoOrphans } from './lifecycle.js';

export { isAtRest, type Invariant, type RolloutRecord, type Violation } from './record.js';
export { windowNeverExceedsMaxParallel, globalCapHolds, immediateStartsEveryTarget, expectedCanaries, canaryGroupHasContractSize, promotionFollowsPolicy, noStartAfterFailure, failureRuleFiresAtFirstBreak, rollbackRevertsEveryExposedNode, rollbackRestoresEveryNode, everyDeploymentEndsOrWaits, terminalStatesAreFinal, supersededLeavesNoOrphans };

/** Every invariant, in contract order. */
export const INVARIANTS: Readonly<Record<string, Invariant>> = {
  immediateStartsEveryTarget,
  windowNeverExceedsMaxParallel,
  canaryGroupHasContractSize,
  promotionFollowsPolicy,
  noStartAfterFailure,
  failureRuleFiresAtFirstBreak,
  rollbackRevertsEveryExposedNode,
  rollbackRestoresEveryNode,
  everyDeploymentEndsOrWaits,
  terminalStatesAreFinal,
  supersededLeavesNoOrphans,
  globalCapHolds,
};

/** Runs every invariant (or the named ones) and returns all violations. */
export function checkInvariants(record: RolloutRecord, only?: readonly (keyof typeof INVARIANTS)[]): Violation[] {
  const names = only ?? Object.keys(INVARIANTS);
  return names.flatMap((name) => INVARIANTS[name]!(record));
}
