/**
 * `fleet-rollout/testing`: test a rollout policy against the real engine in
 * virtual time. See docs/testing.md.
 */
export { createHarness, Harness, HarnessTimeoutError, InvalidJobSpecError, type HarnessOptions, type NodeInput, type SpecInput, type UntilTarget } from './harness.js';
export { HealthScript, NodeScript, type DurationSpread } from './healthScript.js';
export { DEFAULT_BEHAVIOR, type NodeBehavior, type Spread } from './behavior.js';
export type { ExecutorCall } from './scriptedFleet.js';
export type { Duration } from './time.js';
export type { TraceEvent, TraceType } from '../sim/trace.js';
export { expectTrace, expectNoTrace, describeTrace, matching, TraceAssertionError, type TracePattern } from './traceAssertions.js';
export {
  INVARIANTS,
  checkInvariants,
  isAtRest,
  expectedCanaries,
  immediateStartsEveryTarget,
  windowNeverExceedsMaxParallel,
  canaryGroupHasContractSize,
  promotionFollowsPolicy,
  noStartAfterFailure,
  failureRuleFiresAtFirstBreak,
  rollbackRevertsEveryExposedNode,
  everyDeploymentEndsOrWaits,
  terminalStatesAreFinal,
  supersededLeavesNoOrphans,
  globalCapHolds,
  type Invariant,
  type RolloutRecord,
  type Violation,
} from './invariants/index.js';
export {
  fleetArb,
  jobSpecArb,
  behaviorArb,
  eventsArb,
  rolloutScenarioArb,
  goSeconds,
  nodeId,
  EVENT_KINDS,
  type FleetArbOptions,
  type JobSpecArbOptions,
  type JobSpecInput,
  type EventsArbOptions,
  type EventKind,
  type ScheduledEvent,
  type RolloutScenario,
  type ScenarioArbOptions,
} from './arbitraries.js';
export { runRollout, type RolloutRun, type RunOptions } from './rollout.js';
