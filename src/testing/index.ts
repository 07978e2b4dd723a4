/**
 * `fleet-rollout/testing`: test a rollout policy against the real engine in
 * virtual time. See docs/testing.md.
 */
export {
  createHarness,
  Harness,
  HarnessStuckError,
  HarnessTimeoutError,
  InvalidJobSpecError,
  type ExecutorCall,
  type HarnessOptions,
  type NodeInput,
  type ScheduledCommand,
  type SpecInput,
  type UntilTarget,
} from './harness.js';
export { HealthScript, NodeScript } from './healthScript.js';
export { DEFAULT_BEHAVIOR, type HealthStep, type NodeBehavior, type OnStart, type Spread } from './behavior.js';
export type { Duration } from './time.js';
export type { TraceEvent, TraceType } from '../sim/trace.js';
export { expectTrace, expectNoTrace, describeTrace, matching, checkPattern, TraceAssertionError, type TracePattern, type TraceFields, type TraceEventOf } from './traceAssertions.js';
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
export { runRollout, outcomeLabel, type RolloutRun, type RunOptions } from './rollout.js';
export { replayJournal, type ReplayResult, type Divergence } from './replay.js';
