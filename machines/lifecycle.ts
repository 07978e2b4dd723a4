/**
 * One definition of where a deployment stands in its life (contract §7), used
 * by the room, the engine's command rules, the simulator, the harness and its
 * invariants (public: re-exported by the engine). A state is taken as a
 * string, so a state read from a trace can be asked about as it is.
 */
import type { DeploymentState, NodeState } from './vocabulary.js';

/** The status reason of a canary phase that waits for evidence (§5 v1.1): at rest, like `pending`. */
export const NO_CANARY_EVIDENCE = 'no_canary_evidence';

const LIVE: ReadonlySet<string> = new Set(['pending', 'in_progress', 'paused', 'awaiting_promotion']);
const TERMINAL: ReadonlySet<string> = new Set(['completed', 'rolled_back', 'canceled', 'failed']);
const WAITS_FOR_OPERATOR: ReadonlySet<string> = new Set(['awaiting_promotion', 'paused']);

/** Still rolling out: it starts and judges nodes, and can be paused or aborted (neither failed, rolling back nor ended). */
export function isLive(state: DeploymentState | string): boolean {
  return LIVE.has(state);
}

/**
 * §7: the deployment does nothing more on its own; its state never changes
 * again. `failed` is terminal when no rollback follows: a rollback begins in
 * the very input that failed the deployment (`failed` then `rolling_back`),
 * so between two inputs a deployment that reads `failed` stays so.
 */
export function isTerminal(state: DeploymentState | string): boolean {
  return TERMINAL.has(state);
}

/** The one step out of a terminal state: a failure that goes on to its rollback (§6), within the same input. */
export function beginsRollback(from: DeploymentState | string, to: DeploymentState | string): boolean {
  return from === 'failed' && to === 'rolling_back';
}

/** Waits for an operator's command: `promote` (awaiting_promotion) or `resume` / `abort` (paused). */
export function waitsForOperator(state: DeploymentState | string): boolean {
  return WAITS_FOR_OPERATOR.has(state);
}

/**
 * At rest: the deployment cannot move without an operator, a new node or a
 * new version. Nodes still updating are judged even while paused (§7) or
 * after completion (a pipeline's late joiner), so a deployment rests only
 * once none is updating or reverting.
 */
export function isAtRest(status: { state: DeploymentState | string; reason?: string | null; counts: Pick<Record<NodeState, number>, 'updating' | 'reverting'> }): boolean {
  const { state, counts } = status;
  // §5 v1.1: a canary phase without a stable canary waits, like `pending`, for a node or an operator.
  const waitsForEvidence = state === 'in_progress' && status.reason === NO_CANARY_EVIDENCE;
  return (isTerminal(state) || waitsForOperator(state) || state === 'pending' || waitsForEvidence) && counts.updating === 0 && counts.reverting === 0;
}
