/**
 * A private detail of the room's `send` (room.ts), guarded by an equivalence
 * property (test/engine-resolve-in-place.test.ts).
 * A node resolving (stable or failed) is most of a rollout's machine events,
 * and most of them cannot change the phase: the window refills and the rollout
 * goes on. Those are settled here, on the context, with exactly the steps the
 * machine's transition would run (deployment.ts, `judging` and `completed`),
 * without an XState macrostep (measured: ~5-15 µs a step against ~1 µs here).
 * Whenever the event might change the phase (the failure rule would break,
 * the group or the rollout might be complete), it is left to the machine.
 *
 * Keep in step with deployment.ts: `phaseOf` names the states whose handling
 * of `node.stable` / `node.failed` is copied below.
 */
import type { StateValue } from 'xstate';
import type { DeploymentData, NodeRecord } from './context.js';
import * as step from './steps.js';
import type { NodeFailureReason } from './vocabulary.js';

/**
 * How the machine's current state handles a node resolving:
 * - `rolling` / `canary`: mark it, refill the window (up to the whole order /
 *   the canary group), then the `always` check for the end of that group;
 * - `holding` (paused, awaiting_promotion): mark it, start nothing;
 * - `completed`: mark it (a late joiner), no failure rule;
 * - `machine`: anything else goes through the machine.
 */
export type ResolvePhase = 'rolling' | 'canary' | 'holding' | 'completed' | 'machine';

export function phaseOf(value: StateValue): ResolvePhase {
  if (value === 'completed') return 'completed';
  if (typeof value !== 'object') return 'machine';
  const live = value['live'];
  if (live === 'paused') return 'holding';
  if (live === undefined || typeof live !== 'object') return 'machine';
  const inProgress = live['in_progress'];
  if (inProgress === 'rolling') return 'rolling';
  if (inProgress === 'canary') return 'canary';
  if (inProgress === 'awaiting_promotion') return 'holding';
  return 'machine';
}

/**
 * Settles `node` (updating, its `record`) as stable, or failed with `reason`, when that
 * cannot change the phase; false, with the context untouched, when the
 * machine must take the event. Effects go to `io.out` as the machine's would.
 */
export function resolveInPlace(
  phase: ResolvePhase,
  d: DeploymentData,
  node: string,
  record: NodeRecord,
  reason: NodeFailureReason | null,
  now: number,
  slots: number,
): boolean {
  if (phase === 'machine') return false;
  if (phase !== 'completed' && reason !== null && step.oneMoreFailureBreaksRule(d)) return false;
  // After marking, another node still updating keeps `canariesResolved` / `allResolved` false, whatever the fill starts.
  if ((phase === 'rolling' || phase === 'canary') && d.counts.updating < 2) return false;
  if (reason === null) step.markStable(d, node, record);
  else step.markFailed(d, node, reason, record);
  if (phase === 'rolling') step.fillWindow(d, now, slots, 'all');
  else if (phase === 'canary') step.fillWindow(d, now, slots, 'canaries');
  return true;
}
