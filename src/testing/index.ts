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
// The contract's invariants, each a check over a run's trace (see invariants/index.ts).
export * from './invariants/index.js';
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
