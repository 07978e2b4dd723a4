/**
 * The deployment room's face: the room itself (`send(event) -> Effect[]`),
 * the effects it returns, its vocabulary, the lifecycle definitions everyone
 * shares, and the rules the CLI and the engine's inspection also show.
 * The room imports nothing of the engine shell; the shell imports this.
 */
export { DeploymentRoom, type DeploymentView, type RoomEvent } from './room.js';
export type { Effect } from './effects.js';
export type { NewDeployment, NodeRecord, RoomPorts } from './context.js';
export type { DeploymentSnapshot } from './snapshot.js';
export type { ExecutionReading, HealthReading } from './judging.js';
export { isAtRest, isLive, isTerminal, beginsRollback, waitsForOperator } from './lifecycle.js';
export { DEFAULT_REVERT_DEADLINE_MS, rolloutPolicy, type RolloutPolicy } from './policy.js';
export { currentGroup } from './steps.js';
export { canarySize } from './rules/strategies.js';
export { carriedExposure } from './rules/failure.js';
export * from './vocabulary.js';
